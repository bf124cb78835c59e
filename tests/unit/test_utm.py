"""UTM merging into destination URLs and the query string added on each redirect."""

from __future__ import annotations

import pytest

from linktracker.urls.query import (
    append_redirect_params,
    merge_utm,
    normalise_utm_value,
    redirect_preview,
)

SRC = {"utm_source": "linkedin"}
FULL = {"utm_source": "linkedin", "utm_medium": "social", "utm_campaign": "spring"}
FULL_QUERY = "utm_source=linkedin&utm_medium=social&utm_campaign=spring"
LONG_PATH = "/" + "a" * 8000
LONG_QUERY = "&".join(f"k{i}=v{i}" for i in range(1000))

MERGE_CASES = [
    # (id, url, params, normalise, expected)
    ("no-query", "https://example.com/p", SRC, True, "https://example.com/p?utm_source=linkedin"),
    ("no-path", "https://example.com", SRC, True, "https://example.com?utm_source=linkedin"),
    ("all-in-order", "https://example.com/", FULL, True, f"https://example.com/?{FULL_QUERY}"),
    (
        "existing-params-kept-first",
        "https://example.com/p?a=1&b=2",
        SRC,
        True,
        "https://example.com/p?a=1&b=2&utm_source=linkedin",
    ),
    (
        "existing-order-preserved",
        "https://example.com/p?z=1&a=2&m=3",
        SRC,
        True,
        "https://example.com/p?z=1&a=2&m=3&utm_source=linkedin",
    ),
    (
        "existing-encoding-untouched",
        "https://example.com/p?q=a+b&r=%7Efoo&s=caf%C3%A9",
        SRC,
        True,
        "https://example.com/p?q=a+b&r=%7Efoo&s=caf%C3%A9&utm_source=linkedin",
    ),
    (
        "unencoded-existing-kept-as-written",
        "https://example.com/p?path=/a/b:c",
        SRC,
        True,
        "https://example.com/p?path=/a/b:c&utm_source=linkedin",
    ),
    (
        "flag-without-value-kept",
        "https://example.com/p?debug&x=",
        SRC,
        True,
        "https://example.com/p?debug&x=&utm_source=linkedin",
    ),
    (
        "repeated-non-utm-kept",
        "https://example.com/p?tag=a&tag=b&tag=a",
        SRC,
        True,
        "https://example.com/p?tag=a&tag=b&tag=a&utm_source=linkedin",
    ),
    (
        "array-style-keys-kept",
        "https://example.com/p?ids[]=1&ids[]=2",
        SRC,
        True,
        "https://example.com/p?ids[]=1&ids[]=2&utm_source=linkedin",
    ),
    (
        "utm-overridden-in-place",
        "https://example.com/p?a=1&utm_source=old&b=2",
        SRC,
        True,
        "https://example.com/p?a=1&utm_source=linkedin&b=2",
    ),
    (
        "utm-duplicates-collapsed",
        "https://example.com/p?utm_source=x&a=1&utm_source=y",
        SRC,
        True,
        "https://example.com/p?utm_source=linkedin&a=1",
    ),
    (
        "utm-override-mixed-with-new",
        "https://example.com/?utm_campaign=old&x=1",
        FULL,
        True,
        "https://example.com/?utm_campaign=spring&x=1&utm_source=linkedin&utm_medium=social",
    ),
    (
        "encoded-utm-key-recognised",
        "https://example.com/?utm%5Fsource=old",
        SRC,
        True,
        "https://example.com/?utm_source=linkedin",
    ),
    (
        "utm-without-value-replaced",
        "https://example.com/?utm_source&a=1",
        SRC,
        True,
        "https://example.com/?utm_source=linkedin&a=1",
    ),
    (
        "other-existing-utm-kept",
        "https://example.com/?utm_term=shoes",
        SRC,
        True,
        "https://example.com/?utm_term=shoes&utm_source=linkedin",
    ),
    (
        "fragment-kept",
        "https://example.com/p#section-2",
        SRC,
        True,
        "https://example.com/p?utm_source=linkedin#section-2",
    ),
    (
        "fragment-after-query",
        "https://example.com/p?a=1#top",
        SRC,
        True,
        "https://example.com/p?a=1&utm_source=linkedin#top",
    ),
    (
        "spa-fragment-with-query-like-text",
        "https://example.com/#/route?x=1",
        SRC,
        True,
        "https://example.com/?utm_source=linkedin#/route?x=1",
    ),
    (
        "empty-fragment-kept",
        "https://example.com/p#",
        SRC,
        True,
        "https://example.com/p?utm_source=linkedin#",
    ),
    (
        "normalised-spaces-become-dashes",
        "https://example.com/",
        {"utm_campaign": "  Spring   Sale 2024 "},
        True,
        "https://example.com/?utm_campaign=spring-sale-2024",
    ),
    (
        "normalised-lowercase",
        "https://example.com/",
        {"utm_source": "LinkedIn"},
        True,
        "https://example.com/?utm_source=linkedin",
    ),
    (
        "opt-out-keeps-case",
        "https://example.com/",
        {"utm_source": "LinkedIn"},
        False,
        "https://example.com/?utm_source=LinkedIn",
    ),
    (
        "opt-out-space-is-%20",
        "https://example.com/",
        {"utm_campaign": "Spring Sale"},
        False,
        "https://example.com/?utm_campaign=Spring%20Sale",
    ),
    (
        "reserved-chars-encoded",
        "https://example.com/",
        {"utm_term": "a&b=c#d+e/f?g%h"},
        True,
        "https://example.com/?utm_term=a%26b%3Dc%23d%2Be%2Ff%3Fg%25h",
    ),
    (
        "unreserved-chars-not-encoded",
        "https://example.com/",
        {"utm_content": "a-b_c.d~e"},
        True,
        "https://example.com/?utm_content=a-b_c.d~e",
    ),
    (
        "unicode-value-utf8",
        "https://example.com/",
        {"utm_campaign": "Été"},
        True,
        "https://example.com/?utm_campaign=%C3%A9t%C3%A9",
    ),
    (
        "unicode-value-cjk",
        "https://example.com/",
        {"utm_campaign": "春"},
        True,
        "https://example.com/?utm_campaign=%E6%98%A5",
    ),
    (
        "idn-host-punycoded",
        "https://bücher.de/angebote",
        SRC,
        True,
        "https://xn--bcher-kva.de/angebote?utm_source=linkedin",
    ),
    (
        "idn-host-with-port-and-userinfo",
        "https://user:pw@bücher.de:8443/",
        SRC,
        True,
        "https://user:pw@xn--bcher-kva.de:8443/?utm_source=linkedin",
    ),
    (
        "idn-host-unicode-path-untouched",
        "https://münchen.example/straße",
        SRC,
        True,
        "https://xn--mnchen-3ya.example/straße?utm_source=linkedin",
    ),
    (
        "ascii-host-left-alone",
        "https://Example.COM/p",
        SRC,
        True,
        "https://Example.COM/p?utm_source=linkedin",
    ),
    (
        "port-kept",
        "http://localhost:8080/p?a=1",
        SRC,
        True,
        "http://localhost:8080/p?a=1&utm_source=linkedin",
    ),
    (
        "ipv6-host-kept",
        "http://[::1]:8080/p",
        SRC,
        True,
        "http://[::1]:8080/p?utm_source=linkedin",
    ),
    (
        "trailing-question-mark",
        "https://example.com/p?",
        SRC,
        True,
        "https://example.com/p?utm_source=linkedin",
    ),
    (
        "trailing-ampersand",
        "https://example.com/p?a=1&",
        SRC,
        True,
        "https://example.com/p?a=1&utm_source=linkedin",
    ),
    (
        "doubled-ampersands",
        "https://example.com/p?&&a=1&&b=2&",
        SRC,
        True,
        "https://example.com/p?a=1&b=2&utm_source=linkedin",
    ),
    (
        "nothing-to-add-cleans-question-mark",
        "https://example.com/p?",
        {},
        True,
        "https://example.com/p",
    ),
    (
        "empty-value-skipped",
        "https://example.com/",
        {"utm_source": "linkedin", "utm_term": ""},
        True,
        "https://example.com/?utm_source=linkedin",
    ),
    (
        "blank-value-skipped-after-normalising",
        "https://example.com/",
        {"utm_source": "linkedin", "utm_term": "   "},
        True,
        "https://example.com/?utm_source=linkedin",
    ),
    (
        "empty-value-does-not-remove-existing",
        "https://example.com/?utm_term=shoes",
        {"utm_term": ""},
        True,
        "https://example.com/?utm_term=shoes",
    ),
    (
        "surrounding-whitespace-of-url-trimmed",
        "  https://example.com/p \n",
        SRC,
        True,
        "https://example.com/p?utm_source=linkedin",
    ),
    (
        "very-long-path",
        f"https://example.com{LONG_PATH}",
        SRC,
        True,
        f"https://example.com{LONG_PATH}?utm_source=linkedin",
    ),
    (
        "very-long-query",
        f"https://example.com/?{LONG_QUERY}&utm_source=old",
        SRC,
        True,
        f"https://example.com/?{LONG_QUERY}&utm_source=linkedin",
    ),
    (
        "very-long-value",
        "https://example.com/",
        {"utm_term": "x" * 8000},
        True,
        "https://example.com/?utm_term=" + "x" * 8000,
    ),
]


