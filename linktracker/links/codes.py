"""Short codes: random, unambiguous, and never a word the app's own routes use."""

from __future__ import annotations

import re

import shortuuid

from linktracker.errors import InvalidInput

CODE_LENGTH = 7
# shortuuid's default alphabet already leaves out look-alikes (0/O, 1/l/I).
_generator = shortuuid.ShortUUID()
RESERVED = frozenset(
    {
        "app", "api", "static", "healthz", "login", "logout", "admin", "favicon.ico",
        "robots.txt", "assets", "auth", "settings", "metrics", "status", "well-known",
        ".well-known", "sitemap.xml", "humans.txt", "apple-touch-icon.png",
    }
)  # fmt: skip
VANITY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def new_code(length: int = CODE_LENGTH) -> str:
    """A random short code."""
    return str(_generator.random(length=length))


def validate_vanity(slug: str) -> str:
    """Return the vanity slug if usable, else raise InvalidInput naming the problem."""
    if not VANITY_RE.fullmatch(slug):
        raise InvalidInput(
            "A custom short code must be 3–64 letters, digits, '-' or '_', starting with a "
            "letter or digit.",
            {"code": "Invalid custom code."},
        )
    if slug.lower() in RESERVED:
        raise InvalidInput(
            f"'{slug}' is reserved for the application's own pages; choose another code.",
            {"code": "Reserved word."},
        )
    return slug
