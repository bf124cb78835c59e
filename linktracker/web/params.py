"""Query parameters and paths: NUL refused for every request, numbers parsed within bounds."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from linktracker.errors import DomainError
from linktracker.limits import NUL, parse_whole_number

# The widest integer any of our databases stores; a larger id in a path can match nothing.
MAX_ID = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` path parts up to MAX_ID: a larger number is a 404, not a database error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


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
    """Bound `<int:...>` path parts and install the NUL guard; before any route is added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul_in_address)
