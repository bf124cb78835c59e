"""The app factory: configuration, database, extensions, blueprints, errors, commands."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from linktracker.config import load_config
from linktracker.extensions import csrf, limiter
from linktracker.runtime import Runtime


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database, extensions, blueprints, errors, commands."""
    app = Flask(__name__, instance_path=instance_path(config), instance_relative_config=True)
    app.config.update(load_config(app.instance_path, config))
    configure_sessions(app)
    register_runtime(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_redirect_fast_path(app)
    return app


def instance_path(config: Mapping[str, Any] | None) -> str | None:
    """The instance folder INSTANCE_PATH names (create_app's key, else the environment).

    None keeps Flask's default: `instance/` beside the package in a checkout.
    """
    chosen = (config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    return str(Path(chosen).resolve()) if chosen else None


def configure_sessions(app: Flask) -> None:
    # Flask ships these keys with defaults (SameSite unset, 31 days), so setdefault would be a
    # no-op: replace Flask's defaults, keep values a caller chose.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)


def register_runtime(app: Flask) -> None:
    from linktracker.web.context import register_context

    app.extensions["linktracker"] = Runtime(app.config)
    register_context(app)


def register_extensions(app: Flask) -> None:
    csrf.init_app(app)
    # With a shared store (RATELIMIT_STORAGE_URI) the sign-in limit's 429 says when to retry.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    from linktracker.web import (  # noqa: F401  (routes on `api`)
        api_ats,
        api_clicks,
        api_contributions,
        api_crm,
        api_crm_push,
        api_reports,
        api_webhooks,
    )
    from linktracker.web.api import api
    from linktracker.web.audience_pages import audience
    from linktracker.web.auth import auth
    from linktracker.web.campaigns import campaigns
    from linktracker.web.crm_pages import crm
    from linktracker.web.digest_pages import digest_pages
    from linktracker.web.employees import employees
    from linktracker.web.my_links import my_links
    from linktracker.web.pages import pages
    from linktracker.web.params import register_params
    from linktracker.web.privacy_pages import privacy_pages
    from linktracker.web.public import public
    from linktracker.web.recruiting_pages import recruiting
    from linktracker.web.reports_pages import reports
    from linktracker.web.scim import scim
    from linktracker.web.security import register_security
    from linktracker.web.settings_pages import settings_pages
    from linktracker.web.stories import stories
    from linktracker.web.templating import register_templating
    from linktracker.web.users import users
    from linktracker.web.webhook_pages import webhook_pages

    register_params(app)  # first: it bounds the `int` converter the routes below use
    csrf.exempt(api)  # the API checks CSRF itself, for cookie-signed writes only
    app.register_blueprint(api)
    csrf.exempt(scim)  # identity providers send a bearer token, never a cookie
    app.register_blueprint(scim)
    app.register_blueprint(auth)
    app.register_blueprint(pages)
    blueprints = (
        my_links,
        campaigns,
        employees,
        crm,
        recruiting,
        reports,
        settings_pages,
        users,
        privacy_pages,
        stories,
        digest_pages,
        webhook_pages,
        audience,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(public)  # last: its /<code> catches the root namespace
    register_templating(app)
    register_security(app)


def register_errorhandlers(app: Flask) -> None:
    from linktracker.web.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from linktracker.cli import register_cli

    register_cli(app)


def register_redirect_fast_path(app: Flask) -> None:
    from linktracker.web.redirect import RedirectMiddleware

    wsgi = RedirectMiddleware(app.wsgi_app, app.extensions["linktracker"])
    proxies = app.extensions["linktracker"].config.trusted_proxies
    # X-Forwarded-For is believed only for as many hops as there are trusted proxies.
    app.wsgi_app = ProxyFix(wsgi, x_for=proxies, x_proto=proxies) if proxies else wsgi  # type: ignore[method-assign]
