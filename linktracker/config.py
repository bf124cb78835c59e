"""Configuration: safe defaults, overridden by environment variables, overridden by create_app()."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast, overload
from urllib.parse import urlsplit

# name -> (default, parser). Every key can be set as an environment variable of the same name.
_INT = int
_FLOAT = float


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_BASE_URL = "http://127.0.0.1:5000"
# Hosts that mean "every interface": nobody can follow a link to them.
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

DEFAULTS: dict[str, tuple[Any, Any]] = {
    "INSTANCE_PATH": (None, str),
    "DATABASE_URL": (None, str),
    "SECRET_KEY": (None, str),
    # Unset: `linktracker run` builds links on the address it serves (DEFAULT_BASE_URL otherwise).
    "BASE_URL": (None, str),
    "ALLOWED_DOMAINS": ("example.com, *.example.com", str),
    "CLICK_ID_PARAM": ("lt_cid", str),
    "UTM_MEDIUM": ("social", str),
    "UTM_LOWERCASE": (True, _bool),
    "FALLBACK_URL": ("", str),
    "TRUSTED_PROXIES": (0, _INT),
    "COUNTRY_HEADER": ("", str),
    # Without COUNTRY_HEADER: the country looked up from the address in an offline table.
    "COUNTRY_LOOKUP": (True, _bool),
    "LINK_CACHE_SECONDS": (30.0, _FLOAT),
    "CLICK_DURABILITY": ("journal", str),
    "CLICK_REPLAY_SECONDS": (30.0, _FLOAT),
    "ATTRIBUTION_WINDOW_DAYS": (30, _INT),
    "CPM": (10.0, _FLOAT),
    "COST_PER_LEAD": (50.0, _FLOAT),
    "DEFAULT_CURRENCY": ("USD", str),
    "REPORTING_TIMEZONE": ("UTC", str),
    "CRM_TIMEZONE": ("UTC", str),
    "CRM_KEEP_EMAILS": (False, _bool),
    "CRM_IMPORT_WAIT_SECONDS": (30.0, _FLOAT),
    "CRM_RAW_RETENTION_DAYS": (30, _INT),
    "CRM_RECORD_RETENTION_MONTHS": (0, _INT),
    "MAX_UPLOAD_MB": (200, _INT),
    # What an erased employee's links do: "keep" redirecting (shared posts live on) or "disable".
    "ERASED_LINKS": ("keep", str),
    # Employees see their rank and the top 10 by clicks and by leads (a setting admins change).
    "SHOW_RANKS": (True, _bool),
    "UPLOAD_FOLDER": (None, str),
    "SPOOL_FOLDER": (None, str),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    "LOGIN_RATE_LIMIT": ("10 per minute", str),
    "LOGIN_FAILURE_LIMIT": ("5 per 15 minutes", str),
    "SESSION_COOKIE_SECURE": (False, _bool),
    # Single sign-on with OpenID Connect: all three set shows "Sign in with <OIDC_PROVIDER_NAME>".
    "OIDC_ISSUER": ("", str),
    "OIDC_CLIENT_ID": ("", str),
    "OIDC_CLIENT_SECRET": ("", str),
    "OIDC_PROVIDER_NAME": ("your company account", str),
    # Defaults of the admin settings: password sign-in only for the break-glass admin.
    "SSO_REQUIRED": (False, _bool),
    "SSO_BREAK_GLASS_ADMIN": ("", str),
    "SQL_ECHO": (False, _bool),
    # `linktracker run` logs a line per request to stdout, client addresses anonymised.
    "ACCESS_LOG": (True, _bool),
    # Outgoing mail (the weekly digest): smtp://host:25, smtp://user:pass@host:587?starttls=true
    # or smtps://user:pass@host:465. Unset: nothing is sent (`digest send --dry-run` still works).
    "SMTP_URL": ("", str),
    "SMTP_TIMEOUT_SECONDS": (30.0, _FLOAT),
    "DIGEST_FROM": ("linktracker <linktracker@localhost>", str),
    "WEBHOOK_ALLOW_PRIVATE": (False, _bool),
    "WEBHOOK_DELIVERY": (True, _bool),
    "WEBHOOK_TIMEOUT_SECONDS": (10.0, _FLOAT),
}


def load_config(instance_path: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the effective configuration: defaults < environment < overrides."""
    config: dict[str, Any] = {}
    for name, (default, parse) in DEFAULTS.items():
        raw = os.environ.get(name)
        config[name] = parse(raw) if raw not in (None, "") else default
    config.update(overrides or {})
    instance = Path(instance_path)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'linktracker.db'}"
    config["DATABASE_URL"] = normalise_database_url(str(config["DATABASE_URL"]))
    config["UPLOAD_FOLDER"] = config["UPLOAD_FOLDER"] or str(instance / "uploads")
    config["SPOOL_FOLDER"] = config["SPOOL_FOLDER"] or str(instance / "spool")
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(instance)
    # Whether BASE_URL was chosen (environment or create_app) rather than left to the server.
    config["BASE_URL_SET"] = bool(config["BASE_URL"])
    config["BASE_URL"] = str(config["BASE_URL"] or DEFAULT_BASE_URL).rstrip("/")
    config["MAX_CONTENT_LENGTH"] = int(config["MAX_UPLOAD_MB"]) * 1024 * 1024
    return config


