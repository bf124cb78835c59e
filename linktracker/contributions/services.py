"""Suggesting stories, reviewing them, and counting them for the program report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, distinct, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.campaigns.post_texts import PostTextInput
from linktracker.campaigns.services import create_campaign, slugify
from linktracker.contributions.models import STATUSES, Contribution
from linktracker.db import get_or_not_found, utcnow
from linktracker.employees.models import Employee
from linktracker.errors import Conflict, Forbidden, InvalidInput
from linktracker.limits import text_errors
from linktracker.links.services import BulkResult, create_campaign_links
from linktracker.urls.destinations import check_destination, check_url, url_host

DECISIONS = {"approve": "approved", "reject": "rejected"}
# A story becomes a campaign people share to build reach, not a lead-generation push.
CAMPAIGN_GOAL = "awareness"


@dataclass(frozen=True)
class ContributionView:
    """A suggestion with its contributor and, once approved, its campaign."""

    id: int
    url: str
    title: str | None
    note: str | None
    status: str
    employee_handle: str
    employee_name: str
    created_at: datetime
    reviewed_at: datetime | None
    review_note: str | None
    campaign_slug: str | None
    campaign_name: str | None


@dataclass(frozen=True)
class Review:
    contribution: ContributionView
    # The links made for the campaign of an approved story (None when rejected).
    links: BulkResult | None


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def submit_contribution(
    session: Session,
    *,
    employee_id: int | None,
    url: str,
    title: str | None = None,
    note: str | None = None,
) -> ContributionView:
    """Record a story suggestion of this employee (pending review)."""
    if employee_id is None or session.get(Employee, employee_id) is None:
        raise Forbidden(
            "Only people with an employee profile can suggest stories; ask a marketer or admin "
            "to add you as an employee with your sign-in email address."
        )
    title, note = _clean(title), _clean(note)
    errors = text_errors(Contribution, {"title": title, "note": note})
    try:
        url = check_url(url)
    except InvalidInput as exc:
        errors["url"] = exc.fields.get("destination_url", exc.message).replace(
            "Destination", "The address", 1
        )
    if errors:
        raise InvalidInput("The suggestion could not be saved.", errors)
    contribution = Contribution(
        employee_id=employee_id, url=url, title=title, note=note, status="pending",
        created_at=utcnow(),
    )  # fmt: skip
    session.add(contribution)
    session.commit()
    return get_contribution(session, contribution.id)


def _view_query() -> Select[Contribution, str, str, str, str]:
    return (
        select(Contribution, Employee.handle, Employee.name, Campaign.slug, Campaign.name)
        .join(Employee, Employee.id == Contribution.employee_id)
        .outerjoin(Campaign, Campaign.id == Contribution.campaign_id)
    )


def _view(
    c: Contribution, handle: str, name: str, slug: str | None, campaign_name: str | None
) -> ContributionView:
    return ContributionView(
        id=c.id, url=c.url, title=c.title, note=c.note, status=c.status,
        employee_handle=handle, employee_name=name, created_at=c.created_at,
        reviewed_at=c.reviewed_at, review_note=c.review_note,
        campaign_slug=slug, campaign_name=campaign_name,
    )  # fmt: skip


def get_contribution(session: Session, contribution_id: int) -> ContributionView:
    """One suggestion, or NotFound."""
    get_or_not_found(session, Contribution, contribution_id, "contribution")
    row = session.execute(_view_query().where(Contribution.id == contribution_id)).one()
    return _view(*row)


def parse_status(value: str | None) -> str | None:
    """A status filter (None for every status), or InvalidInput naming the choices."""
    value = _clean(value)
    if value is None:
        return None
    if value not in STATUSES:
        raise InvalidInput(
            f"Unknown status '{value}'.", {"status": f"Use one of {', '.join(STATUSES)}."}
        )
    return value


def list_contributions(
    session: Session, *, employee_id: int | None = None, status: str | None = None
) -> list[ContributionView]:
    """Suggestions, newest first: everyone's, or one employee's; optionally of one status."""
    query = _view_query().order_by(Contribution.created_at.desc(), Contribution.id.desc())
    if employee_id is not None:
        query = query.where(Contribution.employee_id == employee_id)
    status = parse_status(status)
    if status is not None:
        query = query.where(Contribution.status == status)
    return [_view(*row) for row in session.execute(query)]


def count_pending(session: Session) -> int:
    """How many suggestions wait for a review."""
    return int(session.scalar(select(func.count()).where(Contribution.status == "pending")) or 0)


def review_contribution(
    session: Session,
    contribution_id: int,
    *,
    decision: str,
    note: str | None,
    reviewer_user_id: int | None,
    allowed_domains: Sequence[str],
    medium: str,
) -> Review:
    """Approve a pending suggestion (a campaign and its links are made) or reject it."""
    if decision not in DECISIONS:
        raise InvalidInput("Decide 'approve' or 'reject'.", {"decision": "Use approve or reject."})
    contribution = get_or_not_found(session, Contribution, contribution_id, "contribution")
    note = _clean(note)
    errors = text_errors(Contribution, {"review_note": note})
    if errors:
        raise InvalidInput("The review could not be saved.", {"note": errors["review_note"]})
    _check_pending(session, contribution)
    destination = (
        _allowed_destination(contribution.url, allowed_domains) if decision == "approve" else ""
    )
    status = DECISIONS[decision]
    # Only a still-pending row changes: of two reviewers deciding at once, one wins.
    changed = session.execute(  # type: ignore[attr-defined]
        update(Contribution)
        .where(Contribution.id == contribution.id, Contribution.status == "pending")
        .values(
            status=status,
            review_note=note,
            reviewer_user_id=reviewer_user_id,
            reviewed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        session.rollback()
        _check_pending(session, contribution)  # another reviewer decided meanwhile: says who
        raise Conflict("The suggestion changed meanwhile; reload it and try again.")
    links = None
    if destination:
        campaign = _campaign_for(session, contribution, destination, allowed_domains)
        session.execute(
            update(Contribution)
            .where(Contribution.id == contribution.id)
            .values(campaign_id=campaign.id)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        links = create_campaign_links(
            session, campaign_slug=campaign.slug, medium=medium, allowed_domains=allowed_domains
        )
    else:
        session.commit()
    session.expire_all()
    return Review(get_contribution(session, contribution.id), links)


def _check_pending(session: Session, contribution: Contribution) -> None:
    session.refresh(contribution)
    if contribution.status == "pending":
        return
    when = contribution.reviewed_at.date().isoformat() if contribution.reviewed_at else "before"
    made = ""
    if contribution.campaign_id is not None:
        campaign = session.get(Campaign, contribution.campaign_id)
        made = f" (campaign '{campaign.slug}')" if campaign else ""
    raise Conflict(
        f"Suggestion {contribution.id} was already {contribution.status} on {when}{made}; "
        "a review is final.",
        {"decision": f"Already {contribution.status}."},
    )


def _allowed_destination(url: str, allowed_domains: Sequence[str]) -> str:
    try:
        return check_destination(url, allowed_domains)
    except InvalidInput as exc:
        host = url_host(url)
        raise InvalidInput(
            f"The story's address is not on an allowed domain: allow '{host}' (Settings, "
            f"allowed destination domains) to approve it. {exc.message}",
            {"url": f"Allow '{host}' in the allowed domains first."},
        ) from exc


def _campaign_for(
    session: Session, contribution: Contribution, destination: str, allowed: Sequence[str]
) -> Campaign:
    """A campaign for the approved story, flushed (committed with the review)."""
    name = contribution.title or destination
    base = slugify(contribution.title or url_host(destination))[:90].strip("-") or "story"
    taken = set(session.scalars(select(Campaign.slug).where(Campaign.slug.like(f"{base}%"))))
    slug = next(
        candidate
        for n in range(1, len(taken) + 2)
        for candidate in [base if n == 1 else f"{base}-{n}"]
        if candidate not in taken
    )
    try:
        return create_campaign(
            session,
            name=name[:200],
            destination_url=destination,
            allowed_domains=allowed,
            slug=slug,
            goal=CAMPAIGN_GOAL,
            # The story's title is the first post text employees see beside its links.
            post_texts=[PostTextInput(None, contribution.title[:240])]
            if contribution.title
            else (),
            commit=False,
        )
    except (Conflict, IntegrityError, InvalidInput):
        session.rollback()
        raise


@dataclass(frozen=True)
class ContributionCounts:
    submitted: int
    approved: int
    contributors: int


def count_contributions(
    session: Session, start: datetime, end: datetime, *, team: str | None = None
) -> ContributionCounts:
    """Suggestions made in [start, end): how many, how many approved, by how many people."""
    query = select(
        func.count(Contribution.id),
        func.count(Contribution.id).filter(Contribution.status == "approved"),
        func.count(distinct(Contribution.employee_id)),
    ).where(Contribution.created_at >= start, Contribution.created_at < end)
    if team is not None:
        query = query.where(
            Contribution.employee_id.in_(select(Employee.id).where(Employee.team == team))
        )
    submitted, approved, contributors = session.execute(query).one()
    return ContributionCounts(int(submitted), int(approved), int(contributors))


def approved_per_employee(
    session: Session, start: datetime, end: datetime, *, team: str | None = None
) -> list[tuple[int, int]]:
    """(employee id, approved suggestions made in [start, end)) for everyone with one."""
    query = (
        select(Contribution.employee_id, func.count(Contribution.id))
        .where(
            Contribution.created_at >= start,
            Contribution.created_at < end,
            Contribution.status == "approved",
        )
        .group_by(Contribution.employee_id)
    )
    if team is not None:
        query = query.where(
            Contribution.employee_id.in_(select(Employee.id).where(Employee.team == team))
        )
    return [(int(employee_id), int(n)) for employee_id, n in session.execute(query)]
