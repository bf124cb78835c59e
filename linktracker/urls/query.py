"""UTM tagging of destination URLs and the query string of each redirect.

Pure string work: no Flask, no database. The URL a campaign author typed is kept
byte-for-byte wherever we do not have to change it, because landing pages and
analytics tools match on the exact query they were given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import quote, unquote_plus

from linktracker.urls.iri import encode_destination, host_to_ascii

_WHITESPACE = re.compile(r"\s+")
# Characters a query may carry unescaped (RFC 3986 query minus '&' and '#', plus '%' so
# escapes already present survive); anything else in a passthrough query gets encoded.
_QUERY_SAFE = "-._~!$'()*+,;=:@/?%"
_QUERY_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~!$'()*+,;=:@/?%]")


def normalise_utm_value(value: str, *, lowercase: bool = True) -> str:
    """Normalise a UTM value as GA4 reports expect: trimmed, spaces to '-', lowercase."""
    normalised = _WHITESPACE.sub("-", value.strip())
    return normalised.lower() if lowercase else normalised


def _query_key(segment: str) -> str:
    key = segment.partition("=")[0]
    # Most keys are plain; decoding only when needed keeps the redirect path cheap.
    return unquote_plus(key) if "%" in key or "+" in key else key


def _split_url(url: str) -> tuple[str, str | None, str | None]:
    """Split a URL into (before the query, query or None, fragment or None)."""
    head, hash_sign, fragment = url.partition("#")
    head, question, query = head.partition("?")
    return head, (query if question else None), (fragment if hash_sign else None)


def _ascii_authority(head: str) -> str:
    scheme_end = head.find("://")
    if scheme_end == -1:
        return head
    start = scheme_end + 3
    slash = head.find("/", start)
    end = len(head) if slash == -1 else slash
    authority = head[start:end]
    if authority.isascii():
        return head
    userinfo, at, hostport = authority.rpartition("@")
    host, colon, port = hostport.rpartition(":")
    if not colon or (port and not port.isdigit()):
        host, colon, port = hostport, "", ""
    return f"{head[:start]}{userinfo}{at}{host_to_ascii(host)}{colon}{port}{head[end:]}"


def merge_utm(url: str, params: Mapping[str, str], *, normalise: bool = True) -> str:
    """Merge UTM parameters into a destination URL, keeping everything else as written."""
    given: dict[str, str] = {}
    for key, value in params.items():
        name = key.strip()
        if not name:
            raise ValueError("UTM parameter names must not be empty.")
        text = normalise_utm_value(value) if normalise else value
        if text.strip():
            given[name] = text

    head, query, fragment = _split_url(url.strip())
    segments: list[str] = []
    placed: set[str] = set()
    for segment in (query or "").split("&"):
        if not segment:
            continue
        key = _query_key(segment)
        if key not in given:
            segments.append(segment)
        elif key not in placed:
            # The given value takes the first occurrence's place; later duplicates go.
            segments.append(f"{quote(key, safe='')}={quote(given[key], safe='')}")
            placed.add(key)
    segments.extend(
        f"{quote(key, safe='')}={quote(value, safe='')}"
        for key, value in given.items()
        if key not in placed
    )

    merged = _ascii_authority(head)
    if segments:
        merged += "?" + "&".join(segments)
    if fragment is not None:
        merged += "#" + fragment
    return merged


def _encode_query_part(text: str) -> str:
    if not _QUERY_UNSAFE.search(text):
        return text
    # WSGI hands the query over as latin-1 "bytes as str" (PEP 3333): encoding it back gives
    # the bytes the visitor sent instead of double-encoding them as UTF-8.
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    return quote(raw, safe=_QUERY_SAFE)


@lru_cache(maxsize=2048)
def _prepared_destination(
    destination: str, click_id_param: str
) -> tuple[str, str, str, frozenset[str], str]:
    # Destinations are frozen per link and a redirect is hit many times, so the parsing is
    # done once per (destination, parameter name) and reused.
    # Destinations stored before they were normalised may still hold raw Unicode, which
    # cannot go into a Location header.
    head, query, fragment = _split_url(encode_destination(destination))
    kept: list[str] = []
    keys = {click_id_param}
    for segment in (query or "").split("&"):
        if not segment:
            continue
        key = _query_key(segment)
        if key == click_id_param:
            continue
        kept.append(segment)
        keys.add(key)
    suffix = "" if fragment is None else "#" + fragment
    return head, "&".join(kept), suffix, frozenset(keys), _encode_query_part(click_id_param)


def redirect_preview(destination: str, click_id_param: str) -> tuple[str, str, str]:
    """The redirect's URL cut around its click id: (before, 'param=', after the id)."""
    head, query, suffix, _keys, param = _prepared_destination(destination, click_id_param)
    return (f"{head}?{query}&" if query else f"{head}?"), f"{param}=", suffix


def append_redirect_params(
    destination: str, click_id_param: str, click_id: str, passthrough_query: str
) -> str:
    """Add the click id and the short link's raw (WSGI) query string to a frozen destination."""
    head, query, suffix, keys, param = _prepared_destination(destination, click_id_param)
    parts = [query] if query else []
    if click_id:
        parts.append(f"{param}={_encode_query_part(click_id)}")
    if passthrough_query:
        for segment in passthrough_query.split("&"):
            # Keys frozen in the destination (UTM above all) win over whatever a visitor
            # adds to the short link, and a visitor cannot forge a click id.
            if segment and _query_key(segment) not in keys:
                parts.append(_encode_query_part(segment))
    if not parts:
        return head + suffix
    return f"{head}?{'&'.join(parts)}{suffix}"
