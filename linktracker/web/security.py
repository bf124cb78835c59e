"""Security headers on every app page; CSRF on the API for cookie-signed writes."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFError

from linktracker.errors import DomainError
from linktracker.extensions import csrf
from linktracker.web.context import identity

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
# The short-link slow path answers visitors of shared links: kept as small as the fast path.
MINIMAL_ENDPOINTS = frozenset({"public.short_link", "public.healthz"})


def add_security_headers(response: Response) -> Response:
    """Set the headers unless the page already chose its own."""
    if request.endpoint in MINIMAL_ENDPOINTS:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/app") and "Cache-Control" not in response.headers:
        # Signed-in pages carry personal data: never keep them in shared caches.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def register_security(app: Flask) -> None:
    """Install the header hook."""
    app.after_request(add_security_headers)


class CsrfTokenMissing(DomainError):
    status = 400


def protect_cookie_writes() -> None:
    """A write to the API signed in with the session cookie must carry the CSRF token.

    Another site (or another port of this host) can make a browser send the cookie, but it
    cannot read the token nor set an Authorization header: bearer requests stay exempt.
    """
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    who = identity()
    if who is None or who.via_token:
        return
    try:
        csrf.protect()
    except CSRFError as exc:
        raise CsrfTokenMissing(
            f"{exc.description} A signed-in browser request that changes data must send the "
            "page's CSRF token in the X-CSRFToken header; integrations use an API token."
        ) from exc