T = TypeVar("T")
Durability = Literal["journal", "commit"]
ErasedLinks = Literal["keep", "disable"]


def _optional_text(value: Any) -> str | None:
    return str(value or "") or None


def _bool_value(value: Any) -> bool:
    return _bool(value) if isinstance(value, str) else bool(value)


def _durability(value: Any) -> Durability:
    # Any other value is refused when the click recorder starts.
    return cast(Durability, str(value))


def _erased_links(value: Any) -> ErasedLinks:
    return "disable" if str(value).strip().lower() == "disable" else "keep"


class _Key(Generic[T]):
    """One configuration key, read through ``convert`` at every access (the mapping is live)."""

    def __init__(self, key: str, convert: Callable[[Any], T]) -> None:
        self.key = key
        self.convert = convert

    @overload
    def __get__(self, config: None, owner: type[AppConfig]) -> _Key[T]: ...

    @overload
    def __get__(self, config: AppConfig, owner: type[AppConfig]) -> T: ...

    def __get__(self, config: AppConfig | None, owner: type[AppConfig]) -> T | _Key[T]:
        if config is None:
            return self
        return self.convert(config.values[self.key])


class AppConfig:
    """The configuration as typed values: one attribute per key, each cast in this one place.

    A view of the app's configuration mapping, not a copy: ``linktracker run`` sets
    BASE_URL once it knows the address it serves, and a key changed on a built app (tests
    do) takes effect as before. The keys and environment variables stay those of DEFAULTS.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    database_url = _Key("DATABASE_URL", str)
    secret_key = _Key("SECRET_KEY", str)
    base_url = _Key("BASE_URL", str)  # the origin of short links, without a trailing slash
    fallback_url = _Key("FALLBACK_URL", _optional_text)
    country_header = _Key("COUNTRY_HEADER", _optional_text)
    utm_lowercase = _Key("UTM_LOWERCASE", bool)  # the default of a new campaign
    country_lookup = _Key("COUNTRY_LOOKUP", bool)
    trusted_proxies = _Key("TRUSTED_PROXIES", int)
    link_cache_seconds = _Key("LINK_CACHE_SECONDS", float)
    click_replay_seconds = _Key("CLICK_REPLAY_SECONDS", float)
    click_durability = _Key("CLICK_DURABILITY", _durability)
    crm_timezone = _Key("CRM_TIMEZONE", str)
    crm_keep_emails = _Key("CRM_KEEP_EMAILS", bool)
    crm_import_wait_seconds = _Key("CRM_IMPORT_WAIT_SECONDS", float)
    crm_raw_retention_days = _Key("CRM_RAW_RETENTION_DAYS", int)
    erased_links = _Key("ERASED_LINKS", _erased_links)
    max_upload_mb = _Key("MAX_UPLOAD_MB", int)
    max_content_length = _Key("MAX_CONTENT_LENGTH", int)  # MAX_UPLOAD_MB in bytes, for Flask
    upload_folder = _Key("UPLOAD_FOLDER", str)
    spool_folder = _Key("SPOOL_FOLDER", str)
    ratelimit_storage_uri = _Key("RATELIMIT_STORAGE_URI", str)
    webhook_allow_private = _Key("WEBHOOK_ALLOW_PRIVATE", _bool_value)
    webhook_delivery = _Key("WEBHOOK_DELIVERY", _bool_value)
    webhook_timeout_seconds = _Key("WEBHOOK_TIMEOUT_SECONDS", float)
    login_rate_limit = _Key("LOGIN_RATE_LIMIT", str)
    login_failure_limit = _Key("LOGIN_FAILURE_LIMIT", str)
    access_log = _Key("ACCESS_LOG", bool)
    oidc_issuer = _Key("OIDC_ISSUER", str)
    oidc_client_id = _Key("OIDC_CLIENT_ID", str)
    oidc_client_secret = _Key("OIDC_CLIENT_SECRET", str)
    oidc_provider_name = _Key("OIDC_PROVIDER_NAME", str)
    smtp_url = _Key("SMTP_URL", str)
    smtp_timeout_seconds = _Key("SMTP_TIMEOUT_SECONDS", float)
    digest_from = _Key("DIGEST_FROM", str)
    sql_echo = _Key("SQL_ECHO", bool)


def served_base_url(host: str, port: int) -> str:
    """The origin of links to a server on ``host:port``.

    A wildcard host (0.0.0.0, ::) listens on every interface but cannot be visited, so links
    name the machine's host name instead.
    """
    if host in WILDCARD_HOSTS:
        host = socket.gethostname()
    elif _is_ipv6(host):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def points_elsewhere(base_url: str, host: str, port: int) -> bool:
    """Whether links on ``base_url`` lead to another host or port than ``host:port``."""
    parts = urlsplit(base_url)
    try:
        base_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number
        return True
    base_host = (parts.hostname or "").lower()
    if base_port != port:
        return True
    if host in WILDCARD_HOSTS:
        return False  # every name of this machine reaches the server
    served = host.lower().strip("[]")
    return base_host != served and not {base_host, served} <= LOOPBACK_NAMES


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def normalise_database_url(url: str) -> str:
    """Point bare postgres URLs at the psycopg 3 driver this project ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    # A stable per-installation secret, so sessions and visitor hashes survive restarts
    # without anyone having to configure one for the embedded setup.
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
