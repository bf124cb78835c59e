"""The baseline: a bare WSGI app answering every request with the same kind of 302."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

LOCATION = "https://www.example.com/landing?utm_source=linkedin&lt_cid=AAAAAAAAAAAAAAAA"


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """302 to a fixed destination, headers as the real redirect sends them."""
    start_response(
        "302 Found",
        [("Location", LOCATION), ("Cache-Control", "no-store, max-age=0"), ("Content-Length", "0")],
    )
    return [b""]
