"""Click counts per link and per campaign, for the link pages, the campaign pages and the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from linktracker.clicks.models import BOT_CLICK, HUMAN_CLICK, PREVIEW_CLICK, Click
from linktracker.employees.models import Employee
from linktracker.links.models import Link


@dataclass(frozen=True)
class LinkClickCounts:
    clicks: int
    bot_clicks: int
    preview_clicks: int
    unique_visitors: int


_NONE = LinkClickCounts(0, 0, 0, 0)


def link_click_counts(session: Session, link_ids: Sequence[int]) -> dict[int, LinkClickCounts]:
    """Per link: human clicks, bot and preview requests, daily unique visitors (one query)."""
    if not link_ids:
        return {}
    rows = session.execute(
        select(
            Click.link_id,
            func.count(case((HUMAN_CLICK, 1))),
            func.count(case((BOT_CLICK, 1))),
            func.count(case((PREVIEW_CLICK, 1))),
            # Visitor hashes are per day, so distinct hashes = daily uniques summed over the range.
            func.count(func.distinct(case((HUMAN_CLICK, Click.visitor_hash)))),
        )
        .where(Click.link_id.in_(list(link_ids)))
        .group_by(Click.link_id)
    )
    found = {row[0]: LinkClickCounts(*(int(n) for n in row[1:])) for row in rows}
    return {i: found.get(i, _NONE) for i in link_ids}


def count_link_clicks(session: Session, link_id: int) -> LinkClickCounts:
    """Human clicks, bot and preview requests, and daily unique visitors of one link."""
    return link_click_counts(session, [link_id])[link_id]


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
            select(Click.campaign_id, func.count()).where(HUMAN_CLICK).group_by(Click.campaign_id)
        ).all()
    )
    return {
        campaign_id: CampaignLinkCount(int(n), int(people), int(clicks.get(campaign_id, 0)))
        for campaign_id, n, people in links
    }


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
        .where(Click.campaign_id == campaign_id, HUMAN_CLICK)
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
