"""Query parameters and paths: NUL refused for every request, numbers parsed within bounds."""

from __future__ import annotations

from flask import Flask, request

from linktracker.errors import DomainError
from linktracker.limits import NUL, parse_whole_number


class NulInAddress(DomainError):
    status = 400


def refuse_nul_in_address() -> None:
    """No database accepts a NUL in text: refuse it in the path or query before any lookup."""
    query = request.query_string
    if NUL in request.path or b"%00" in query or b"\x00" in query:
        raise NulInAddress(
            "The address contains a NUL character (%00); remove it and try again.",
            {"url": "Must not contain %00."},
        )


def int_arg(name: str, *, default: int, minimum: int = 0, maximum: int) -> int:
    """A whole-number query parameter within [minimum, maximum], else a 422 naming it."""
    return parse_whole_number(
        name, request.args.get(name), default=default, minimum=minimum, maximum=maximum
    )


def register_params(app: Flask) -> None:
    """Install the NUL guard in front of every view."""
    app.before_request(refuse_nul_in_address)
