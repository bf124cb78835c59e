"""Everything held about one employee, as they may download it: no visitor's or customer's data.

An employee's own export holds their profile, their links, the human clicks on each link per
day (counts only: no visitor hashes, browsers or referrers) and the CRM records attributed to
them stripped of everything about the customer (no email or its hash, no name, company or
CRM id, no owner): what kind of record, when, won or not, for how much, and through which
campaign and channel; and the stories they suggested, with what became of each.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import HUMAN_CLICK, Click
from linktracker.contributions.services import list_contributions
from linktracker.crm.models import CrmRecord
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.errors import NotFound
from linktracker.links.models import Link
from linktracker.reports.queries import AttributedClick, record_channel

FORMAT_VERSION = 1


def export_employee_data(
    session: Session, employee_id: int, *, timezone: str, now: datetime | None = None
) -> dict[str, Any]:
    """The JSON-ready export of ``employee_id``'s data; days are in ``timezone``."""
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("There is no such employee.")
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": _time(now or utcnow()),
        "timezone": timezone,
        "profile": _profile(employee),
        "links": _links(session, employee_id),
        "clicks_per_link_and_day": _clicks(session, employee_id, ZoneInfo(timezone)),
        "attributed_records": _records(session, employee_id),
        "contributions": _contributions(session, employee_id),
    }


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _profile(employee: Employee) -> dict[str, Any]:
    return {
        "name": employee.name,
        "email": employee.email,
        "handle": employee.handle,
        "team": employee.team,
        "program_role": employee.program_role,
        "connections": employee.connections,
        "invited_at": _time(employee.invited_at),
        "joined_at": _time(employee.joined_at),
        "active": employee.active,
        "weekly_digest": not employee.digest_opt_out,
    }


def _contributions(session: Session, employee_id: int) -> list[dict[str, Any]]:
    return [
        {
            "url": c.url,
            "title": c.title,
            "note": c.note,
            "status": c.status,
            "created_at": _time(c.created_at),
            "reviewed_at": _time(c.reviewed_at),
            "review_note": c.review_note,
            "campaign": c.campaign_slug,
        }
        for c in reversed(list_contributions(session, employee_id=employee_id))
    ]


def _links(session: Session, employee_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Link, Campaign.slug, Campaign.name)
        .join(Campaign, Campaign.id == Link.campaign_id)
        .where(Link.employee_id == employee_id)
        .order_by(Link.created_at, Link.id)
    )
    return [
        {
            "code": link.code,
            "campaign": slug,
            "campaign_name": name,
            "channel": link.channel,
            "destination": link.destination_url,
            "created_at": _time(link.created_at),
            "disabled": link.disabled,
            "expires_at": _time(link.expires_at),
        }
        for link, slug, name in rows
    ]


def _clicks(session: Session, employee_id: int, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Human clicks per link and local day; read in batches, counted here (any database)."""
    rows = session.execute(
        select(Link.code, Click.created_at)
        .join(Link, Link.id == Click.link_id)
        .where(Click.employee_id == employee_id, HUMAN_CLICK)
        .execution_options(yield_per=5000)
    )
    counts: Counter[tuple[str, str]] = Counter(
        (code, created_at.astimezone(zone).date().isoformat()) for code, created_at in rows
    )
    return [
        {"code": code, "day": day, "clicks": clicks}
        for (code, day), clicks in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0]))
    ]


def _records(session: Session, employee_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            CrmRecord.kind,
            CrmRecord.created_at,
            CrmRecord.closed_at,
            CrmRecord.won,
            CrmRecord.amount,
            CrmRecord.currency,
            CrmRecord.attribution_method,
            Campaign.slug,
            record_channel().label("channel"),
        )
        .select_from(CrmRecord)
        .outerjoin(AttributedClick, AttributedClick.id == CrmRecord.attributed_click_id)
        .outerjoin(Campaign, Campaign.id == CrmRecord.campaign_id)
        .where(CrmRecord.employee_id == employee_id)
        .order_by(CrmRecord.created_at, CrmRecord.id)
    )
    return [
        {
            "kind": row.kind,
            "created_at": _time(row.created_at),
            "closed_at": _time(row.closed_at),
            "won": row.won,
            "amount": str(row.amount) if row.amount is not None else None,
            "currency": row.currency,
            "attribution": row.attribution_method,
            "campaign": row.slug,
            "channel": row.channel,
        }
        for row in rows
    ]