@pytest.mark.parametrize(
    ("url", "params", "normalise", "expected"),
    [case[1:] for case in MERGE_CASES],
    ids=[case[0] for case in MERGE_CASES],
)
def test_merge_utm(url: str, params: dict[str, str], normalise: bool, expected: str) -> None:
    assert merge_utm(url, params, normalise=normalise) == expected


def test_merge_utm_table_is_thorough() -> None:
    assert len(MERGE_CASES) >= 35
    assert len({case[0] for case in MERGE_CASES}) == len(MERGE_CASES)


def test_merge_utm_is_idempotent() -> None:
    once = merge_utm("https://bücher.de/p?a=1&utm_source=x#f", FULL)
    assert merge_utm(once, FULL) == once


def test_merge_utm_refuses_blank_parameter_names() -> None:
    with pytest.raises(ValueError, match="names must not be empty"):
        merge_utm("https://example.com/", {" ": "x"})


def test_merge_utm_converts_idn_hosts_as_browsers_do() -> None:
    # UTS #46 non-transitional: 'ß' stays 'ß' (xn--strae-oqa), it does not become 'ss'.
    assert merge_utm("https://straße.de/", SRC) == "https://xn--strae-oqa.de/?utm_source=linkedin"


def test_merge_utm_refuses_invalid_idn_hosts() -> None:
    with pytest.raises(ValueError, match="not a valid internationalised host name"):
        merge_utm("https://bücher..de/", SRC)


