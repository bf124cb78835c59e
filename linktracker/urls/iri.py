"""Addresses as people type them (IRIs) turned into valid URIs, the way browsers send them.

A destination may hold any Unicode character (`/über-uns`, `?q=€`, an emoji, a space); HTTP
headers may not. Path, query and fragment are percent-encoded as UTF-8, escapes already
present (`%C3%BC`) are kept as they are, and an internationalised host becomes its punycode
(`xn--`) form by UTS #46, non-transitional, as browsers convert it.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import idna

# RFC 3986: unreserved, sub-delims, ':' and '@' (pchar) and '/'; a query and a fragment may
# also hold '?'. Anything else, and a '%' that does not start an escape, is percent-encoded.
_PATH_SAFE = "-._~!$&'()*+,;=:@/"
_QUERY_SAFE = _PATH_SAFE + "?"
_ESCAPE_OR_PATH_UNSAFE = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_ESCAPE_OR_QUERY_UNSAFE = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]")
_VALID_URI = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]])*")
_ASCII_HOST = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*")
# Categories no address needs and that hide or reorder what a reader sees: controls (tab, line
# breaks, C1), format characters (bidi overrides such as U+202E, zero-width spaces and joiners,
# soft hyphen), line and paragraph separators, and lone surrogates, which have no UTF-8 form.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def host_to_ascii(host: str) -> str:
    """Return the lowercase ASCII (punycode) form of a domain name; raise ValueError if unsafe."""
    if host.isascii():
        ascii_host = host.lower()
    else:
        try:
            ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"'{host}' is not a valid internationalised host name.") from exc
    ascii_host = ascii_host.removesuffix(".")
    if not _ASCII_HOST.fullmatch(ascii_host):
        raise ValueError(f"'{host}' is not a valid host name.")
    return ascii_host


def hidden_character(text: str) -> tuple[int, str] | None:
    """The position and code point of the first invisible or control character, if any."""
    for index, char in enumerate(text):
        if unicodedata.category(char) in HIDDEN_CATEGORIES:
            return index, char
    return None


def describe_character(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`, for messages about a character no one can see."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"


def _percent_encode(match: re.Match[str]) -> str:
    text = match.group()
    if len(text) == 3:
        return text  # an escape already there: encoding it again would change the address
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def encode_tail(tail: str) -> str:
    """Percent-encode what follows the host (path, query, fragment) into valid URI characters."""
    path, hash_sign, fragment = tail.partition("#")
    path, question, query = path.partition("?")
    # Browsers read '\' in an http(s) path as '/'; writing it so keeps the same address.
    encoded = _ESCAPE_OR_PATH_UNSAFE.sub(_percent_encode, path.replace("\\", "/"))
    if question:
        encoded += "?" + _ESCAPE_OR_QUERY_UNSAFE.sub(_percent_encode, query)
    if hash_sign:
        encoded += "#" + _ESCAPE_OR_QUERY_UNSAFE.sub(_percent_encode, fragment)
    return encoded


def encode_destination(url: str) -> str:
    """The URL as a valid URI whatever it holds; never raises (for addresses stored earlier)."""
    if _VALID_URI.fullmatch(url):
        return url
    scheme, separator, rest = url.partition("://")
    if not separator:
        return encode_tail(url)
    cut = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if not authority.isascii() or not _VALID_URI.fullmatch(authority):
        host, colon, port = authority.rpartition(":")
        if not colon or not port.isdigit():
            host, colon, port = authority, "", ""
        try:
            authority = host_to_ascii(host) + colon + port
        except ValueError:
            authority = quote(authority.encode("utf-8", "surrogatepass"), safe=":@[]")
    return f"{scheme}://{authority}{encode_tail(tail)}"
