"""Visitor values from a WSGI environ, visitor hashes and click ids."""

from __future__ import annotations

import datetime
import os
import re
import threading
import time
from typing import Any

import pytest

from linktracker.clicks.visitor import Visitor, new_click_id, visitor_hash

SECRET = b"k" * 32
DAY = datetime.date(2026, 3, 14)
IP = "203.0.113.77"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def environ(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/abc123",
        "QUERY_STRING": "",
        "REMOTE_ADDR": IP,
        "HTTP_USER_AGENT": UA,
        "HTTP_REFERER": "https://www.linkedin.com/feed/",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_from_environ_reads_the_request() -> None:
    visitor = Visitor.from_environ(environ(QUERY_STRING="a=1&b=%C3%A9"))
    assert visitor == Visitor(
        ip=IP,
        user_agent=UA,
        referrer="https://www.linkedin.com/feed/",
        country=None,
        method="GET",
        query_string="a=1&b=%C3%A9",
    )


def test_from_environ_with_missing_headers() -> None:
    visitor = Visitor.from_environ({"REQUEST_METHOD": "HEAD"}, country_header="CF-IPCountry")
    assert visitor == Visitor(
        ip="", user_agent="", referrer=None, country=None, method="HEAD", query_string=""
    )


def test_from_environ_defaults_the_method_and_drops_an_empty_referrer() -> None:
    visitor = Visitor.from_environ(environ(REQUEST_METHOD=None, HTTP_REFERER=""))
    assert visitor.method == "GET"
    assert visitor.referrer is None


def test_query_string_is_passed_on_untouched() -> None:
    # WSGI gives raw bytes decoded as latin-1; they must not be decoded a second time.
    raw = "q=caf\xc3\xa9&x=%20+"
    assert Visitor.from_environ(environ(QUERY_STRING=raw)).query_string == raw


@pytest.mark.parametrize(
    ("header", "key", "value", "country"),
    [
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "DE", "DE"),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "de", "DE"),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", " fr ", "FR"),
        ("cf-ipcountry", "HTTP_CF_IPCOUNTRY", "US", "US"),
        ("X-Country-Code", "HTTP_X_COUNTRY_CODE", "gb", "GB"),
        ("HTTP_CF_IPCOUNTRY", "HTTP_CF_IPCOUNTRY", "CH", "CH"),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "XX", None),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "T1", None),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "A1", None),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "DEU", None),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "D", None),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "", None),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "Ü1", None),
        ("CF-IPCountry", "HTTP_CF_IPCOUNTRY", "ÄÖ", None),
        ("CF-IPCountry", "HTTP_X_OTHER", "DE", None),
    ],
)
def test_country_comes_from_the_configured_header_only_when_valid(
    header: str, key: str, value: str, country: str | None
) -> None:
    visitor = Visitor.from_environ(environ(**{key: value}), country_header=header)
    assert visitor.country == country


def test_country_header_is_ignored_unless_configured() -> None:
    assert Visitor.from_environ(environ(HTTP_CF_IPCOUNTRY="DE")).country is None


def test_visitor_is_frozen() -> None:
    visitor = Visitor.from_environ(environ())
    with pytest.raises(AttributeError):
        visitor.ip = "198.51.100.1"  # type: ignore[misc]


def test_visitor_hash_is_deterministic_32_hex_digits() -> None:
    first = visitor_hash(SECRET, DAY, IP, UA)
    assert first == visitor_hash(SECRET, DAY, IP, UA)
    assert re.fullmatch(r"[0-9a-f]{32}", first)


@pytest.mark.parametrize(
    ("secret", "day", "ip", "ua"),
    [
        (b"another secret", DAY, IP, UA),
        (SECRET, DAY + datetime.timedelta(days=1), IP, UA),
        (SECRET, DAY, "203.0.113.78", UA),
        (SECRET, DAY, IP, UA + " extra"),
        (SECRET, DAY, "", UA),
        (SECRET, DAY, IP, ""),
    ],
    ids=["secret", "day", "ip", "ua", "no-ip", "no-ua"],
)
def test_visitor_hash_differs_by_each_input(
    secret: bytes, day: datetime.date, ip: str, ua: str
) -> None:
    assert visitor_hash(secret, day, ip, ua) != visitor_hash(SECRET, DAY, IP, UA)


def test_visitor_hash_fields_do_not_run_into_each_other() -> None:
    assert visitor_hash(SECRET, DAY, "1.2.3.4", "5 UA") != visitor_hash(
        SECRET, DAY, "1.2.3.45", " UA"
    )


def test_visitor_hash_never_contains_the_ip() -> None:
    for ip in ["203.0.113.77", "2001:db8::1", "10.0.0.1"]:
        digest = visitor_hash(SECRET, DAY, ip, UA)
        assert ip not in digest
        assert ip.replace(".", "").replace(":", "") not in digest


def test_visitor_hash_accepts_long_secrets_and_refuses_an_empty_one() -> None:
    long_secret = bytes(range(256)) * 2
    assert len(visitor_hash(long_secret, DAY, IP, UA)) == 32
    assert visitor_hash(long_secret, DAY, IP, UA) != visitor_hash(long_secret[:64], DAY, IP, UA)
    with pytest.raises(ValueError):
        visitor_hash(b"", DAY, IP, UA)


def test_an_ipv4_client_hashes_alike_over_ipv4_and_ipv6_sockets() -> None:
    assert visitor_hash(SECRET, DAY, "::ffff:" + IP, UA) == visitor_hash(SECRET, DAY, IP, UA)


def test_visitor_hash_takes_any_user_agent_text() -> None:
    assert len(visitor_hash(SECRET, DAY, IP, "caf\xe9 \x00 \ud800 \U0001f600")) == 32


def test_click_ids_are_unique_and_url_safe() -> None:
    ids = {new_click_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{23}", click_id) for click_id in ids)


def test_click_ids_made_later_sort_after_earlier_ones() -> None:
    # Time order keeps the clicks table's unique index growing at one end (cheap inserts).
    made = []
    for _ in range(5):
        made.append(new_click_id())
        time.sleep(0.002)  # ids of one millisecond are in random order
    assert sorted(made) == made
    assert len({click_id[7:] for click_id in made}) == 5  # the random part differs


def test_click_ids_are_unique_across_threads() -> None:
    found: list[list[str]] = [[] for _ in range(4)]

    def take(into: list[str]) -> None:
        into.extend(new_click_id() for _ in range(1_000))

    threads = [threading.Thread(target=take, args=(into,)) for into in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({click_id for ids in found for click_id in ids}) == 4_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_repeat_its_parents_click_ids() -> None:
    new_click_id()  # the parent holds ids it has not handed out yet
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        os.write(write_end, " ".join(new_click_id() for _ in range(300)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = set(pipe.read().decode().split())
    os.waitpid(pid, 0)
    parent = {new_click_id() for _ in range(300)}
    assert len(child) == 300
    assert not child & parent
