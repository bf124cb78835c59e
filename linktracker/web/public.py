"""Public, brand-neutral pages: health check and the short-link slow path (404/410)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request
from sqlalchemy import text
from werkzeug.wrappers import Response as BaseResponse

from linktracker.db import utcnow
from linktracker.web.context import runtime
from linktracker.web.redirect import NO_STORE, redirect_location

public = Blueprint("public", __name__)


@public.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        with runtime().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy, and says so
        return {"status": "degraded", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@public.route("/<code>", methods=["GET", "HEAD"])
def short_link(code: str) -> BaseResponse:
    """Reached only when the WSGI fast path did not answer: unknown or retired codes."""
    target = runtime().links.get(code)
    if target is None:
        return _page(404, "This link does not exist", "Check that the address was copied whole.")
    if target.is_gone(utcnow()):
        fallback = runtime().config.fallback_url
        if fallback:
            response = redirect(fallback, 302)
            response.headers[NO_STORE[0]] = NO_STORE[1]
            return response
        return _page(410, "This link has expired", "The campaign it belonged to has ended.")
    response = redirect(redirect_location(runtime(), target, request.environ), 302)
    response.headers[NO_STORE[0]] = NO_STORE[1]
    return response


def _page(status: int, title: str, message: str) -> Response:
    body = render_template("public/link_status.html", status=status, title=title, message=message)
    response = Response(body, status=status)
    response.headers[NO_STORE[0]] = NO_STORE[1]
    return response
