"""Addresses as typed (IRIs) to valid URIs: what the redirect may always send."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linktracker.urls.iri import encode_destination, encode_tail, host_to_ascii
from linktracker.urls.query import append_redirect_params

URI = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]])*")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_stored_destination_redirects_to_a_uri(host: str, tail: str) -> None:
    for stored in (f"https://{host}/{tail}", tail):
        sent = append_redirect_params(stored, "lt_cid", "C1", "ref=ü")
        assert URI.fullmatch(sent), sent
        assert encode_destination(encode_destination(stored)) == encode_destination(stored)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("/über-uns", "/%C3%BCber-uns"),
        ("/%C3%BCber-uns", "/%C3%BCber-uns"),
        ("/a b?c d#e f", "/a%20b?c%20d#e%20f"),
        ("/100%", "/100%25"),
        ("/a\\b?c\\d", "/a/b?c%5Cd"),
        ("?q=€&r=+", "?q=%E2%82%AC&r=+"),
        ("#a#b", "#a%23b"),
        ("", ""),
    ],
)
def test_encode_tail(tail: str, expected: str) -> None:
    assert encode_tail(tail) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.DE.", "xn--bcher-kva.de"),
        ("straße.de", "xn--strae-oqa.de"),
        ("ｅｘａｍｐｌｅ.com", "example.com"),
        ("bücher。de", "xn--bcher-kva.de"),
        ("Example.COM", "example.com"),
    ],
)
def test_host_to_ascii_converts_as_browsers_do(host: str, expected: str) -> None:
    assert host_to_ascii(host) == expected


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("bücher..de", "'bücher..de' is not a valid internationalised host name."),
        ("exam\u200dple.com", "'exam\u200dple.com' is not a valid internationalised host name."),
        ("exa mple.com", "'exa mple.com' is not a valid host name."),
    ],
)
def test_host_to_ascii_refuses_invalid_hosts(host: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        host_to_ascii(host)
    assert str(excinfo.value) == message
