"""Program settings: configuration defaults, overridden by what an admin saved."""

from __future__ import annotations

import contextlib
import math
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.auth.models import User
from linktracker.campaigns.models import Campaign
from linktracker.crm.parsing.values import ValueProblem, currency_code
from linktracker.db import utcnow
from linktracker.errors import InvalidInput
from linktracker.limits import NUL, NUL_MESSAGE, column_length, text_problem
from linktracker.settings.models import Setting
from linktracker.urls.destinations import parse_allowed_domains


@dataclass(frozen=True)
class ProgramSettings:
    allowed_domains: tuple[str, ...]
    utm_medium: str
    click_id_param: str
    attribution_window_days: int
    cpm: float
    cost_per_lead: float
    reporting_timezone: str
    # Amounts imported without a currency are in this one; so are CPM and cost per lead.
    default_currency: str
    # What an erased employee's links do: "keep" redirecting (shared posts live on) or "disable".
    erased_links: ErasedLinks = "keep"
    # CRM records are deleted this many months after close (open ones: after creation); 0 never.
    crm_record_retention_months: int = 0
    # Employees see their rank and the top 10 by clicks and by leads on their results page.
    show_ranks: bool = True
    # Single sign-on only: password sign-in is refused for everyone but the break-glass admin.
    sso_required: bool = False
    sso_break_glass_admin: str = ""


ErasedLinks = Literal["keep", "disable"]

PARAM_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# setting -> configuration key it defaults from
CONFIG_KEYS = {
    "allowed_domains": "ALLOWED_DOMAINS",
    "utm_medium": "UTM_MEDIUM",
    "click_id_param": "CLICK_ID_PARAM",
    "attribution_window_days": "ATTRIBUTION_WINDOW_DAYS",
    "cpm": "CPM",
    "cost_per_lead": "COST_PER_LEAD",
    "reporting_timezone": "REPORTING_TIMEZONE",
    "default_currency": "DEFAULT_CURRENCY",
    "erased_links": "ERASED_LINKS",
    "crm_record_retention_months": "CRM_RECORD_RETENTION_MONTHS",
    "show_ranks": "SHOW_RANKS",
    "sso_required": "SSO_REQUIRED",
    "sso_break_glass_admin": "SSO_BREAK_GLASS_ADMIN",
}


def _domains(value: str) -> tuple[str, ...]:
    return parse_allowed_domains(value)


def _param(value: str) -> str:
    value = value.strip()
    # ASCII only: str.isalnum() also passes letters and digits of every other script.
    if not PARAM_RE.fullmatch(value):
        raise ValueError("use letters a-z, digits, '_' or '-' only (at most 64)")
    return value


def _medium(value: str) -> str:
    value = value.strip().lower()
    if not value:
        raise ValueError("must not be empty")
    problem = text_problem(value, column_length(Campaign, "utm_medium"))
    if problem:
        raise ValueError(problem)
    return value


def _window(value: str) -> int:
    text = value.strip()
    # ASCII digits only: int() also reads other scripts' digits and refuses long numbers oddly.
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise ValueError("enter a whole number of days")
    days = int(text)
    if not 1 <= days <= 365:
        raise ValueError("must be between 1 and 365 days")
    return days


def _money(value: str) -> float:
    amount = float(value)
    if not math.isfinite(amount):
        # float() reads nan and inf, which no figure can be (and JSON cannot carry).
        raise ValueError("enter a number (nan and infinity are not amounts)")
    if amount < 0:
        raise ValueError("must be 0 or more")
    return amount


def _timezone(value: str) -> str:
    value = value.strip()
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"'{value}' is not a known time zone (e.g. Europe/Berlin)") from exc
    return value


def _currency(value: str) -> str:
    text = value.strip()
    code = text.upper()
    try:
        known = currency_code(code) == code and len(code) == 3
    except ValueProblem:
        known = False
    if not known:
        raise ValueError(f"'{text}' is not an ISO 4217 currency code (e.g. EUR, USD, GBP)")
    return code


def _erased_links(value: str) -> ErasedLinks:
    text = value.strip().lower()
    if text not in ("keep", "disable"):
        raise ValueError("choose keep or disable")
    return cast(ErasedLinks, text)