@pytest.mark.parametrize(
    ("value", "lowercase", "expected"),
    [
        ("LinkedIn", True, "linkedin"),
        ("LinkedIn", False, "LinkedIn"),
        ("  spring sale  ", True, "spring-sale"),
        ("Spring \t\n Sale", True, "spring-sale"),
        ("Spring Sale", False, "Spring-Sale"),
        ("a\u00a0b\u3000c", True, "a-b-c"),
        ("already-normal", True, "already-normal"),
        ("Été 2024", True, "été-2024"),
        ("", True, ""),
        ("   ", True, ""),
    ],
)
def test_normalise_utm_value(value: str, lowercase: bool, expected: str) -> None:
    assert normalise_utm_value(value, lowercase=lowercase) == expected


DEST = "https://example.com/p?utm_source=linkedin&utm_medium=social"

REDIRECT_CASES = [
    # (id, destination, passthrough, expected) with click id lt_cid=C1
    ("click-id-only", "https://example.com/p", "", "https://example.com/p?lt_cid=C1"),
    ("click-id-after-query", DEST, "", f"{DEST}&lt_cid=C1"),
    ("passthrough-appended", DEST, "ref=abc", f"{DEST}&lt_cid=C1&ref=abc"),
    (
        "frozen-utm-wins",
        DEST,
        "ref=abc&utm_source=evil&utm_medium=x",
        f"{DEST}&lt_cid=C1&ref=abc",
    ),
    ("encoded-utm-key-still-blocked", DEST, "utm%5Fsource=evil", f"{DEST}&lt_cid=C1"),
    (
        "new-utm-key-passes",
        DEST,
        "utm_term=shoes",
        f"{DEST}&lt_cid=C1&utm_term=shoes",
    ),
    (
        "existing-click-id-replaced",
        "https://example.com/p?lt_cid=old&a=1",
        "",
        "https://example.com/p?a=1&lt_cid=C1",
    ),
    (
        "forged-click-id-dropped",
        "https://example.com/p",
        "lt_cid=forged",
        "https://example.com/p?lt_cid=C1",
    ),
    (
        "fragment-stays-last",
        "https://example.com/p?a=1#top",
        "b=2",
        "https://example.com/p?a=1&lt_cid=C1&b=2#top",
    ),
    (
        "fragment-without-query",
        "https://example.com/p#top",
        "",
        "https://example.com/p?lt_cid=C1#top",
    ),
    (
        "empty-segments-dropped",
        "https://example.com/p?a=1&",
        "&&b=2&",
        "https://example.com/p?a=1&lt_cid=C1&b=2",
    ),
    (
        "passthrough-encoding-preserved",
        "https://example.com/p",
        "q=caf%C3%A9+au+lait",
        "https://example.com/p?lt_cid=C1&q=caf%C3%A9+au+lait",
    ),
    (
        "unsafe-passthrough-chars-encoded",
        "https://example.com/p",
        'q=a b"c#d',
        "https://example.com/p?lt_cid=C1&q=a%20b%22c%23d",
    ),
    (
        "wsgi-latin1-bytes-encoded-once",
        "https://example.com/p",
        "q=caf\xc3\xa9",
        "https://example.com/p?lt_cid=C1&q=caf%C3%A9",
    ),
    (
        "unicode-passthrough-encoded-as-utf8",
        "https://example.com/p",
        "q=\u6625",
        "https://example.com/p?lt_cid=C1&q=%E6%98%A5",
    ),
    (
        "repeated-passthrough-keys-kept",
        "https://example.com/p",
        "tag=a&tag=b",
        "https://example.com/p?lt_cid=C1&tag=a&tag=b",
    ),
    (
        "trailing-question-mark-destination",
        "https://example.com/p?",
        "",
        "https://example.com/p?lt_cid=C1",
    ),
]


