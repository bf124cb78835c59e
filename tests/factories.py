"""Typed factories with keyword overrides, building through the real services."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.campaigns.services import create_campaign
from linktracker.clicks.services import click_row, insert_click_rows
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.employees.services import create_employee
from linktracker.links.models import Link
from linktracker.links.services import LinkTarget, get_or_create_link

ALLOWED = ("example.com", "*.example.com")
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
_seq = itertools.count(1)


def make_employee(session: Session, **overrides: Any) -> Employee:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Employee {n}",
        "email": f"employee{n}@example.com",
        "team": "Sales",
        "connections": 500,
    }
    values.update(overrides)
    return create_employee(session, **values)


def make_campaign(session: Session, **overrides: Any) -> Campaign:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Campaign {n}",
        "destination_url": "https://www.example.com/landing",
        "allowed_domains": ALLOWED,
        "channels": ["linkedin", "x", "facebook", "email"],
    }
    values.update(overrides)
    return create_campaign(session, **values)


def make_link(
    session: Session,
    campaign: Campaign | None = None,
    employee: Employee | None = None,
    channel: str = "linkedin",
) -> Link:
    campaign = campaign or make_campaign(session)
    employee = employee or make_employee(session)
    return get_or_create_link(
        session,
        campaign_slug=campaign.slug,
        employee_handle=employee.handle,
        channel=channel,
        medium="social",
        allowed_domains=ALLOWED,
    ).link


def make_click(
    session: Session,
    link: Link,
    *,
    at: datetime | None = None,
    user_agent: str = CHROME,
    ip: str = "198.51.100.7",
    referrer: str | None = None,
    method: str = "GET",
    secret: bytes = b"test-secret",
) -> dict[str, Any]:
    target = LinkTarget(
        link.id, link.employee_id, link.campaign_id, link.channel, link.destination_url, False, None
    )
    visitor = Visitor(ip, user_agent, referrer, None, method, "")
    row = click_row(target, visitor, secret=secret, now=at or utcnow(), click_id=new_click_id())
    insert_click_rows(session.connection(), [row])
    session.commit()
    return row


def make_crm_record(session: Session, **overrides: Any) -> Any:
    """A CrmRecord inserted directly (as an import would leave it), unattributed."""
    from linktracker.crm.models import CrmRecord

    n = next(_seq)
    values: dict[str, Any] = {
        "source": "test",
        "external_id": f"R{n}",
        "kind": "lead",
        "created_at": utcnow(),
        "content_hash": f"hash{n}",
    }
    values.update(overrides)
    record = CrmRecord(**values)
    session.add(record)
    session.commit()
    return record
