"""Program settings for admins: allowed domains, UTM defaults, attribution and money figures."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import ADMINS
from linktracker.errors import DomainError
from linktracker.settings.services import SETTING_NAMES, save_settings
from linktracker.web.context import db, require_roles, runtime, settings
from linktracker.web.forms import SettingsForm, show_errors

settings_pages = Blueprint("settings_pages", __name__, url_prefix="/app/settings")


def _current_values() -> dict[str, str]:
    current = settings()
    values = {name: str(getattr(current, name)) for name in SETTING_NAMES}
    values["allowed_domains"] = ", ".join(current.allowed_domains)
    return values


@settings_pages.route("/", methods=["GET", "POST"])
@require_roles(*ADMINS)
def index() -> str | BaseResponse:
    form = SettingsForm(data=_current_values())
    error = None
    if form.is_submitted():
        values = {name: str(getattr(form, name).data or "") for name in SETTING_NAMES}
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
    return render_template("settings/index.html", form=form, error=error), status  # type: ignore[return-value]
