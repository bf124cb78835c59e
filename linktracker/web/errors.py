"""Error responses: JSON under /api, pages elsewhere, the same message either way."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from linktracker.errors import DomainError
from linktracker.web.context import Unauthenticated, runtime
from linktracker.web.scim import scim_error

TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Too large",
    422: "Check your input",
    429: "Too many requests",
    500: "Something went wrong",
}


def wants_json() -> bool:
    """API (and SCIM) requests get JSON errors."""
    return request.path.startswith(("/api/", "/scim/"))


def error_response(status: int, message: str, fields: dict[str, str] | None = None) -> BaseResponse:
    """A JSON error body for the API (SCIM's own format under /scim), an error page for people."""
    if request.path.startswith("/scim/"):
        return scim_error(status, message)
    if wants_json():
        response = jsonify({"error": message, "fields": fields or {}})
        response.status_code = status
        return response
    body = render_template(
        "errors/error.html", status=status, title=TITLES.get(status, "Error"), message=message
    )
    return Response(body, status=status)


def handle_domain_error(exc: DomainError) -> BaseResponse:
    if isinstance(exc, Unauthenticated) and not wants_json():
        return redirect(url_for("auth.login", next=request.full_path))
    return error_response(exc.status, exc.message, exc.fields)


def handle_http_exception(exc: HTTPException) -> BaseResponse:
    status = exc.code or 500
    if status == 413:
        limit = runtime().config.max_upload_mb
        message = f"The upload is larger than the limit of {limit} MB (MAX_UPLOAD_MB)."
    else:
        message = exc.description or TITLES.get(status, "Error")
    response = error_response(status, message)
    if status == 429 and exc.response is not None and "Retry-After" in exc.response.headers:
        response.headers["Retry-After"] = exc.response.headers["Retry-After"]
    return response


def handle_unexpected(exc: Exception) -> BaseResponse:
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Something went wrong on our side; the error was logged.")


def register_errorhandlers(app: Flask) -> None:
    """Route every error through one place."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
