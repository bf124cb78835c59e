"""An employee's links on the running campaigns: what "My links" lists, and making the missing.

Listing writes nothing: a page view never creates a link. The missing links are made by
``make_employee_links`` (a POST from the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.campaigns.services import list_campaigns
from linktracker.employees.models import Employee
from linktracker.errors import DomainError
from linktracker.links.models import Link
from linktracker.links.services import get_or_create_link
from linktracker.links.utm import destination_for
from linktracker.urls.destinations import check_destination


@dataclass(frozen=True)
class ChannelLink:
    """One channel of a campaign: the employee's link, or why it cannot be made (or neither)."""

    channel: str
    link: Link | None
    problem: str | None = None


@dataclass(frozen=True)
class EmployeeCampaign:
    campaign: Campaign
    channels: list[ChannelLink]

    @property
    def missing(self) -> list[str]:
        """Channels whose link is not made yet and could be."""
        return [c.channel for c in self.channels if c.link is None and c.problem is None]


def running_campaigns(session: Session, today: date) -> list[Campaign]:
    """Active campaigns whose dates include ``today``, newest first."""
    return [
        c
        for c in list_campaigns(session, active_only=True)
        if (c.starts_on is None or c.starts_on <= today)
        and (c.ends_on is None or c.ends_on >= today)
    ]


def list_employee_links(
    session: Session,
    employee: Employee,
    *,
    today: date,
    medium: str,
    allowed_domains: Sequence[str],
) -> list[EmployeeCampaign]:
    """Every running campaign with this employee's link per channel (writes nothing)."""
    campaigns = running_campaigns(session, today)
    links = {
        (link.campaign_id, link.channel): link
        for link in session.scalars(
            select(Link).where(
                Link.employee_id == employee.id,
                Link.campaign_id.in_([c.id for c in campaigns]),
            )
        )
    }
    return [
        EmployeeCampaign(
            campaign,
            [
                _channel_link(campaign, employee, channel, links, medium, allowed_domains)
                for channel in campaign.channels
            ],
        )
        for campaign in campaigns
    ]


def _channel_link(
    campaign: Campaign,
    employee: Employee,
    channel: str,
    links: dict[tuple[int, str], Link],
    medium: str,
    allowed_domains: Sequence[str],
) -> ChannelLink:
    link = links.get((campaign.id, channel))
    if link is not None:
        return ChannelLink(channel, link)
    try:  # the check making the link would refuse it with
        check_destination(
            destination_for(campaign, employee.handle, channel, medium), allowed_domains
        )
    except DomainError as exc:
        return ChannelLink(channel, None, exc.message)
    return ChannelLink(channel, None)


def make_employee_links(
    session: Session,
    employee: Employee,
    *,
    today: date,
    medium: str,
    allowed_domains: Sequence[str],
) -> tuple[int, list[str]]:
    """Make this employee's missing links on the running campaigns: (made, problems)."""
    made, problems = 0, []
    for campaign in running_campaigns(session, today):
        for channel in campaign.channels:
            try:
                result = get_or_create_link(
                    session,
                    campaign_slug=campaign.slug,
                    employee_handle=employee.handle,
                    channel=channel,
                    medium=medium,
                    allowed_domains=allowed_domains,
                )
            except DomainError as exc:
                problems.append(f"{campaign.name}, {channel}: {exc.message}")
            else:
                made += result.created
    return made, problems


def ended_employee_links(
    session: Session, employee: Employee, today: date
) -> list[EmployeeCampaign]:
    """Campaigns no longer running (ended or retired) on which this employee has links."""
    running = {c.id for c in running_campaigns(session, today)}
    links: dict[int, list[Link]] = {}
    for link in session.scalars(
        select(Link).where(Link.employee_id == employee.id).order_by(Link.id)
    ):
        if link.campaign_id not in running:
            links.setdefault(link.campaign_id, []).append(link)
    if not links:
        return []
    campaigns = session.scalars(select(Campaign).where(Campaign.id.in_(links)))
    ended = sorted(campaigns, key=lambda c: (c.ends_on or today, c.created_at, c.id), reverse=True)
    return [
        EmployeeCampaign(c, [ChannelLink(link.channel, link) for link in links[c.id]])
        for c in ended
    ]
