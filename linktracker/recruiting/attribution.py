"""Attribution of applications: which employee (and campaign, and click) each is credited to.

Rules, first match wins; the method is stored on the application:

1. ``click_id``: the application's click id (a column, else the click-id parameter inside
   its landing URL) names a human, non-preview click -> that click's employee and campaign.
   A bot's or preview's click id falls through.
2. ``utm``: ``utm_content`` is an employee's handle (case and surrounding blanks ignored)
   and ``utm_campaign`` names a recruiting campaign (goal ``recruiting``), or is empty or
   names no known campaign -> that employee; the attributed click is the employee's last
   human click on that campaign (else on any recruiting campaign) within the attribution
   window before the application, ties to the highest click id; no such click: still the
   employee's, click left empty. A ``utm_campaign`` naming a campaign of another goal
   falls through: a sales campaign does not recruit.
3. ``referral``: the referrer column names an employee: an email matches the employee's
   email (case ignored), else a name matches exactly one employee's name (case and
   repeated blanks ignored). A name several employees share is ``ambiguous``: never
   guessed, reported by the import. Erased employees are never matched by name or email;
   a referral credited to them before their erasure stays theirs.
4. ``none``: the baseline.

Every run recomputes the applications in scope from scratch, so it is idempotent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import HUMAN_CLICK, Click
from linktracker.crm.parsing.values import query_params
from linktracker.employees.models import Employee
from linktracker.recruiting.models import Application

__all__ = ["AmbiguousReferrer", "ApplicationAttribution", "attribute_applications"]

RECRUITING_GOAL: Final = "recruiting"


@dataclass(frozen=True)
class AmbiguousReferrer:
    """A referrer name shared by several employees: its applications stay uncredited."""

    referrer: str
    employees: int
    applications: int


@dataclass(frozen=True)
class ApplicationAttribution:
    """How the applications of one run were credited, per method."""

    applications: int
    click_id: int
    utm: int
    referral: int
    none: int
    ambiguous: tuple[AmbiguousReferrer, ...]

    def lines(self) -> list[str]:
        lines = [
            f"applications  {self.applications}",
            f"click_id      {self.click_id}",
            f"utm           {self.utm}",
            f"referral      {self.referral}",
            f"none          {self.none}",
        ]
        for item in self.ambiguous:
            lines.append(
                f"ambiguous referrer {item.referrer!r}: {item.employees} employees share the "
                f"name; {item.applications} application(s) left uncredited"
            )
        return lines


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class _People:
    handles: dict[str, int]
    emails: dict[str, int]
    names: dict[str, list[int]]
    erased: frozenset[int]

    @classmethod
    def load(cls, session: Session) -> _People:
        handles: dict[str, int] = {}
        emails: dict[str, int] = {}
        names: dict[str, list[int]] = {}
        erased: set[int] = set()
        rows = session.execute(
            select(Employee.id, Employee.handle, Employee.email, Employee.name, Employee.erased_at)
        )
        for id_, handle, email, name, erased_at in rows:
            handles[handle.lower()] = id_
            if erased_at is not None:
                erased.add(id_)
                continue
            emails[email.strip().lower()] = id_
            names.setdefault(_name_key(name), []).append(id_)
        return cls(handles, emails, names, frozenset(erased))

    def referrer(self, text: str) -> tuple[str, int | None, int]:
        """How a referrer cell matches: (match, employee id, employees sharing the name)."""
        value = text.strip()
        if "@" in value:
            found = self.emails.get(value.lower())
            return ("email", found, 1) if found else ("unknown", None, 0)
        ids = self.names.get(_name_key(value), [])
        if len(ids) == 1:
            return "name", ids[0], 1
        if len(ids) > 1:
            return "ambiguous", None, len(ids)
        return "unknown", None, 0


def attribute_applications(
    session: Session,
    *,
    window_days: int = 30,
    click_id_param: str = "lt_cid",
    import_id: int | None = None,
) -> ApplicationAttribution:
    """(Re-)attribute the applications of one import (None: all of them) and commit."""
    people = _People.load(session)
    campaigns = {
        slug: (id_, goal)
        for id_, slug, goal in session.execute(select(Campaign.id, Campaign.slug, Campaign.goal))
    }
    recruiting = [id_ for id_, goal in campaigns.values() if goal == RECRUITING_GOAL]
    query = select(Application).order_by(Application.id)
    if import_id is not None:
        query = query.where(Application.last_import_id == import_id)
    window = timedelta(days=window_days)
    counts: Counter[str] = Counter()
    ambiguous: dict[str, tuple[int, int]] = {}
    for application in session.scalars(query):
        method, employee, campaign, click = _credit(
            session, application, people, campaigns, recruiting, window, click_id_param
        )
        match = None
        if application.referrer:
            match, _, sharing = people.referrer(application.referrer)
            if match == "ambiguous":
                key = application.referrer.strip()
                ambiguous[key] = (sharing, ambiguous.get(key, (0, 0))[1] + 1)
        application.attribution_method = method
        application.employee_id = employee
        application.campaign_id = campaign
        application.attributed_click_id = click
        application.referrer_match = match
        counts[method] += 1
    session.commit()
    return ApplicationAttribution(
        applications=sum(counts.values()),
        click_id=counts["click_id"],
        utm=counts["utm"],
        referral=counts["referral"],
        none=counts["none"],
        ambiguous=tuple(
            AmbiguousReferrer(name, sharing, count)
            for name, (sharing, count) in sorted(ambiguous.items())
        ),
    )


_Credit = tuple[str, int | None, int | None, int | None]


def _credit(
    session: Session,
    application: Application,
    people: _People,
    campaigns: dict[str, tuple[int, str]],
    recruiting: list[int],
    window: timedelta,
    param: str,
) -> _Credit:
    click_id = application.click_id
    if not click_id and application.landing_url and "?" in application.landing_url:
        click_id = query_params(application.landing_url, (param,)).get(param)
    if click_id:
        found = session.execute(
            select(Click.id, Click.employee_id, Click.campaign_id).where(
                Click.click_id == click_id.strip(), HUMAN_CLICK
            )
        ).first()
        if found is not None:
            return "click_id", found.employee_id, found.campaign_id, found.id
    handle = (application.utm_content or "").strip().lower()
    employee = people.handles.get(handle) if handle else None
    if employee is not None:
        named = campaigns.get((application.utm_campaign or "").strip().lower())
        if named is None or named[1] == RECRUITING_GOAL:
            on = [named[0]] if named else recruiting
            click = _last_click(session, employee, on, application.applied_at, window)
            campaign = named[0] if named else (click[1] if click else None)
            return "utm", employee, campaign, click[0] if click else None
    if application.referrer:
        _, referred_by, _ = people.referrer(application.referrer)
        if referred_by is not None:
            return "referral", referred_by, None, None
    if application.attribution_method == "referral" and application.employee_id in people.erased:
        # Referred by someone since erased: the name is gone, the credit stays theirs.
        return "referral", application.employee_id, None, None
    return "none", None, None, None


def _last_click(
    session: Session, employee: int, campaigns: list[int], at: datetime, window: timedelta
) -> tuple[int, int] | None:
    if not campaigns:
        return None
    row = session.execute(
        select(Click.id, Click.campaign_id)
        .where(
            Click.employee_id == employee,
            Click.campaign_id.in_(campaigns),
            HUMAN_CLICK,
            Click.created_at <= at,
            Click.created_at >= at - window,
        )
        .order_by(Click.created_at.desc(), Click.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])
