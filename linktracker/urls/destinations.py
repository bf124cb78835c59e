"""Open-redirect protection: a destination must be http(s) on an allowed host.

The checks read URLs the way browsers do (WHATWG URL standard), not the way
`urllib` does, because the browser is what finally follows the redirect: a
URL that Python and a browser resolve to different hosts is an open redirect.

Allowed-domain entries are exact hosts (`example.com`, IP addresses) or wildcards:
`*.example.com` matches subdomains at any depth (`a.example.com`, `a.b.example.com`) but not
`example.com` itself, so allowing a whole site takes both entries. Hosts are compared in
punycode, so look-alikes such as a Cyrillic 'а' never match an ASCII entry.

An accepted destination comes back as a valid URI (path, query and fragment percent-encoded
as UTF-8); controls and invisible or text-direction characters are refused by name.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from linktracker.errors import InvalidInput
from linktracker.urls.iri import describe_character, encode_tail, hidden_character, host_to_ascii

_FIELD = "destination_url"

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HEX_NUMBER = re.compile(r"0[xX][0-9A-Fa-f]*")
_ENTRY_SPLIT = re.compile(r"[,\s]+")
_SHOWN_ENTRIES = 10
_BACKSLASH_MESSAGE = (
    "Destination must not contain backslashes (\\) before the path: browsers read them as '/'."
)


def _ends_in_number(host: str) -> bool:
    # WHATWG treats such hosts as IPv4 and accepts forms like 0x7f.1 or 2130706433.
    last = host.rstrip(".").rpartition(".")[2]
    return last.isdigit() or bool(_HEX_NUMBER.fullmatch(last))


def _normalise_host(host: str) -> str:
    """Return the comparable form of a host: punycode domain, dotted IPv4 or bracketed IPv6."""
    if host.startswith("["):
        # Browsers refuse IPv6 zone identifiers, so a '%' is never legitimate here.
        if not host.endswith("]") or "%" in host:
            raise ValueError(f"'{host}' is not a valid IPv6 address.")
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError as exc:
            raise ValueError(f"'{host}' is not a valid IPv6 address.") from exc
    if "%" in host:
        raise ValueError(f"'{host}' must not contain percent signs (%): browsers decode them.")
    ascii_host = host_to_ascii(host)
    if _ends_in_number(ascii_host):
        try:
            return str(ipaddress.IPv4Address(ascii_host))
        except ValueError as exc:
            raise ValueError(
                f"'{host}' is not a valid IP address; write IPv4 addresses as four decimal "
                "numbers such as 192.0.2.1."
            ) from exc
    return ascii_host


def _normalise_entry(entry: str) -> str:
    if entry == "*":
        raise ValueError("'*' would allow any destination: list the domains explicitly.")
    if "/" in entry or "@" in entry:
        raise ValueError(f"'{entry}' is not a domain: enter the host only, e.g. example.com.")
    if entry.startswith("."):
        raise ValueError(f"'{entry}' starts with a dot: write '*{entry}' to allow its subdomains.")
    if entry.startswith("*."):
        base = _normalise_host(entry[2:])
        if base.startswith("[") or _ends_in_number(base):
            raise ValueError(f"'{entry}' applies a wildcard to an IP address; list the address.")
        if "." not in base:
            raise ValueError(
                f"'{entry}' is too broad: a wildcard needs a domain of at least two labels, "
                "e.g. *.example.com."
            )
        return f"*.{base}"
    if "*" in entry:
        raise ValueError(
            f"'{entry}' misplaces '*': it is only allowed as the first label, as in *.x.com."
        )
    if ":" in entry and not entry.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(entry).compressed}]"
        except ValueError:
            raise ValueError(
                f"'{entry}' has a port: enter the host only; every port is allowed."
            ) from None
    return _normalise_host(entry)


def _split_entries(value: str | Iterable[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [part for item in items for part in _ENTRY_SPLIT.split(item) if part]


def parse_allowed_domains(value: str | Iterable[str]) -> tuple[str, ...]:
    """Parse the ALLOWED_DOMAINS setting into normalised entries; raise ValueError on a bad one."""
    entries: dict[str, None] = {}
    for raw in _split_entries(value):
        try:
            entries[_normalise_entry(raw.lower())] = None
        except ValueError as exc:
            raise ValueError(f"Allowed domain {exc}") from exc
    return tuple(entries)


@lru_cache(maxsize=64)
def _lenient_entries(allowed: tuple[str, ...]) -> tuple[str, ...]:
    # A malformed entry in the setting can never match safely; the settings form reports it.
    entries: dict[str, None] = {}
    for raw in _split_entries(allowed):
        try:
            entries[_normalise_entry(raw.lower())] = None
        except ValueError:
            continue
    return tuple(entries)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, {_FIELD: message})


def _host_allowed(host: str, entries: Sequence[str]) -> bool:
    for entry in entries:
        if entry.startswith("*."):
            if host.endswith(entry[1:]):
                return True
        elif host == entry:
            return True
    return False


def _describe_entries(entries: Sequence[str]) -> str:
    shown = ", ".join(entries[:_SHOWN_ENTRIES])
    hidden = len(entries) - _SHOWN_ENTRIES
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def check_url(url: str) -> str:
    """The normalised http(s) URL, checked as a destination is but against no allowed domains.

    For addresses that are only stored and shown (a story an employee suggests); a link to it
    is made only after check_destination accepts it."""
    scheme, _host, normalised, port, tail = _parse(url)
    return f"{scheme}://{normalised}{':' + port if port else ''}{tail}"


def url_host(url: str) -> str:
    """The comparable host (punycode, lowercase) of a URL check_url accepts."""
    return _parse(url)[2]


def check_destination(url: str, allowed: Sequence[str]) -> str:
    """Return the normalised destination URL, or raise InvalidInput if it may not be used."""
    scheme, host, normalised, port, tail = _parse(url)
    entries = _lenient_entries((allowed,) if isinstance(allowed, str) else tuple(allowed))
    if not entries:
        raise _refuse(
            "No destination domains are allowed yet: an admin must configure ALLOWED_DOMAINS "
            "before links can be created."
        )
    if not _host_allowed(normalised, entries):
        shown = host.lower().rstrip(".")
        shown = f"'{shown}'" if shown == normalised else f"'{shown}' ({normalised})"
        message = (
            f"Destination host {shown} is not in the allowed domains "
            f"({_describe_entries(entries)})."
        )
        if f"*.{normalised}" in entries:
            message += (
                f" '*.{normalised}' matches subdomains only; "
                f"add '{normalised}' to allow the domain itself."
            )
        raise _refuse(message)
    return f"{scheme}://{normalised}{':' + port if port else ''}{tail}"


def _parse(url: str) -> tuple[str, str, str, str, str]:
    """(scheme, host as written, normalised host, port, encoded tail), or InvalidInput."""
    raw = url.strip()
    if not raw:
        raise _refuse("Destination URL is required.")
    hidden = hidden_character(raw)
    if hidden is not None:
        raise _refuse(_hidden_message(*hidden))
    match = _SCHEME.match(raw)
    if match is None or match.group(1).lower() not in ("http", "https"):
        raise _refuse("Destination must start with http:// or https://.")
    scheme = match.group(1).lower()
    rest = raw[match.end() :]
    if "\\" in rest[:2]:
        raise _refuse(_BACKSLASH_MESSAGE)
    if not rest.startswith("//"):
        raise _refuse("Destination must start with http:// or https://.")
    authority_end = len(rest)
    for delimiter in "/?#":
        index = rest.find(delimiter, 2)
        if index != -1:
            authority_end = min(authority_end, index)
    authority = rest[2:authority_end]
    if "\\" in authority:
        raise _refuse(_BACKSLASH_MESSAGE)
    if "@" in authority:
        raise _refuse(
            "Destination must not contain a user name or password before the host ('…@'): "
            "browsers would go to the host after the '@'."
        )
    host, port = _split_port(authority)
    if not host:
        raise _refuse("Destination has no host.")
    try:
        normalised = _normalise_host(host)
    except ValueError as exc:
        raise _refuse(f"Destination host {exc}") from exc
    return scheme, host, normalised, port, encode_tail(rest[authority_end:])


def _hidden_message(index: int, char: str) -> str:
    where = f"{describe_character(char)} at character {index + 1}"
    if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        return f"Destination must not contain tabs, line breaks or control characters ({where})."
    if unicodedata.category(char) == "Cs":
        return f"Destination contains an invalid character ({where})."
    return (
        f"Destination must not contain invisible or text-direction characters ({where}): "
        "they can disguise where a link really goes."
    )


def _split_port(authority: str) -> tuple[str, str]:
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            raise _refuse("Destination host has an unclosed '[' in an IPv6 address.")
        host, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            raise _refuse("Destination host has unexpected text after ']'.")
        port = after[1:]
    else:
        host, colon, port = authority.rpartition(":")
        if not colon:
            host, port = authority, ""
    if port and (len(port) > 5 or not port.isascii() or not port.isdigit() or int(port) > 65535):
        raise _refuse(f"Destination port '{port}' must be a number from 0 to 65535.")
    return host, port
