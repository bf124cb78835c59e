"""The weekly digest email: an employee's switch and preview, and the mail's unsubscribe link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import EVERYONE
from linktracker.digest.services import (
    DigestConfig,
    digest_config,
    digest_text,
    last_full_week,
    plan_digests,
    read_unsubscribe_token,
    set_digest_opt_out,
)
from linktracker.employees.models import Employee
from linktracker.errors import NotFound
from linktracker.extensions import csrf
from linktracker.reports.filters import today_in
from linktracker.web.context import db, identity, require_roles, runtime, settings

digest_pages = Blueprint("digest_pages", __name__, url_prefix="/app/digest")


def _config() -> DigestConfig:
    config = runtime().config
    return digest_config(
        settings(), base_url=config.base_url, secret=runtime().secret, sender=config.digest_from
    )


def _own_employee() -> Employee | None:
    who = identity()
    assert who is not None
    return db().get(Employee, who.employee_id) if who.employee_id else None


@digest_pages.get("/")
@require_roles(*EVERYONE)
def index() -> str:
    employee = _own_employee()
    preview = None
    if employee is not None:
        config = _config()
        week = last_full_week(today_in(config.timezone))
        plan = plan_digests(db(), week, config, employee_ids=[employee.id], preview=True)
        preview = digest_text(plan.digests[0]) if plan.digests else None
    return render_template("digest/index.html", employee=employee, preview=preview)


@digest_pages.post("/")
@require_roles(*EVERYONE)
def subscription() -> BaseResponse:
    employee = _own_employee()
    if employee is None:
        raise NotFound("Your account has no employee profile, so it gets no digest.")
    wanted = request.form.get("digest") == "on"
    set_digest_opt_out(db(), employee.id, not wanted)
    flash(
        "You get the weekly digest email again."
        if wanted
        else "The weekly digest email is off; turn it back on here whenever you like.",
        "success",
    )
    return redirect(url_for("digest_pages.index"))


@digest_pages.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    employee_id = read_unsubscribe_token(runtime().secret, token)
    employee = db().get(Employee, employee_id)
    if employee is None or employee.erased_at is not None:
        raise NotFound("This unsubscribe link is not valid any more.")
    return render_template("digest/unsubscribe.html", employee=employee, token=token, done=False)


@digest_pages.post("/unsubscribe/<token>")
def unsubscribe(token: str) -> str:
    employee_id = read_unsubscribe_token(runtime().secret, token)
    employee = set_digest_opt_out(db(), employee_id, True)
    return render_template("digest/unsubscribe.html", employee=employee, token=token, done=True)


# The link in the mail is the credential (signed, one employee); mail clients' one-click
# unsubscribe (RFC 8058) posts to it without a form token.
csrf.exempt(unsubscribe)
