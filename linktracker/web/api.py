"""JSON API under /api/v1: maps JSON to service arguments and domain errors to statuses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from linktracker.auth.roles import MANAGERS
from linktracker.campaigns.models import Campaign
from linktracker.campaigns.post_texts import PostTextInput, list_post_texts
from linktracker.campaigns.services import create_campaign, get_campaign, set_post_texts
from linktracker.clicks.counts import count_link_clicks
from linktracker.employees.models import Employee
from linktracker.employees.services import create_employee
from linktracker.errors import Forbidden, InvalidInput, NotFound
from linktracker.links.models import Link
from linktracker.links.services import get_link, get_or_create_link
from linktracker.web.context import Identity, db, identity, require_roles, runtime, settings
from linktracker.web.security import protect_cookie_writes

api = Blueprint("api", __name__, url_prefix="/api/v1")
# Exempt from the app-wide form check (bearer requests cannot be forged), checked here instead.
api.before_request(protect_cookie_writes)


class BadRequest(InvalidInput):
    status = 400


def payload() -> dict[str, Any]:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("The JSON body is nested too deeply; send a flat JSON object.") from None
    if not isinstance(data, dict):
        raise BadRequest("Send a JSON object with Content-Type: application/json.")
    return data


def text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string field of the payload (None when absent), with a field error when mistyped."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"'{name}' is required.", {name: "Required."})
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string.", {name: "Must be a string."})
    return value


def employee_json(employee: Employee) -> dict[str, Any]:
    """The API shape of an employee."""
    return {
        "id": employee.id,
        "name": employee.name,
        "email": employee.email,
        "handle": employee.handle,
        "team": employee.team,
        "connections": employee.connections,
        "active": employee.active,
    }


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    """The API shape of a campaign."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "slug": campaign.slug,
        "destination_url": campaign.destination_url,
        "channels": list(campaign.channels),
        "goal": campaign.goal,
        "active": campaign.active,
        "utm_lowercase": campaign.utm_lowercase,
        "utm": {"medium": campaign.utm_medium, "id": campaign.utm_id, "term": campaign.utm_term},
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else None,
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
        "post_texts": [
            {"channel": t.channel, "text": t.text}
            for t in list_post_texts(db(), [campaign.id]).get(campaign.id, [])
        ],
    }


def post_texts_field(data: dict[str, Any]) -> list[PostTextInput] | None:
    """The payload's ``post_texts``: [{channel: str | null, text: str}, ...] (None when absent)."""
    value = data.get("post_texts")
    if value is None:
        return None
    message = "'post_texts' must be a list of {channel, text} objects."
    if not isinstance(value, list):
        raise InvalidInput(message, {"post_texts": "Must be a list."})
    texts = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidInput(message, {f"post_texts.{n}": "Must be an object."})
        channel, text_ = item.get("channel"), item.get("text")
        if channel is not None and not isinstance(channel, str):
            raise InvalidInput(message, {f"post_texts.{n}.channel": "Must be a string or null."})
        if not isinstance(text_, str):
            raise InvalidInput(message, {f"post_texts.{n}.text": "Must be a string."})
        texts.append(PostTextInput(channel, text_))
    return texts


def link_json(link: Link) -> dict[str, Any]:
    """The API shape of a link."""
    campaign = db().get(Campaign, link.campaign_id)
    employee = db().get(Employee, link.employee_id)
    return {
        "code": link.code,
        "short_url": f"{runtime().config.base_url}/{link.code}",
        "destination_url": link.destination_url,
        "channel": link.channel,
        "campaign": campaign.slug if campaign else None,
        "employee": employee.handle if employee else None,
        "created_at": link.created_at.isoformat(),
        "disabled": link.disabled,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
    }


