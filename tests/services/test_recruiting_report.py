"""Recruiting: attribution of applications by all four methods, and the report's exact rows."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from linktracker.crm.services import ImportContext
from linktracker.recruiting.attribution import attribute_applications
from linktracker.recruiting.imports import upload_and_import_ats
from linktracker.recruiting.models import Application
from linktracker.reports.filters import ReportFilters
from linktracker.reports.recruiting import recruiting_dict, report_recruiting
from tests.factories import make_campaign, make_click, make_employee, make_link

BOT = "Googlebot/2.1 (+http://www.google.com/bot.html)"


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def scenario(session: Session, tmp_path: Path) -> dict[str, Any]:
    """Three reps, a recruiting and a sales campaign, clicks, and nine applications."""
    ada = make_employee(session, name="Ada Stone", email="ada@example.com", team="Eng")
    ben = make_employee(session, name="Ben Hall", email="ben@example.com", team="Sales")
    cy = make_employee(session, name="Chris Doe", email="chris@example.com", team="Sales")
    make_employee(session, name="Alex Kim", email="alex1@example.com")
    make_employee(session, name="Alex Kim", email="alex2@example.com")
    jobs = make_campaign(session, name="Open roles", goal="recruiting")
    sales = make_campaign(session, name="Spring sale", goal="leads")
    ada_jobs, ada_sales = make_link(session, jobs, ada), make_link(session, sales, ada)
    ben_jobs = make_link(session, jobs, ben)
    first = make_click(session, ada_jobs, at=at(1, 10))
    make_click(session, ada_jobs, at=at(2, 10))
    make_click(session, ada_jobs, at=at(3, 10))
    bot = make_click(session, ada_jobs, at=at(3, 11), user_agent=BOT)  # never credited
    make_click(session, ada_sales, at=at(4, 10))  # a sales click: not a job-link click
    make_click(session, ben_jobs, at=at(5, 10))
    make_click(session, ben_jobs, at=at(2, 10, month=4))  # after the range
    url = f"https://jobs.example.com/roles?utm_content={ben.handle}&utm_campaign={jobs.slug}"
    sale = f"https://jobs.example.com/roles?utm_content={ada.handle}&utm_campaign={sales.slug}"
    rows = [
        "Application ID,Applied At,First Contact,Job,Stage,Hired At,Referrer,Landing URL,Click ID",
        # 1 click id -> Ada; hired 10 days after applying
        f"P1,2026-03-01 12:00,,Engineer,Hired,2026-03-11 12:00,,,{first['click_id']}",
        # 2 UTM (recruiting campaign) -> Ben; hired 20 days after the first contact
        f"P2,2026-03-05 12:00,2026-03-04 12:00,Engineer,Hired,2026-03-24 12:00,,{url},",
        # 3 referral by email -> Chris; not hired
        "P3,2026-03-06 12:00,,Designer,Interview,,CHRIS@example.com,,",
        # 4 referral by unique name -> Chris; hired 14 days after the first contact
        "P4,2026-03-07 00:00,2026-03-01 00:00,Designer,Offer accepted,2026-03-15 00:00,Chris Doe,,",
        # 5 none; hired 20 days after applying
        "P5,2026-03-08 12:00,,Engineer,Hired,2026-03-28 12:00,,,",
        # 6 none; not hired
        "P6,2026-03-09 12:00,,Engineer,Rejected,,,,",
        # 7 UTM naming a sales campaign: falls through; no referrer -> none
        f"P7,2026-03-10 12:00,,,Applied,,,{sale},",
        # 8 a bot's click id falls through; an ambiguous name is never guessed -> none
        f"P8,2026-03-11 12:00,,,Applied,,Alex Kim,,{bot['click_id']}",
        # 9 after the range
        "P9,2026-04-15 12:00,,Designer,Hired,2026-04-20 12:00,chris@example.com,,",
    ]
    result = upload_and_import_ats(
        session,
        io.BytesIO(("\n".join(rows) + "\n").encode()),
        ImportContext(tmp_path, b"test-secret"),
        filename="scenario.csv",
        source="generic",
    )
    assert (result.summary.inserted, result.summary.rejected) == (9, 0)
    return {"result": result, "ada": ada, "ben": ben, "cy": cy, "first": first}


def report(session: Session, **options: Any) -> dict[str, Any]:
    job = options.pop("job", None)
    filters = ReportFilters(date(2026, 3, 1), date(2026, 3, 31), **options)
    return recruiting_dict(report_recruiting(session, filters, timezone="UTC", job=job))


def test_every_attribution_method_is_stored(session: Session, scenario: dict[str, Any]) -> None:
    session.expire_all()
    stored = {a.external_id: a for a in session.query(Application)}
    methods = {key: (a.attribution_method, a.employee_id) for key, a in stored.items()}
    ada, ben, cy = scenario["ada"].id, scenario["ben"].id, scenario["cy"].id
    assert methods == {
        "P1": ("click_id", ada),
        "P2": ("utm", ben),
        "P3": ("referral", cy),
        "P4": ("referral", cy),
        "P5": ("none", None),
        "P6": ("none", None),
        "P7": ("none", None),
        "P8": ("none", None),
        "P9": ("referral", cy),
    }
    assert stored["P2"].attributed_click_id is not None  # Ben's click on the campaign, 03-05
    assert stored["P8"].referrer_match == "ambiguous"
    ambiguous = scenario["result"].ambiguous_referrers
    assert [(a.referrer, a.employees, a.applications) for a in ambiguous] == [("Alex Kim", 2, 1)]
    # Running attribution again changes nothing.
    again = attribute_applications(session)
    assert (again.click_id, again.utm, again.referral, again.none) == (1, 1, 3, 4)


def test_the_report_gives_the_hand_computed_rows(
    session: Session, scenario: dict[str, Any]
) -> None:
    ada, ben, cy = scenario["ada"], scenario["ben"], scenario["cy"]
    data = report(session)
    assert (data["from"], data["to"]) == ("2026-03-01", "2026-03-31")
    assert data["reps"] == [
        {
            "employee": {"handle": cy.handle, "name": "Chris Doe", "team": "Sales"},
            "clicks": 0,
            "applications": 2,
            "referrals": 2,
            "hires": 1,
            "median_days_to_hire": 14.0,
        },
        {
            "employee": {"handle": ada.handle, "name": "Ada Stone", "team": "Eng"},
            "clicks": 3,
            "applications": 1,
            "referrals": 0,
            "hires": 1,
            "median_days_to_hire": 10.0,
        },
        {
            "employee": {"handle": ben.handle, "name": "Ben Hall", "team": "Sales"},
            "clicks": 1,
            "applications": 1,
            "referrals": 0,
            "hires": 1,
            "median_days_to_hire": 20.0,
        },
    ]
    assert data["baseline"] == {"applications": 4, "hires": 1, "median_days_to_hire": 20.0}
    assert data["jobs"] == [
        {"job": "Engineer", "applications": 4, "hires": 3},
        {"job": "Designer", "applications": 2, "hires": 1},
        {"job": None, "applications": 2, "hires": 0},
    ]
    assert data["program"] == {
        "job_link_clicks": 4,
        "applications": 4,
        "referrals": 2,
        "hires": 3,
        "median_days_to_hire": 14.0,
    }


def test_the_report_narrows_to_a_team_and_a_job(session: Session, scenario: dict[str, Any]) -> None:
    eng = report(session, team="Eng")
    assert [r["employee"]["name"] for r in eng["reps"]] == ["Ada Stone"]
    assert eng["program"] == {
        "job_link_clicks": 3,
        "applications": 1,
        "referrals": 0,
        "hires": 1,
        "median_days_to_hire": 10.0,
    }
    designer = report(session, job="Designer")
    assert designer["jobs"] == [{"job": "Designer", "applications": 2, "hires": 1}]
    assert designer["baseline"] == {"applications": 0, "hires": 0, "median_days_to_hire": None}
    assert designer["program"]["applications"] == 2 and designer["program"]["hires"] == 1
    empty = recruiting_dict(
        report_recruiting(
            session, ReportFilters(date(2025, 1, 1), date(2025, 1, 31)), timezone="UTC"
        )
    )
    assert empty["reps"] == [] and empty["jobs"] == []
    assert empty["program"]["median_days_to_hire"] is None
