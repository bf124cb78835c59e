"""Configuration: safe defaults, overridden by environment variables, overridden by create_app()."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast
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
    "UPLOAD_FOLDER": (None, str),
    "SPOOL_FOLDER": (None, str),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    "LOGIN_RATE_LIMIT": ("10 per minute", str),
    "LOGIN_FAILURE_LIMIT": ("5 per 15 minutes", str),
    "SESSION_COOKIE_SECURE": (False, _bool),
    "SQL_ECHO": (False, _bool),
    # `linktracker run` logs a line per request to stdout, client addresses anonymised.
    "ACCESS_LOG": (True, _bool),
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


class AppConfig:
    """The configuration as typed values: one property per key, each cast in this one place.

    A view of the app's configuration mapping, not a copy: ``linktracker run`` sets
    BASE_URL once it knows the address it serves, and a key changed on a built app (tests
    do) takes effect as before. The keys and environment variables stay those of DEFAULTS.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def _text(self, key: str) -> str:
        return str(self.values[key])

    def _optional(self, key: str) -> str | None:
        return str(self.values.get(key) or "") or None

    @property
    def database_url(self) -> str:
        return self._text("DATABASE_URL")

    @property
    def secret_key(self) -> str:
        return self._text("SECRET_KEY")

    @property
    def base_url(self) -> str:
        """The origin short links are built on, without a trailing slash."""
        return self._text("BASE_URL")

    @property
    def fallback_url(self) -> str | None:
        return self._optional("FALLBACK_URL")

    @property
    def country_header(self) -> str | None:
        return self._optional("COUNTRY_HEADER")

    @property
    def trusted_proxies(self) -> int:
        return int(self.values["TRUSTED_PROXIES"])

    @property
    def link_cache_seconds(self) -> float:
        return float(self.values["LINK_CACHE_SECONDS"])

    @property
    def click_replay_seconds(self) -> float:
        """How often an idle worker stores spooled clicks and killed workers' journals."""
        return float(self.values["CLICK_REPLAY_SECONDS"])

    @property
    def click_durability(self) -> Literal["journal", "commit"]:
        # Any other value is refused when the click recorder starts.
        return cast(Literal["journal", "commit"], self._text("CLICK_DURABILITY"))

    @property
    def crm_timezone(self) -> str:
        return self._text("CRM_TIMEZONE")

    @property
    def crm_keep_emails(self) -> bool:
        return bool(self.values["CRM_KEEP_EMAILS"])

    @property
    def crm_import_wait_seconds(self) -> float:
        return float(self.values["CRM_IMPORT_WAIT_SECONDS"])

    @property
    def crm_raw_retention_days(self) -> int:
        return int(self.values["CRM_RAW_RETENTION_DAYS"])

    @property
    def erased_links(self) -> Literal["keep", "disable"]:
        """Whether an erased employee's links keep redirecting or are disabled."""
        return "disable" if self._text("ERASED_LINKS").strip().lower() == "disable" else "keep"

    @property
    def max_upload_mb(self) -> int:
        return int(self.values["MAX_UPLOAD_MB"])

    @property
    def max_content_length(self) -> int:
        """The largest request body in bytes (MAX_UPLOAD_MB, as Flask enforces it)."""
        return int(self.values["MAX_CONTENT_LENGTH"])

    @property
    def upload_folder(self) -> str:
        return self._text("UPLOAD_FOLDER")

    @property
    def spool_folder(self) -> str:
        return self._text("SPOOL_FOLDER")

    @property
    def ratelimit_storage_uri(self) -> str:
        return self._text("RATELIMIT_STORAGE_URI")

    @property
    def login_rate_limit(self) -> str:
        return self._text("LOGIN_RATE_LIMIT")

    @property
    def login_failure_limit(self) -> str:
        return self._text("LOGIN_FAILURE_LIMIT")

    @property
    def access_log(self) -> bool:
        return bool(self.values["ACCESS_LOG"])

    @property
    def sql_echo(self) -> bool:
        return bool(self.values.get("SQL_ECHO"))


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
