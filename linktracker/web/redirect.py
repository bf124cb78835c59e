"""The hot path: GET/HEAD /<code> answered in plain WSGI, in front of Flask.

resolve (cached) -> Visitor from the environ -> ClickRecorder.record -> 302. Anything it does not
answer itself (unknown, disabled or expired codes, every other route) goes on to Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from linktracker.clicks.bots import classify_user_agent
from linktracker.clicks.visitor import Visitor
from linktracker.db import utcnow
from linktracker.links.codes import CODE_RE, RESERVED
from linktracker.links.services import LinkTarget
from linktracker.runtime import Runtime
from linktracker.urls.query import append_redirect_params

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

NO_STORE = ("Cache-Control", "no-store, max-age=0")


def redirect_location(runtime: Runtime, target: LinkTarget, environ: dict[str, Any]) -> str:
    """Record the click and return where to send the visitor."""
    config = runtime.config
    visitor = Visitor.from_environ(
        environ, country_header=config.country_header, country_lookup=config.country_lookup
    )
    click_id = runtime.recorder.record(target, visitor, utcnow())
    return append_redirect_params(
        target.destination_url,
        runtime.settings().click_id_param,
        click_id,
        visitor.query_string,
    )


def code_from_path(environ: dict[str, Any]) -> str | None:
    """The short code a GET/HEAD request asks for, if its path can be one."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return None
    path: str = environ.get("PATH_INFO", "")
    code = path[1:]
    if not code or "/" in code or code.lower() in RESERVED or not CODE_RE.match(code):
        return None
    return code


class RedirectMiddleware:
    """Answers live short links before Flask sees the request."""

    def __init__(self, app: WSGIApplication, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        # Compile the crawler patterns now, not on a visitor's first click (a pause long
        # enough to push every redirect waiting behind it past its deadline).
        classify_user_agent("Mozilla/5.0")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        code = code_from_path(environ)
        if code is not None:
            target = self.runtime.links.get(code)
            if target is not None and not target.is_gone(utcnow()):
                location = redirect_location(self.runtime, target, environ)
                start_response(
                    "302 Found",
                    [("Location", location), NO_STORE, ("Content-Length", "0")],
                )
                return [b""]
        return self.app(environ, start_response)
