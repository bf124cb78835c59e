"""The request turned into a plain value at the edge, so click logging never sees HTTP."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from linktracker.clicks.countries import country_of_address

# Placeholders CDNs send instead of a country: unknown (Cloudflare XX) and Tor (Cloudflare T1).
_NO_COUNTRY = frozenset({"XX", "T1"})
_IPV4_MAPPED = "::ffff:"
_BLAKE2B_MAX_KEY = 64


@dataclass(frozen=True, slots=True)
class Visitor:
    ip: str
    user_agent: str
    referrer: str | None
    country: str | None
    method: str
    query_string: str

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, Any],
        *,
        country_header: str | None = None,
        country_lookup: bool = False,
    ) -> Visitor:
        """The visitor of a WSGI request (REMOTE_ADDR is already proxy-corrected by ProxyFix).

        The country comes from `country_header` when one is configured (a trusted proxy or
        CDN sets it), else, with `country_lookup`, from the address in an offline table."""
        ip = environ.get("REMOTE_ADDR") or ""
        if country_header:
            country = _country(environ.get(_environ_key(country_header)))
        else:
            country = country_of_address(ip) if country_lookup else None
        return cls(
            ip=ip,
            user_agent=environ.get("HTTP_USER_AGENT") or "",
            referrer=environ.get("HTTP_REFERER") or None,
            country=country,
            method=environ.get("REQUEST_METHOD") or "GET",
            # WSGI hands over the raw bytes decoded as latin-1; pass them on untouched so the
            # redirect forwards exactly what the visitor sent.
            query_string=environ.get("QUERY_STRING") or "",
        )


@lru_cache(maxsize=16)
def _environ_key(header: str) -> str:
    # "CF-IPCountry" arrives as HTTP_CF_IPCOUNTRY; accept the environ spelling as configured too.
    key = header.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") else "HTTP_" + key


def _country(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii():
        return None
    if not code.isalpha() or code in _NO_COUNTRY:
        return None
    return code


def visitor_hash(secret: bytes, day: datetime.date, ip: str, user_agent: str) -> str:
    """Keyed 32-hex-digit hash of (day, IP, user agent): counts uniques without keeping the IP."""
    if not secret:
        # Without a key the hash of a day and an IPv4 address could be reversed by brute force.
        raise ValueError("visitor_hash needs a non-empty secret")
    if ip.startswith(_IPV4_MAPPED) and "." in ip:
        ip = ip[len(_IPV4_MAPPED) :]  # the same IPv4 client seen by a dual-stack socket
    # NUL cannot occur in a date or an address, so the fields cannot run into each other.
    message = f"{day.isoformat()}\0{ip}\0{user_agent}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(message, key=_key(secret), digest_size=16).hexdigest()


def _key(secret: bytes) -> bytes:
    # BLAKE2b takes keys up to 64 bytes; a longer secret is condensed first.
    if len(secret) <= _BLAKE2B_MAX_KEY:
        return secret
    return hashlib.blake2b(secret).digest()


# Click ids are cut from one os.urandom() call per batch, kept per thread: a read of the OS
# random source releases the GIL, and on a busy redirect worker every release wakes a thread
# waiting for it only to send it back to sleep (about 1 context switch per redirect saved).
_IDS_PER_FILL = 256
_ids = threading.local()


def _forget_ids_after_fork() -> None:
    # A forked child must not hand out the ids its parent may still hand out.
    global _ids
    _ids = threading.local()


os.register_at_fork(after_in_child=_forget_ids_after_fork)


def new_click_id() -> str:
    """A fresh, unguessable, URL-safe click id of 23 characters, in time order.

    7 characters of the time in milliseconds, then 16 of 12 random bytes. Ids made later sort
    after earlier ones, so the clicks table's unique index on them grows at its right edge
    instead of taking each insert at a random page (figures in docs/performance.md). The
    random part alone keeps them unguessable; the time part only says when the id was made.
    """
    ids: list[str] | None = getattr(_ids, "ids", None)
    if not ids:
        raw = base64.urlsafe_b64encode(os.urandom(12 * _IDS_PER_FILL)).decode("ascii")
        ids = _ids.ids = [raw[i : i + 16] for i in range(0, len(raw), 16)]
    return _time_prefix(time.time_ns() // 1_000_000) + ids.pop()


# The URL-safe base64 characters in ASCII order, so a fixed-width number written in them
# sorts as the number does.
_SORTED_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_PREFIX_LENGTH = 7  # 64**7 ms from 1970: ordered until 2109, unique after that too


def _time_prefix(milliseconds: int) -> str:
    digits = []
    for _ in range(_PREFIX_LENGTH):
        milliseconds, digit = divmod(milliseconds, 64)
        digits.append(_SORTED_DIGITS[digit])
    return "".join(reversed(digits))
