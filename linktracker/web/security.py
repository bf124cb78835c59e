"""Security headers on every app page; public link pages and the redirect stay minimal."""

from __future__ import annotations

from flask import Flask, Response, request

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
