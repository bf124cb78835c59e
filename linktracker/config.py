"""Configuration: safe defaults, overridden by environment variables, overridden by create_app()."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# name -> (default, parser). Every key can be set as an environment variable of the same name.
_INT = int
_FLOAT = float


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEFAULTS: dict[str, tuple[Any, Any]] = {
    "INSTANCE_PATH": (None, str),
    "DATABASE_URL": (None, str),
    "SECRET_KEY": (None, str),
    "BASE_URL": ("http://127.0.0.1:5000", str),
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
    "REPORTING_TIMEZONE": ("UTC", str),
    "CRM_TIMEZONE": ("UTC", str),
    "CRM_KEEP_EMAILS": (False, _bool),
    "MAX_UPLOAD_MB": (200, _INT),
    "UPLOAD_FOLDER": (None, str),
    "SPOOL_FOLDER": (None, str),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    "LOGIN_RATE_LIMIT": ("10 per minute", str),
    "SESSION_COOKIE_SECURE": (False, _bool),
    "SQL_ECHO": (False, _bool),
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
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")
    config["MAX_CONTENT_LENGTH"] = int(config["MAX_UPLOAD_MB"]) * 1024 * 1024
    return config


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
