"""`lead.attributed` and `deal.won` webhook events, queued by the attribution run.

Each record's events are queued once, in the attribution's own transaction: the first
time it is attributed (method other than `none`) and the first time it is won. The
record's marker columns say they were queued, so a re-run, a re-import or a later edit
sends nothing twice; records that are never attributed still send `deal.won`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.orm import Session, aliased

from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import Click
from linktracker.crm.models import CrmRecord
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.webhooks.services import enqueue_event, subscribers

_CHUNK = 5000


def queue_record_events(session: Session, ids: Sequence[int] | None) -> None:
    """Queue the events of newly attributed and newly won records (in the caller's transaction)."""
    now = utcnow()
    scopes: list[ColumnElement[bool]] = (
        [true()]
        if ids is None
        else [CrmRecord.id.in_(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]
    )
    kinds = (
        ("lead.attributed", CrmRecord.lead_event_at, CrmRecord.attribution_method != "none"),
        ("deal.won", CrmRecord.won_event_at, CrmRecord.won.is_(True)),
    )
    for event_type, marker, condition in kinds:
        hooks = subscribers(session, event_type)
        for scope in scopes:
            pending = (scope, condition, marker.is_(None))
            if hooks:
                for data in _records_json(session, pending):
                    enqueue_event(session, event_type, data, hooks=hooks, now=now)
                session.flush()
            session.execute(
                update(CrmRecord)
                .where(*pending)
                .values({marker.key: now})
                .execution_options(synchronize_session=False)
            )


def _records_json(session: Session, where: tuple[ColumnElement[bool], ...]) -> list[dict[str, Any]]:
    credited = aliased(Click)
    query = (
        select(CrmRecord, Employee, Campaign.slug, credited.click_id)
        .outerjoin(Employee, Employee.id == CrmRecord.employee_id)
        .outerjoin(Campaign, Campaign.id == CrmRecord.campaign_id)
        .outerjoin(credited, credited.id == CrmRecord.attributed_click_id)
        .where(*where)
        .order_by(CrmRecord.id)
    )
    return [
        record_json(record, employee, slug, click_id)
        for record, employee, slug, click_id in session.execute(query)
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def record_json(
    record: CrmRecord, employee: Employee | None, campaign: str | None, click_id: str | None
) -> dict[str, Any]:
    """The `data` of a record's event: the record, who it is credited to, and how."""
    return {
        "record": {
            "source": record.source,
            "external_id": record.external_id,
            "kind": record.kind,
            "created_at": _iso(record.created_at),
            "stage": record.stage,
            "won": record.won,
            "closed_at": _iso(record.closed_at),
            "amount": None if record.amount is None else str(record.amount),
            "currency": record.currency,
            "utm_campaign": record.utm_campaign,
            "utm_content": record.utm_content,
        },
        "attribution": {
            "method": record.attribution_method,
            "employee": None
            if employee is None
            else {"handle": employee.handle, "name": employee.name, "team": employee.team},
            "campaign": campaign,
            "click_id": click_id,
            "seconds_from_click": record.seconds_from_click,
        },
    }
