"""Flask-WTF forms: they parse and keep what was typed; services do the validating."""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response as BaseResponse
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from linktracker.auth.models import User
from linktracker.auth.roles import ROLES
from linktracker.campaigns.channels import CHANNELS
from linktracker.campaigns.models import GOALS, Campaign
from linktracker.db import Base
from linktracker.employees.models import Employee
from linktracker.errors import DomainError
from linktracker.limits import column_length

ROLE_LABELS = {
    "employee": "Employee — shares links",
    "sales_ops": "Sales ops — imports CRM exports",
    "marketer": "Marketer — campaigns and reports",
    "admin": "Admin — users and settings",
}
CHANNEL_LABELS = {
    "linkedin": "LinkedIn",
    "x": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "email": "Email",
    "whatsapp": "WhatsApp",
    "slack": "Slack",
    "xing": "XING",
    "other": "Other",
}


def choices(pairs: list[tuple[str, str]]) -> list[Any]:
    """(value, label) pairs in the shape this WTForms version wants (3.3 deprecates tuples)."""
    try:
        from wtforms import SelectChoice  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # WTForms < 3.3
        return list(pairs)
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def fits(model: type[Base], column: str) -> Length:
    """A length check (and the input's maxlength) from the model's own column."""
    return Length(max=column_length(model, column), message="At most %(max)d characters.")


class CheckboxListField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), fits(Campaign, "name")])
    slug = StringField(
        "Slug",
        validators=[Optional(), fits(Campaign, "slug")],
        description="Used in utm_campaign and URLs. Left empty, it is made from the name.",
    )
    destination_url = StringField(
        "Destination URL",
        validators=[DataRequired()],
        description="Where the links lead. Its host must be on the allowed-domains list.",
    )
    goal = SelectField(
        "Goal", choices=choices([(g, g.capitalize()) for g in GOALS]), default="leads"
    )
    channels = CheckboxListField(
        "Channels",
        choices=choices([(c, CHANNEL_LABELS.get(c, c)) for c in CHANNELS]),
        default=["linkedin", "x", "facebook", "email"],
    )
    utm_medium = StringField(
        "utm_medium",
        validators=[Optional(), fits(Campaign, "utm_medium")],
        description="Empty: the program default.",
    )
    utm_id = StringField("utm_id", validators=[Optional(), fits(Campaign, "utm_id")])
    utm_term = StringField("utm_term", validators=[Optional(), fits(Campaign, "utm_term")])
    utm_lowercase = BooleanField("Lowercase UTM values (as GA4 expects)", default=True)
    starts_on = DateField("Starts on", validators=[Optional()])
    ends_on = DateField("Ends on", validators=[Optional()])


class EmployeeForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), fits(Employee, "name")])
    email = EmailField("Email", validators=[DataRequired(), fits(Employee, "email")])
    handle = StringField(
        "Handle",
        validators=[Optional(), fits(Employee, "handle")],
        description="Goes into utm_content. Left empty, an opaque one is generated.",
    )
    team = StringField("Team", validators=[Optional(), fits(Employee, "team")])
    connections = StringField(
        "Social connections",
        validators=[Optional()],
        description="Followers and connections across networks; used for estimated reach.",
    )


def sheet_field() -> StringField:
    """The workbook sheet an upload is read from (employee, CRM and ATS imports)."""
    return StringField(
        "Sheet",
        validators=[Optional(), Length(max=100)],
        description="For an .xlsx workbook: the sheet to read. The first visible one when empty.",
    )


class EmployeeImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        "CSV file or Excel workbook",
        validators=[FileRequired("Choose a CSV file or an .xlsx workbook.")],
        description="Columns: name, email, handle, team, connections (name and email required).",
    )
    sheet = sheet_field()


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A confirmation step: no fields, only the CSRF token."""


class CrmUploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        "CRM export (CSV or .xlsx)",
        validators=[FileRequired("Choose the exported CSV file or .xlsx workbook.")],
        description="Salesforce, HubSpot or Pipedrive exports, or any CSV or Excel workbook "
        "with an id and a created date. Comma, semicolon or tab; UTF-8, UTF-16 or "
        "Windows-1252; .xlsx workbooks (not .xls).",
    )
    sheet = sheet_field()
    source = StringField(
        "Source system",
        validators=[Optional()],
        description="Optional, e.g. salesforce. Detected from the columns when empty.",
    )


class AtsUploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        "ATS export (CSV or .xlsx)",
        validators=[FileRequired("Choose the exported file.")],
        description="Greenhouse, Lever, Ashby, Workable, SmartRecruiters, Personio or Teamtailor "
        "exports, or any CSV or Excel workbook (.xlsx, not .xls) with an application id and "
        "an application date.",
    )
    sheet = sheet_field()
    source = StringField(
        "Source system",
        validators=[Optional()],
        description="Optional, e.g. greenhouse. Detected from the columns when empty.",
    )


class UserForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), fits(User, "email")])
    role = SelectField(
        "Role", choices=choices([(r, ROLE_LABELS[r]) for r in ROLES]), default="employee"
    )
    password = PasswordField(
        "Initial password",
        description="Required: at least 10 characters, not a common or easily guessed one. "
        "Share it privately; an admin can reset it later.",
        render_kw={"autocomplete": "new-password"},
    )


class PasswordResetForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        "New password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class SettingsForm(FlaskForm):  # type: ignore[misc]
    allowed_domains = StringField(
        "Allowed destination domains",
        description="Comma-separated. *.example.com allows every subdomain.",
    )
    utm_medium = StringField("Default utm_medium")
    click_id_param = StringField(
        "Click-id parameter", description="Appended to every redirect, e.g. lt_cid."
    )
    attribution_window_days = StringField(
        "Attribution window (days)", description="How long before a lead a click still counts."
    )
    cpm = StringField("CPM", description="Cost per 1,000 impressions, for earned media value.")
    cost_per_lead = StringField("Cost per lead", description="For lead-cost savings.")
    reporting_timezone = StringField(
        "Reporting time zone", description="IANA name, e.g. Europe/Berlin."
    )
    default_currency = StringField(
        "Default currency",
        description="ISO code, e.g. EUR: of CPM, cost per lead and CRM amounts without one.",
    )
    erased_links = SelectField(
        "Links of erased employees",
        choices=choices([("keep", "Keep redirecting"), ("disable", "Disable")]),
        description="Keep: posts they shared live on. Disable: their links answer as disabled.",
    )
    crm_record_retention_months = StringField(
        "Keep CRM records (months)",
        description="After their close date (open records: after creation). 0 keeps them.",
    )
    show_ranks = BooleanField(
        "Show employees their rank",
        description="On their results page: their rank among active employees and the top 10 "
        "by clicks and by leads.",
    )
    sso_required = SelectField(
        "Password sign-in",
        choices=choices(
            [
                ("false", "Allowed for everyone"),
                ("true", "Only the break-glass admin (SSO required)"),
            ]
        ),
        description="Required: everyone else signs in with the company's identity provider.",
    )
    sso_break_glass_admin = StringField(
        "Break-glass admin",
        description="The email of the one admin who may still sign in with a password.",
    )


def show_errors(form: FlaskForm, exc: DomainError) -> str:
    """Put a service's field messages beside the fields; return the general message."""
    unplaced: list[str] = []
    for name, message in exc.fields.items():
        field: Field | None = getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = [*list(field.errors or []), message]
        else:
            unplaced.append(message)
    return " ".join([exc.message, *unplaced])


def render_form(
    template: str, *, form: FlaskForm, error: str | None, **context: Any
) -> BaseResponse:
    """The form's page: 422 when the form or the service found a problem, else 200."""
    page = render_template(template, form=form, error=error, **context)
    return make_response(page, 422 if error or form.errors else 200)


def form_values(form: FlaskForm, *names: str) -> dict[str, Any]:
    """The named fields' data, strings stripped."""
    values: dict[str, Any] = {}
    for name in names:
        data = getattr(form, name).data
        values[name] = data.strip() if isinstance(data, str) else data
    return values
