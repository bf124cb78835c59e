"""Personal short links: building their UTM destination, creating them, finding them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linktracker.auth.roles import MANAGERS
from linktracker.campaigns.models import Campaign
from linktracker.campaigns.services import get_campaign
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.employees.services import get_employee
from linktracker.errors import Conflict, Forbidden, InvalidInput, NotFound
from linktracker.limits import refuse_nul
from linktracker.links.codes import new_code, validate_vanity
from linktracker.links.models import Link
from linktracker.links.utm import destination_for
from linktracker.urls.destinations import check_destination

MAX_CODE_ATTEMPTS = 8
BULK_CHUNK = 2000
# A chosen code such as /pricing reads as the company's own page, so only those who speak
# for the company may pick one; everyone else gets a random code.
CODE_CHOOSERS = MANAGERS


@dataclass(frozen=True)
class LinkResult:
    link: Link
    created: bool


def get_or_create_link(
    session: Session,
    *,
    campaign_slug: str,
    employee_handle: str,
    channel: str,
    medium: str,
    allowed_domains: Sequence[str],
    vanity: str | None = None,
    chosen_by: str | None = None,
    make_code: Callable[[], str] = new_code,
) -> LinkResult:
    """The link for (campaign, employee, channel), created on first request.

    A custom short code (`vanity`) is only taken from a manager: `chosen_by` is the role of
    whoever asks for it.
    """
    refuse_nul(
        "The link could not be made.",
        {
            "campaign": campaign_slug,
            "employee": employee_handle,
            "channel": channel,
            "code": vanity,
        },
    )
    if vanity is not None:
        check_may_choose_code(chosen_by)
    campaign = get_campaign(session, campaign_slug)
    employee = get_employee(session, employee_handle)
    channel = channel.strip().lower()
    if channel not in campaign.channels:
        raise InvalidInput(
            f"Channel '{channel}' is not enabled for campaign '{campaign.slug}' "
            f"(enabled: {', '.join(campaign.channels)}).",
            {"channel": "Not enabled for this campaign."},
        )
    existing = _find(session, campaign.id, employee.id, channel)
    if existing is not None:
        return LinkResult(existing, created=False)
    if not campaign.active:
        raise Conflict(f"Campaign '{campaign.slug}' is disabled; no new links can be made.")
    destination = check_destination(
        destination_for(campaign, employee.handle, channel, medium), allowed_domains
    )
    if vanity is not None:
        validate_vanity(vanity)
        if session.scalar(select(Link.id).where(Link.code == vanity)):
            raise Conflict(f"The short code '{vanity}' is already in use.", {"code": "Taken."})
    for _attempt in range(MAX_CODE_ATTEMPTS):
        link = Link(
            code=vanity or make_code(),
            campaign_id=campaign.id,
            employee_id=employee.id,
            channel=channel,
            destination_url=destination,
            vanity=vanity is not None,
            created_at=utcnow(),
        )
        session.add(link)
        _mark_joined(employee)
        try:
            session.commit()
            return LinkResult(link, created=True)
        except IntegrityError:
            session.rollback()
            raced = _find(session, campaign.id, employee.id, channel)
            if raced is not None:
                return LinkResult(raced, created=False)
            if vanity is not None:
                raise Conflict(f"The short code '{vanity}' is already in use.") from None
    raise Conflict("Could not find a free short code; try again.")


def check_may_choose_code(role: str | None) -> None:
    """Refuse custom short codes to anyone but marketers and admins."""
    if role not in CODE_CHOOSERS:
        raise Forbidden(
            "Custom short codes (such as /pricing) are chosen by marketers and admins only; "
            "leave the code out and your link gets a random one.",
            {"code": "Only marketers and admins choose custom codes."},
        )


def _mark_joined(employee: Employee) -> None:
    # joined_at is the first login or the first link, whichever comes first.
    if employee.joined_at is None:
        employee.joined_at = utcnow()


def _find(session: Session, campaign_id: int, employee_id: int, channel: str) -> Link | None:
    return session.scalar(
        select(Link).where(
            Link.campaign_id == campaign_id,
            Link.employee_id == employee_id,
            Link.channel == channel,
        )
    )


@dataclass(frozen=True)
class BulkResult:
    created: int
    existing: int


def create_campaign_links(
    session: Session,
    *,
    campaign_slug: str,
    medium: str,
    allowed_domains: Sequence[str],
    make_code: Callable[[], str] = new_code,
) -> BulkResult:
    """Make every missing link of a campaign: all active employees × its channels, in bulk."""
    campaign = get_campaign(session, campaign_slug)
    if not campaign.active:
        raise Conflict(f"Campaign '{campaign.slug}' is disabled; no new links can be made.")
    # Validate once: every link shares the campaign's host, only UTM values differ.
    check_destination(campaign.destination_url, allowed_domains)
    employees = session.execute(
        select(Employee.id, Employee.handle).where(Employee.active.is_(True))
    ).all()
    existing = _existing_pairs(session, campaign.id)
    wanted = [
        (emp_id, handle, channel)
        for emp_id, handle in employees
        for channel in campaign.channels
        if (emp_id, channel) not in existing
    ]
    now = utcnow()
    rows = [
        {
            "campaign_id": campaign.id,
            "employee_id": emp_id,
            "channel": channel,
            "destination_url": destination_for(campaign, handle, channel, medium),
            "vanity": False,
            "created_at": now,
            "disabled": False,
        }
        for emp_id, handle, channel in wanted
    ]
    created = 0
    for start in range(0, len(rows), BULK_CHUNK):
        created += _insert_chunk(session, rows[start : start + BULK_CHUNK], make_code)
    _mark_joined_bulk(session, {emp_id for emp_id, _handle, _channel in wanted}, now)
    session.commit()
    return BulkResult(created=created, existing=len(existing))


def _existing_pairs(session: Session, campaign_id: int) -> set[tuple[int, str]]:
    return {
        (emp_id, channel)
        for emp_id, channel in session.execute(
            select(Link.employee_id, Link.channel).where(Link.campaign_id == campaign_id)
        )
    }


def _insert_chunk(
    session: Session, rows: list[dict[str, object]], make_code: Callable[[], str]
) -> int:
    for _attempt in range(MAX_CODE_ATTEMPTS):
        for row in rows:
            row["code"] = make_code()
        savepoint = session.begin_nested()
        try:
            session.execute(insert(Link), rows)
            savepoint.commit()
            return len(rows)
        except IntegrityError:
            savepoint.rollback()
            rows = _still_missing(session, rows)
            if not rows:
                return 0
    raise Conflict("Could not find free short codes for this batch; try again.")


def _still_missing(session: Session, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    # A concurrent request may have made some of these links meanwhile; drop those.
    keys = [(row["campaign_id"], row["employee_id"], row["channel"]) for row in rows]
    taken = {
        tuple(row)
        for row in session.execute(
            select(Link.campaign_id, Link.employee_id, Link.channel).where(
                tuple_(Link.campaign_id, Link.employee_id, Link.channel).in_(keys)
            )
        )
    }
    return [row for row, key in zip(rows, keys, strict=True) if key not in taken]


def _mark_joined_bulk(session: Session, employee_ids: set[int], now: datetime) -> None:
    if not employee_ids:
        return
    ids = sorted(employee_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            update(Employee)
            .where(Employee.id.in_(ids[start : start + 500]), Employee.joined_at.is_(None))
            .values(joined_at=now)
            .execution_options(synchronize_session=False)
        )


def get_link(session: Session, code: str) -> Link:
    """The link with this code, or NotFound."""
    link = session.scalar(select(Link).where(Link.code == code))
    if link is None:
        raise NotFound(f"No link with code '{code}'.")
    return link


def set_link_disabled(session: Session, code: str, disabled: bool) -> Link:
    """Disable (410) or re-enable a link."""
    link = get_link(session, code)
    link.disabled = disabled
    session.commit()
    return link


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What the redirect needs to know about a code, cached per process."""

    id: int
    employee_id: int
    campaign_id: int
    channel: str
    destination_url: str
    disabled: bool
    expires_at: datetime | None

    def is_gone(self, now: datetime) -> bool:
        """Disabled, campaign retired, or expired: answered with 410."""
        return self.disabled or (self.expires_at is not None and self.expires_at <= now)


_TARGET_QUERY = (
    select(
        Link.id,
        Link.employee_id,
        Link.campaign_id,
        Link.channel,
        Link.destination_url,
        (Link.disabled | ~Campaign.active).label("disabled"),
        Link.expires_at,
    )
    .join(Campaign, Campaign.id == Link.campaign_id)
    .where(Link.code == bindparam("code"))
)


def find_link_target(connection: Connection, code: str) -> LinkTarget | None:
    """Resolve a code for the redirect with one indexed query (Core, no ORM overhead)."""
    row = connection.execute(_TARGET_QUERY, {"code": code}).first()
    return LinkTarget(*row) if row is not None else None


def employee_link_for_code(session: Session, code: str) -> Link | None:
    """The link with this short code, if any."""
    return session.scalar(select(Link).where(Link.code == code))
