"""Program settings for admins: allowed domains, UTM defaults, attribution and money figures."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import ADMINS
from linktracker.clicks.countries import country_data
from linktracker.errors import DomainError
from linktracker.privacy.retention import records_due
from linktracker.settings.services import PARSERS, SETTING_NAMES, save_settings
from linktracker.web.context import db, require_roles, runtime, settings
from linktracker.web.forms import SettingsForm, show_errors

settings_pages = Blueprint("settings_pages", __name__, url_prefix="/app/settings")


def _current_values() -> dict[str, Any]:
    current = settings()
    values: dict[str, Any] = {name: str(getattr(current, name)) for name in SETTING_NAMES}
    values["allowed_domains"] = ", ".join(current.allowed_domains)
    values["show_ranks"] = current.show_ranks  # a checkbox: the value, not its text
    values["sso_required"] = "true" if current.sso_required else "false"
    return values


@settings_pages.route("/", methods=["GET", "POST"])
@require_roles(*ADMINS)
def index() -> str | BaseResponse:
    form = SettingsForm(data=_current_values())
    error = None
    retention = _retention_effect(str(settings().crm_record_retention_months))
    if form.is_submitted():
        values = {name: str(getattr(form, name).data or "") for name in SETTING_NAMES}
        values["show_ranks"] = "on" if form.show_ranks.data else "off"
        retention = _retention_effect(values["crm_record_retention_months"])
        months, due = retention
        previewed = request.form.get("retention_previewed") == str(months)
        changed = months != settings().crm_record_retention_months
        if "preview" in request.form or (changed and due and not previewed):
            # Shown before it is saved: a change that deletes records is saved on a second press.
            return render_template(
                "settings/index.html",
                form=form,
                error=None,
                retention=retention,
                preview=True,
                countries=_country_source(),
            )
        try:
            save_settings(db(), values)
        except DomainError as exc:
            error = show_errors(form, exc)
        else:
            runtime().settings_changed()
            runtime().links.forget()
            flash("Settings saved. New links and reports use them from now on.", "success")
            return redirect(url_for("settings_pages.index"))
    status = 422 if error else 200
    return render_template(  # type: ignore[return-value]
        "settings/index.html",
        form=form,
        error=error,
        retention=retention,
        preview=False,
        countries=_country_source(),
    ), status


def _country_source() -> str:
    """Where click countries come from, said in one sentence (deployment settings, read-only)."""
    config = runtime().config
    if config.country_header:
        return f"From the {config.country_header} header your proxy or CDN sets (COUNTRY_HEADER)."
    if not config.country_lookup:
        return "Not recorded: COUNTRY_HEADER is unset and COUNTRY_LOOKUP is off."
    data = country_data()
    built = f", data of {data.built.isoformat()}" if data.built else ""
    return (
        f"Looked up from the visitor's address in an offline table ({data.package} "
        f"{data.version}{built}, from the Regional Internet Registries); the address is not "
        "stored."
    )


def _retention_effect(value: str) -> tuple[int | None, int]:
    """The months a value sets (None: not valid) and how many records a run would delete."""
    try:
        months: int = PARSERS["crm_record_retention_months"](value)
    except ValueError:
        return None, 0
    return months, records_due(db(), months)
