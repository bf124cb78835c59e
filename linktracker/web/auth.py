"""Sign in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.services import LoginFailed, end_sessions, sign_in
from linktracker.auth.throttle import LoginLimits, LoginThrottled, address_key
from linktracker.config import AppConfig
from linktracker.extensions import limiter
from linktracker.web.context import db, identity, runtime

auth = Blueprint("auth", __name__, url_prefix="/app")


def _login_limit() -> str:
    return runtime().config.login_rate_limit


def _counted_in_database_only() -> bool:
    # The database holds the limits for every worker; a shared store (Redis) configured in
    # RATELIMIT_STORAGE_URI also applies the per-address limit before the database is touched.
    return runtime().config.ratelimit_storage_uri.startswith("memory://")


def login_limits() -> LoginLimits | None:
    """The sign-in limits, or None when rate limiting is switched off (RATELIMIT_ENABLED)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):  # Flask-Limiter's own key
        return None
    config = runtime().config
    return LoginLimits.parse(config.login_rate_limit, config.login_failure_limit)


@auth.record_once
def _check_limits(state: BlueprintSetupState) -> None:
    # A mistyped limit fails at start-up, not as a 500 on every sign-in.
    config = AppConfig(state.app.config)
    LoginLimits.parse(config.login_rate_limit, config.login_failure_limit)


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
@limiter.limit(_login_limit, methods=["POST"], exempt_when=_counted_in_database_only)
def login() -> tuple[str, int, dict[str, str]] | BaseResponse:
    error = None
    email = ""
    status, headers = 200, {}
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        address = address_key(runtime().secret, request.remote_addr or "")
        try:
            user = sign_in(db(), email, password, address=address, limits=login_limits())
        except LoginThrottled as exc:
            error, status = exc.message, 429
            headers = {"Retry-After": str(exc.retry_after)}
        except LoginFailed as exc:
            error, status = str(exc), 401
        else:
            # A fresh session on sign-in: nothing set before it (fixation) carries over.
            session.clear()
            session.permanent = True
            session["user_id"] = user.id
            session["version"] = user.session_version
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=email), status, headers


@auth.post("/logout")
def logout() -> BaseResponse:
    who = identity()
    if who is not None and not who.via_token:
        # The cookie is signed, not stored: only a new version in the database ends copies of it.
        end_sessions(db(), who.user_id)
    session.clear()
    return redirect(url_for("auth.login"))
