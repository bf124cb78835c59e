"""/api/v1/contributions: employees suggest stories, marketers approve or reject them."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from linktracker.auth.roles import EVERYONE, MANAGERS
from linktracker.contributions.services import (
    ContributionView,
    list_contributions,
    parse_status,
    review_contribution,
    submit_contribution,
)
from linktracker.web.api import api, payload, text
from linktracker.web.context import db, identity, require_roles, settings


def contribution_json(view: ContributionView) -> dict[str, Any]:
    """The API shape of a story suggestion."""
    return {
        "id": view.id,
        "url": view.url,
        "title": view.title,
        "note": view.note,
        "status": view.status,
        "employee": view.employee_handle,
        "created_at": view.created_at.isoformat(),
        "reviewed_at": view.reviewed_at.isoformat() if view.reviewed_at else None,
        "review_note": view.review_note,
        "campaign": view.campaign_slug,
    }


@api.post("/contributions")
@require_roles(*EVERYONE)
def post_contribution() -> tuple[Response, int]:
    data = payload()
    who = identity()
    assert who is not None
    view = submit_contribution(
        db(),
        employee_id=who.employee_id,
        url=text(data, "url", required=True) or "",
        title=text(data, "title"),
        note=text(data, "note"),
    )
    return jsonify(contribution_json(view)), 201


@api.get("/contributions")
@require_roles(*EVERYONE)
def get_contributions() -> Response:
    who = identity()
    assert who is not None
    status = parse_status(request.args.get("status"))
    if who.role in MANAGERS:
        views = list_contributions(db(), status=status)
    elif who.employee_id is None:
        views = []  # an account without an employee profile suggested nothing
    else:
        views = list_contributions(db(), status=status, employee_id=who.employee_id)
    return jsonify({"contributions": [contribution_json(v) for v in views]})


@api.post("/contributions/<int:contribution_id>/review")
@require_roles(*MANAGERS)
def review_contribution_view(contribution_id: int) -> Response:
    data = payload()
    who = identity()
    assert who is not None
    program = settings()
    review = review_contribution(
        db(),
        contribution_id,
        decision=text(data, "decision", required=True) or "",
        note=text(data, "note"),
        reviewer_user_id=who.user_id,
        allowed_domains=program.allowed_domains,
        medium=program.utm_medium,
    )
    body = contribution_json(review.contribution)
    if review.links is not None:
        body["links_created"] = review.links.created
    return jsonify(body)