def _months(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise ValueError("enter a whole number of months (0 keeps records forever)")
    months = int(text)
    if months > 1200:
        raise ValueError("must be between 0 and 1200 months")
    return months


def _flag(value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on", "y"):
        return True
    if text in ("", "0", "false", "no", "off", "n"):
        return False
    raise ValueError("choose yes or no")


def _admin_email(value: str) -> str:
    text = value.strip().lower()
    if text and ("@" not in text or len(text) > (column_length(User, "email") or 320)):
        raise ValueError(f"'{value.strip()}' is not an email address")
    return text


PARSERS: dict[str, Callable[[str], Any]] = {
    "allowed_domains": _domains,
    "utm_medium": _medium,
    "click_id_param": _param,
    "attribution_window_days": _window,
    "cpm": _money,
    "cost_per_lead": _money,
    "reporting_timezone": _timezone,
    "default_currency": _currency,
    "erased_links": _erased_links,
    "crm_record_retention_months": _months,
    "show_ranks": _flag,
    "sso_required": _flag,
    "sso_break_glass_admin": _admin_email,
}


def defaults_from_config(config: Mapping[str, Any]) -> ProgramSettings:
    """Settings as the configuration (environment) gives them."""
    values = {name: PARSERS[name](str(config[key])) for name, key in CONFIG_KEYS.items()}
    return ProgramSettings(**values)


def load_settings(session: Session, defaults: ProgramSettings) -> ProgramSettings:
    """The effective settings: defaults overridden by the saved ones."""
    saved = {s.key: s.value for s in session.scalars(select(Setting))}
    overrides: dict[str, Any] = {}
    for name, raw in saved.items():
        if name in PARSERS:
            # A value saved before a rule was tightened falls back to the default, not a 500.
            with contextlib.suppress(ValueError):
                overrides[name] = PARSERS[name](raw)
    return replace(defaults, **overrides)


def save_settings(session: Session, values: Mapping[str, str]) -> None:
    """Validate and store settings; all or nothing, with a message per bad field."""
    errors: dict[str, str] = {}
    parsed: dict[str, str] = {}
    for name, raw in values.items():
        if name not in PARSERS:
            errors[name] = "Unknown setting."
            continue
        if NUL in raw:
            errors[name] = NUL_MESSAGE
            continue
        try:
            PARSERS[name](raw)
        except ValueError as exc:
            errors[name] = _message(exc)
            continue
        parsed[name] = raw.strip()
    if "allowed_domains" in parsed and not parse_allowed_domains(parsed["allowed_domains"]):
        errors["allowed_domains"] = "List at least one domain, e.g. example.com, *.example.com."
    errors.update(_break_glass_errors(session, parsed, errors))
    if errors:
        raise InvalidInput("Settings were not saved.", errors)
    for name, raw in parsed.items():
        setting = session.get(Setting, name) or Setting(key=name)
        setting.value = raw
        setting.updated_at = utcnow()
        session.add(setting)
    session.commit()


def _break_glass_errors(
    session: Session, parsed: Mapping[str, str], errors: Mapping[str, str]
) -> dict[str, str]:
    """Requiring single sign-on needs a named, active admin who may still use a password."""
    if "sso_required" in errors or "sso_break_glass_admin" in errors:
        return {}
    saved = {s.key: s.value for s in session.scalars(select(Setting))}
    required = _flag(parsed.get("sso_required", saved.get("sso_required", "")))
    if not required:
        return {}
    email = _admin_email(
        parsed.get("sso_break_glass_admin", saved.get("sso_break_glass_admin", ""))
    )
    if not email:
        return {
            "sso_break_glass_admin": "Name the admin who may still sign in with a password "
            "when single sign-on is required (the break-glass admin)."
        }
    admin = session.scalar(select(User).where(User.email == email))
    if admin is None or admin.role != "admin" or not admin.active or not admin.password_hash:
        return {
            "sso_break_glass_admin": f"{email} is not an active admin with a password; "
            "the break-glass admin must be one."
        }
    return {}


def _message(exc: ValueError) -> str:
    text = str(exc)
    if text.startswith(("invalid literal", "could not convert")):
        return "Enter a number."
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


SETTING_NAMES = tuple(f.name for f in fields(ProgramSettings))
