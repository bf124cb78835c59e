"""Read-only link overviews for the web UI: one employee's links, link counts per campaign."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from linktracker.clicks.models import Click
from linktracker.employees.models import Employee
from linktracker.links.models import Link

_HUMAN = ~Click.is_bot & ~Click.is_preview


@dataclass(frozen=True)
class LinkFigures:
    link_id: int
    clicks: int
    unique_visitors: int


def link_figures(session: Session, link_ids: Sequence[int]) -> dict[int, LinkFigures]:
    """Human clicks and daily unique visitors per link, aggregated in one query."""
    if not link_ids:
        return {}
    rows = session.execute(
        select(
            Click.link_id,
            func.count(case((_HUMAN, 1))),
            func.count(func.distinct(case((_HUMAN, Click.visitor_hash)))),
        )
        .where(Click.link_id.in_(list(link_ids)))
        .group_by(Click.link_id)
    )
    found = {row[0]: LinkFigures(row[0], int(row[1]), int(row[2])) for row in rows}
    return {i: found.get(i, LinkFigures(i, 0, 0)) for i in link_ids}


@dataclass(frozen=True)
class CampaignLinkCount:
    links: int
    employees: int
    clicks: int


def campaign_link_counts(session: Session) -> dict[int, CampaignLinkCount]:
    """Per campaign: links made, employees with a link, human clicks."""
    links = session.execute(
        select(
            Link.campaign_id, func.count(Link.id), func.count(func.distinct(Link.employee_id))
        ).group_by(Link.campaign_id)
    ).all()
    clicks = dict(
        session.execute(
            select(Click.campaign_id, func.count()).where(_HUMAN).group_by(Click.campaign_id)
        ).all()
    )
    return {
        campaign_id: CampaignLinkCount(int(n), int(people), int(clicks.get(campaign_id, 0)))
        for campaign_id, n, people in links
    }


def employee_link_for_code(session: Session, code: str) -> Link | None:
    """The link with this short code, if any."""
    return session.scalar(select(Link).where(Link.code == code))


@dataclass(frozen=True)
class CampaignLinkRow:
    code: str
    channel: str
    employee_name: str
    employee_handle: str
    clicks: int
    disabled: bool


def campaign_links(session: Session, campaign_id: int, limit: int = 20) -> list[CampaignLinkRow]:
    """A campaign's links, most clicked first, with their employee and human clicks."""
    clicks = (
        select(Click.link_id, func.count().label("n"))
        .where(Click.campaign_id == campaign_id, _HUMAN)
        .group_by(Click.link_id)
        .subquery()
    )
    count = func.coalesce(clicks.c.n, 0)
    rows = session.execute(
        select(Link.code, Link.channel, Employee.name, Employee.handle, count, Link.disabled)
        .join(Employee, Employee.id == Link.employee_id)
        .outerjoin(clicks, clicks.c.link_id == Link.id)
        .where(Link.campaign_id == campaign_id)
        .order_by(count.desc(), Employee.name, Link.channel)
        .limit(limit)
    )
    return [CampaignLinkRow(r[0], r[1], r[2], r[3], int(r[4]), bool(r[5])) for r in rows]
