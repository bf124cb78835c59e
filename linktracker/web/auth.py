"""Sign in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.models import User
from linktracker.auth.services import LoginFailed, PasswordSignInOff, end_sessions, sign_in
from linktracker.auth.throttle import LoginLimits, LoginThrottled, address_key
from linktracker.config import AppConfig
from linktracker.extensions import limiter
from linktracker.identity.accounts import (
    SignInRefused,
    password_sign_in_allowed,
    sign_in_verified,
)
from linktracker.identity.oidc import (
    OidcClient,
    OidcError,
    PendingSignIn,
    finish_sign_in,
    start_sign_in,
)
from linktracker.web.context import db, identity, runtime, settings

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
        current = settings()

        def policy(user: User) -> bool:
            return password_sign_in_allowed(
                user, current.sso_required, current.sso_break_glass_admin
            )

        try:
            user = sign_in(
                db(), email, password, address=address, limits=login_limits(), policy=policy
            )
        except LoginThrottled as exc:
            error, status = exc.message, 429
            headers = {"Retry-After": str(exc.retry_after)}
        except PasswordSignInOff:
            error, status = _sso_only_message(), 403
        except LoginFailed as exc:
            error, status = str(exc), 401
        else:
            return _signed_in(user.id, user.session_version, request.args.get("next"))
    return _login_page(error, email, status, headers)


def _login_page(
    error: str | None, email: str = "", status: int = 200, headers: dict[str, str] | None = None
) -> tuple[str, int, dict[str, str]]:
    client = oidc_client()
    page = render_template(
        "auth/login.html",
        error=error,
        email=email,
        sso_name=client.provider_name if client else None,
        next=request.args.get("next", ""),
    )
    return page, status, headers or {}


def _signed_in(user_id: int, version: int, target: str | None) -> BaseResponse:
    # A fresh session on sign-in: nothing set before it (fixation) carries over.
    session.clear()
    session.permanent = True
    session["user_id"] = user_id
    session["version"] = version
    return redirect(_safe_next(target))


def _sso_only_message() -> str:
    client = oidc_client()
    how = f"Sign in with {client.provider_name}" if client else "Use single sign-on"
    return f"Password sign-in is turned off for your account. {how} instead."


def oidc_client() -> OidcClient | None:
    """The OpenID Connect client when OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set."""
    config = runtime().config
    issuer, client_id = config.oidc_issuer.strip(), config.oidc_client_id.strip()
    secret = config.oidc_client_secret
    if not (issuer and client_id and secret):
        return None
    name = config.oidc_provider_name.strip() or "your company account"
    return OidcClient(issuer.rstrip("/"), client_id, secret, name)


def _callback_url() -> str:
    return url_for("auth.sso_callback", _external=True)


@auth.get("/login/sso")
@limiter.limit(_login_limit, exempt_when=_counted_in_database_only)
def sso_start() -> tuple[str, int, dict[str, str]] | BaseResponse:
    client = oidc_client()
    if client is None:
        return _login_page("Single sign-on is not set up on this server.", status=404)
    try:
        url, pending = start_sign_in(client, _callback_url())
    except OidcError as exc:
        current_app.logger.warning("OIDC sign-in could not start: %s", exc)
        return _login_page(f"{client.provider_name} cannot be reached right now. {exc}", status=502)
    session["oidc"] = pending.to_dict() | {"next": request.args.get("next", "")}
    return redirect(url)


@auth.get("/login/sso/callback")
@limiter.limit(_login_limit, exempt_when=_counted_in_database_only)
def sso_callback() -> tuple[str, int, dict[str, str]] | BaseResponse:
    client = oidc_client()
    if client is None:
        return _login_page("Single sign-on is not set up on this server.", status=404)
    saved = session.pop("oidc", None)
    pending = PendingSignIn.from_dict(saved)
    if pending is None:
        return _login_page(
            "This sign-in has expired or was started elsewhere; try again.", status=400
        )
    params = {key: value for key, value in request.args.items() if isinstance(value, str)}
    try:
        claims = finish_sign_in(client, _callback_url(), pending, params)
        user = sign_in_verified(db(), claims)
    except OidcError as exc:
        current_app.logger.warning("OIDC sign-in failed: %s", exc)
        return _login_page(str(exc), status=400)
    except SignInRefused as exc:
        return _login_page(exc.message, status=403)
    return _signed_in(user.id, user.session_version, saved.get("next") or None)


@auth.post("/logout")
def logout() -> BaseResponse:
    who = identity()
    if who is not None and not who.via_token:
        # The cookie is signed, not stored: only a new version in the database ends copies of it.
        end_sessions(db(), who.user_id)
    session.clear()
    return redirect(url_for("auth.login"))