@api.post("/employees")
@require_roles(*MANAGERS)
def post_employee() -> tuple[Response, int]:
    data = payload()
    connections = data.get("connections")
    if connections is not None and (not isinstance(connections, int) or connections < 0):
        raise InvalidInput(
            "'connections' must be a whole number of 0 or more.", {"connections": "Invalid."}
        )
    employee = create_employee(
        db(),
        name=text(data, "name", required=True) or "",
        email=text(data, "email", required=True) or "",
        handle=text(data, "handle"),
        team=text(data, "team"),
        connections=connections,
    )
    return jsonify(employee_json(employee)), 201


@api.post("/campaigns")
@require_roles(*MANAGERS)
def post_campaign() -> tuple[Response, int]:
    data = payload()
    utm = data.get("utm") or {}
    channels = data.get("channels")
    if not isinstance(utm, dict):
        raise InvalidInput("'utm' must be an object.", {"utm": "Must be an object."})
    if channels is not None and (
        not isinstance(channels, list) or not all(isinstance(c, str) for c in channels)
    ):
        raise InvalidInput("'channels' must be a list of strings.", {"channels": "Invalid."})
    lowercase = data.get("utm_lowercase", runtime().config.utm_lowercase)
    if not isinstance(lowercase, bool):
        raise InvalidInput(
            "'utm_lowercase' must be true or false.", {"utm_lowercase": "Use true or false."}
        )
    campaign = create_campaign(
        db(),
        name=text(data, "name", required=True) or "",
        destination_url=text(data, "destination_url", required=True) or "",
        allowed_domains=settings().allowed_domains,
        slug=text(data, "slug"),
        channels=channels,
        goal=text(data, "goal") or "leads",
        utm_medium=text(utm, "medium"),
        utm_id=text(utm, "id"),
        utm_term=text(utm, "term"),
        utm_lowercase=lowercase,
        post_texts=post_texts_field(data) or (),
    )
    return jsonify(campaign_json(campaign)), 201


@api.get("/campaigns/<slug>")
@require_roles(*MANAGERS)
def get_campaign_view(slug: str) -> Response:
    return jsonify(campaign_json(get_campaign(db(), slug)))


@api.put("/campaigns/<slug>/post_texts")
@require_roles(*MANAGERS)
def put_post_texts(slug: str) -> Response:
    texts = post_texts_field(payload())
    if texts is None:
        raise InvalidInput("'post_texts' is required.", {"post_texts": "Required."})
    return jsonify(campaign_json(set_post_texts(db(), slug, texts)))


def _may_use_employee(who: Identity, handle: str) -> None:
    if who.role in MANAGERS:
        return
    employee = db().scalar(select(Employee).where(Employee.handle == handle))
    if employee is None or employee.id != who.employee_id:
        raise Forbidden("Employees may only use their own links.")


@api.post("/links")
@require_roles(*MANAGERS, "employee")
def post_link() -> tuple[Response, int]:
    data = payload()
    handle = text(data, "employee", required=True) or ""
    who = identity()
    assert who is not None
    _may_use_employee(who, handle)
    result = get_or_create_link(
        db(),
        campaign_slug=text(data, "campaign", required=True) or "",
        employee_handle=handle,
        channel=text(data, "channel", required=True) or "",
        medium=settings().utm_medium,
        allowed_domains=settings().allowed_domains,
        vanity=text(data, "code"),
        chosen_by=who.role,
    )
    return jsonify(link_json(result.link)), 201 if result.created else 200


@api.get("/links/<code>")
@require_roles(*MANAGERS, "employee")
def get_link_view(code: str) -> Response:
    link = get_link(db(), code)
    who = identity()
    assert who is not None
    if who.role not in MANAGERS and link.employee_id != who.employee_id:
        # Same answer as a missing code, so codes of others cannot be probed.
        raise NotFound(f"No link with code '{code}'.")
    counts = count_link_clicks(db(), link.id)
    return jsonify(
        link_json(link)
        | {
            "clicks": counts.clicks,
            "bot_clicks": counts.bot_clicks,
            "preview_clicks": counts.preview_clicks,
            "unique_visitors": counts.unique_visitors,
        }
    )