@pytest.mark.parametrize(
    ("destination", "passthrough", "expected"),
    [case[1:] for case in REDIRECT_CASES],
    ids=[case[0] for case in REDIRECT_CASES],
)
def test_append_redirect_params(destination: str, passthrough: str, expected: str) -> None:
    assert append_redirect_params(destination, "lt_cid", "C1", passthrough) == expected


def test_append_redirect_params_without_click_id_keeps_destination() -> None:
    assert append_redirect_params("https://example.com/p?a=1#f", "lt_cid", "", "") == (
        "https://example.com/p?a=1#f"
    )


def test_append_redirect_params_uses_configured_name() -> None:
    result = append_redirect_params("https://example.com/p?cid=1", "cid", "C1", "lt_cid=x")
    assert result == "https://example.com/p?cid=C1&lt_cid=x"


def test_append_redirect_params_encodes_unsafe_click_id() -> None:
    result = append_redirect_params("https://example.com/", "lt_cid", "a b&c", "")
    assert result == "https://example.com/?lt_cid=a%20b%26c"


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (
            "https://example.com/angebote/sommer-€-rabatt",
            "https://example.com/angebote/sommer-%E2%82%AC-rabatt?lt_cid=C1",
        ),
        (
            "https://example.com/über-uns?q=🎉#ü",
            "https://example.com/%C3%BCber-uns?q=%F0%9F%8E%89&lt_cid=C1#%C3%BC",
        ),
        ("https://example.com/a b?x=\u202e", "https://example.com/a%20b?x=%E2%80%AE&lt_cid=C1"),
        ("https://bücher.de/%C3%BC?a=50%", "https://xn--bcher-kva.de/%C3%BC?a=50%25&lt_cid=C1"),
    ],
)
def test_append_redirect_params_sends_destinations_stored_unencoded_as_uris(
    stored: str, expected: str
) -> None:
    # Links made before destinations were normalised still hold raw Unicode.
    result = append_redirect_params(stored, "lt_cid", "C1", "")
    assert result == expected
    assert result.isascii()


PREVIEWED = [
    "https://example.com/p?ref=x&utm_source=linkedin#top",
    "https://example.com/p#top",
    "https://example.com/p",
    "https://example.com/p?lt_cid=old&a=1#f?x=1",
    "https://example.com/über?q=€#ü",
]


@pytest.mark.parametrize("destination", PREVIEWED)
def test_redirect_preview_puts_the_click_id_where_the_redirect_does(destination: str) -> None:
    before, click_id, after = redirect_preview(destination, "lt_cid")
    assert before + click_id + "C1" + after == append_redirect_params(
        destination, "lt_cid", "C1", ""
    )
    assert click_id == "lt_cid="
    assert "#" not in before


def test_redirect_preview_keeps_the_fragment_last() -> None:
    assert redirect_preview("https://example.com/p?ref=x#top", "lt_cid") == (
        "https://example.com/p?ref=x&",
        "lt_cid=",
        "#top",
    )
