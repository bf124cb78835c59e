"""Story suggestions: employees suggest content to share, marketers review it into campaigns."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import EVERYONE, MANAGERS
from linktracker.contributions.services import (
    count_pending,
    list_contributions,
    parse_status,
    review_contribution,
    submit_contribution,
)
from linktracker.errors import DomainError
from linktracker.web.context import db, identity, require_roles, settings

stories = Blueprint("stories", __name__, url_prefix="/app/stories")


def _page(status: int = 200, **values: object) -> tuple[str, int]:
    who = identity()
    assert who is not None
    values.setdefault("errors", {})
    values.setdefault("error", None)
    values.setdefault("form", {})
    mine = list_contributions(db(), employee_id=who.employee_id) if who.employee_id else []
    pending = count_pending(db()) if who.role in MANAGERS else None
    return render_template(
        "stories/index.html",
        has_profile=who.employee_id is not None,
        mine=mine,
        pending=pending,
        **values,
    ), status


@stories.get("/")
@require_roles(*EVERYONE)
def index() -> tuple[str, int]:
    return _page()


@stories.post("/")
@require_roles(*EVERYONE)
def submit() -> BaseResponse | tuple[str, int]:
    who = identity()
    assert who is not None
    form = {name: request.form.get(name, "") for name in ("url", "title", "note")}
    try:
        submit_contribution(db(), employee_id=who.employee_id, **form)
    except DomainError as exc:
        return _page(exc.status, error=exc.message, errors=exc.fields, form=form)
    flash("Thanks! Your suggestion is waiting for a marketer's review.", "success")
    return redirect(url_for("stories.index"))


@stories.get("/review")
@require_roles(*MANAGERS)
def review_queue() -> tuple[str, int]:
    try:
        status = parse_status(request.args.get("status", "pending"))
    except DomainError as exc:
        return render_template("stories/review.html", rows=[], status=None, error=exc.message), 400
    rows = list_contributions(db(), status=status)
    return render_template("stories/review.html", rows=rows, status=status, error=None), 200


@stories.post("/<int:contribution_id>/review")
@require_roles(*MANAGERS)
def review(contribution_id: int) -> BaseResponse:
    who = identity()
    assert who is not None
    program = settings()
    try:
        result = review_contribution(
            db(),
            contribution_id,
            decision=request.form.get("decision", ""),
            note=request.form.get("note"),
            reviewer_user_id=who.user_id,
            allowed_domains=program.allowed_domains,
            medium=program.utm_medium,
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("stories.review_queue"))
    view = result.contribution
    if result.links is not None:
        flash(
            f"Approved: campaign '{view.campaign_name}' made, with {result.links.created:,} "
            "personal link(s) for the employees.",
            "success",
        )
    else:
        flash(f"Rejected the suggestion of {view.employee_name}; they see your note.", "success")
    return redirect(url_for("stories.review_queue"))
