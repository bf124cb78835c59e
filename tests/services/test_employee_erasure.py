"""Erasing an employee who left: the person goes, the program's figures stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.attribution.services import attribute_records
from linktracker.auth.models import ApiToken, LoginAttempt, User
from linktracker.auth.services import create_token, create_user, identify_token
from linktracker.crm.models import CrmRecord
from linktracker.db import Base
from linktracker.employees.models import Employee
from linktracker.errors import Conflict, NotFound
from linktracker.links.models import Link
from linktracker.offboarding.services import FORMER_EMPLOYEE, OPAQUE_HANDLE_RE, erase_employee
from linktracker.reports.filters import ReportFilters
from linktracker.reports.services import report_campaigns, report_program, report_reps
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link

MARCH = ReportFilters(date(2026, 3, 1), date(2026, 3, 31))
TZ = "UTC"
NAME, EMAIL, HANDLE = "Jane Roe", "jane.roe@example.com", "jane-roe"
TRACES = (NAME.lower(), EMAIL, HANDLE)
LANDING = "https://www.example.com/"


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@dataclass
class Program:
    leaver: Employee
    token: str


@pytest.fixture
def program(session: Session) -> Program:
    leaver = make_employee(session, name=NAME, email=EMAIL, handle=HANDLE, team="Field sales")
    stayer = make_employee(session, name="Stays On", team="Field sales")
    spring = make_campaign(session, slug="spring", name="Spring")
    leaver_link = make_link(session, spring, leaver, "linkedin")
    stayer_link = make_link(session, spring, stayer, "linkedin")
    first = make_click(session, leaver_link, at=at(2), ip="192.0.2.1")
    profile = f"https://www.linkedin.com/in/{HANDLE}/"
    make_click(session, leaver_link, at=at(3), ip="192.0.2.2", referrer=profile)
    make_click(session, stayer_link, at=at(4), ip="192.0.2.3")
    make_crm_record(session, external_id="r1", click_id=first["click_id"], created_at=at(2, 12),
                    won=True, closed_at=at(12), amount=Decimal("1000"), currency="EUR",
                    owner=NAME, landing_url=f"{LANDING}?utm_content={HANDLE}")  # fmt: skip
    make_crm_record(session, external_id="r2", utm_content="Jane-Roe ", utm_campaign="spring",
                    created_at=at(5), won=True, amount=Decimal("200"), currency="EUR")  # fmt: skip
    make_crm_record(session, external_id="r3", utm_content=stayer.handle, created_at=at(6))
    attribute_records(session, window_days=30)
    user = create_user(session, EMAIL, "employee", "correct horse battery")
    assert user.employee_id == leaver.id
    token = create_token(session, EMAIL, name=f"{NAME}'s laptop").token
    session.add(LoginAttempt(email=EMAIL, address="192.0.2.9", outcome="failed",
                             attempted_at=datetime.now(UTC)))  # fmt: skip
    session.commit()
    return Program(leaver, token)


def _figures(session: Session) -> dict[str, Any]:
    program = report_program(session, MARCH, timezone=TZ, cpm=10.0, cost_per_lead=50.0)
    reps = report_reps(session, MARCH, timezone=TZ)
    campaigns = report_campaigns(session, MARCH, timezone=TZ)
    return {
        "program": (program.invited, program.joined, program.active, program.clicks,
                    program.unique_visitors, program.leads, program.won, dict(program.revenue),
                    program.estimated_impressions, program.earned_media_value, program.totals),
        "reps": (reps.totals, sorted((r.figures.clicks or 0, r.figures.leads, r.figures.won)
                                     for r in reps.reps)),
        "campaigns": (campaigns.totals, [c.figures for c in campaigns.campaigns]),
    }  # fmt: skip


def _database_text(session: Session) -> str:
    """Every value of every column of every table, as one lowercase text."""
    values = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            values.extend(str(value) for value in row if value is not None)
    return "\n".join(values).lower()


def test_erasure_keeps_every_program_total(session: Session, program: Program) -> None:
    before = _figures(session)
    assert before["program"][3:7] == (3, 3, 3, 2)  # clicks, visitors, leads, won

    erase_employee(session, HANDLE, links="keep")

    session.expire_all()
    assert _figures(session) == before
    # Attribution run again (as every import does) still credits the same records.
    attribute_records(session, window_days=30)
    session.expire_all()
    assert _figures(session) == before


def test_erased_employee_shows_as_former_employee_in_reports(
    session: Session, program: Program
) -> None:
    result = erase_employee(session, HANDLE, links="keep")
    reps = report_reps(session, MARCH, timezone=TZ)
    names = {r.employee.handle: r.employee.name for r in reps.reps}
    assert names[result.handle] == FORMER_EMPLOYEE


def test_erasure_leaves_no_trace_of_name_email_or_chosen_handle(
    session: Session, program: Program
) -> None:
    assert all(trace in _database_text(session) for trace in TRACES)

    result = erase_employee(session, HANDLE, links="keep")

    session.expire_all()
    text = _database_text(session)
    assert [trace for trace in TRACES if trace in text] == []
    employee = session.get(Employee, program.leaver.id)
    assert employee is not None
    assert (employee.name, employee.email, employee.team) == (
        FORMER_EMPLOYEE,
        f"erased-{employee.id}@invalid",
        None,
    )
    assert employee.erased_at is not None and not employee.active
    assert result.handle_replaced and OPAQUE_HANDLE_RE.fullmatch(employee.handle)
    link = session.scalars(select(Link).where(Link.employee_id == employee.id)).one()
    assert f"utm_content={employee.handle}" in link.destination_url


def test_erasure_removes_account_tokens_and_sign_in_attempts(
    session: Session, program: Program
) -> None:
    assert identify_token(session, program.token) is not None
    result = erase_employee(session, HANDLE, links="keep")

    assert (result.user_removed, result.tokens_removed) == (True, 1)
    assert identify_token(session, program.token) is None
    assert session.scalars(select(ApiToken)).all() == []
    assert session.scalars(select(LoginAttempt)).all() == []
    user = session.scalars(select(User).where(User.employee_id == program.leaver.id)).one()
    assert (user.active, user.password_hash) == (False, None)
    assert user.email == f"erased-user-{user.id}@invalid"


def test_an_opaque_handle_is_kept(session: Session) -> None:
    employee = make_employee(session, name="Opaque Person")
    handle = employee.handle
    link = make_link(session, employee=employee)
    destination = link.destination_url

    result = erase_employee(session, handle, links="keep")

    assert (result.handle, result.handle_replaced) == (handle, False)
    assert session.get(Link, link.id).destination_url == destination  # type: ignore[union-attr]


@pytest.mark.parametrize("setting, disabled", [("keep", False), ("disable", True)])
def test_links_follow_the_setting(
    session: Session, program: Program, setting: Any, disabled: bool
) -> None:
    erase_employee(session, HANDLE, links=setting)
    links = session.scalars(select(Link).where(Link.employee_id == program.leaver.id)).all()
    assert [link.disabled for link in links] == [disabled]


def test_unknown_handle_is_refused_and_nothing_changes(session: Session, program: Program) -> None:
    before = _database_text(session)
    with pytest.raises(NotFound, match="No employee with handle 'nobody'"):
        erase_employee(session, "nobody", links="keep")
    assert _database_text(session) == before


def test_erasing_twice_is_refused(session: Session, program: Program) -> None:
    result = erase_employee(session, HANDLE, links="keep")
    with pytest.raises(Conflict, match="already erased"):
        erase_employee(session, result.handle, links="keep")


def test_crm_records_stay_attributed(session: Session, program: Program) -> None:
    erase_employee(session, HANDLE, links="keep")
    owners = session.scalars(select(CrmRecord.employee_id).order_by(CrmRecord.external_id))
    assert list(owners)[:2] == [program.leaver.id, program.leaver.id]
