"""Sign in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.services import LoginFailed, authenticate
from linktracker.extensions import limiter
from linktracker.web.context import db

auth = Blueprint("auth", __name__, url_prefix="/app")


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _safe_next(target: str | None) -> str:
    # Only same-site paths: a login form must not become an open redirect, and no control
    # character (CR/LF would split the Location header, a tab or NUL confuses browsers).
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    ):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("pages.home")


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | BaseResponse:
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            user = authenticate(db(), email, request.form.get("password", ""))
        except LoginFailed as exc:
            error = str(exc)
        else:
            # A fresh session on sign-in: nothing set before it (fixation) carries over.
            session.clear()
            session.permanent = True
            session["user_id"] = user.id
            session["version"] = user.session_version
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, email=email), status  # type: ignore[return-value]


@auth.post("/logout")
def logout() -> BaseResponse:
    session.clear()
    return redirect(url_for("auth.login"))
