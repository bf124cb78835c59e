"""Applications under the privacy tools: find, export, erase, retention, employee erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport
from linktracker.offboarding.services import FORMER_EMPLOYEE, erase_employee
from linktracker.privacy.models import PrivacyRequest
from linktracker.privacy.retention import applications_due, delete_applications_due
from linktracker.recruiting.models import Application
from tests.factories import make_employee
from tests.support import TEST_DATA

GREENHOUSE = TEST_DATA / "ats" / "greenhouse_candidates.csv"


def external_ids(session: Session) -> list[str]:
    session.expire_all()
    return sorted(session.scalars(select(Application.external_id)))


def test_find_export_and_erase_cover_applications_and_their_raw_lines(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    assert runner.invoke(args=["ats", "import", str(GREENHOUSE)]).exit_code == 0
    found = runner.invoke(args=["privacy", "find", "ana.souza@example.org"])
    assert found.exit_code == 0, found.output
    assert "application 1: greenhouse 71002001, import 1" in found.output
    assert "raw upload: import 1, line 2" in found.output
    exported = runner.invoke(args=["privacy", "export", "ana.souza@example.org"])
    data = json.loads(exported.output)
    assert [a["external_id"] for a in data["applications"]] == ["71002001"]
    assert data["applications"][0]["job"] == "Backend Engineer"
    # The second address in the same cell finds the same raw line, not the application.
    other = runner.invoke(args=["privacy", "export", "ana@personal.example"])
    assert json.loads(other.output)["applications"] == []
    erased = runner.invoke(args=["privacy", "erase", "ana.souza@example.org", "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "Erased 1 ATS application(s)." in erased.output
    assert "71002001" not in external_ids(session) and len(external_ids(session)) == 4
    record = session.scalars(select(CrmImport)).one()
    raw = (Path(app.config["UPLOAD_FOLDER"]) / record.storage_path).read_text("utf-8-sig")
    assert "ana.souza@" not in raw and "71002002" in raw
    entries = session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)).all()
    assert [(e.kind, e.records) for e in entries] == [
        ("find", 1),
        ("export", 1),
        ("export", 0),
        ("erase", 1),
    ]


def test_retention_deletes_applications_after_hire_or_application(
    runner: FlaskCliRunner, session: Session
) -> None:
    assert runner.invoke(args=["ats", "import", str(GREENHOUSE)]).exit_code == 0
    # Applied 2026-03-02..20, two hired 2026-03-30 and 2026-04-10.
    now = datetime(2026, 9, 25, tzinfo=UTC)
    assert applications_due(session, 0, now=now) == 0
    assert applications_due(session, 6, now=now) == 3  # the unhired ones, applied in March
    assert delete_applications_due(session, 6, now=now) == 3
    assert external_ids(session) == ["71002001", "71002006"]
    later = datetime(2026, 10, 5, tzinfo=UTC)
    assert delete_applications_due(session, 6, now=later) == 1  # hired 2026-03-30
    assert external_ids(session) == ["71002006"]
    output = runner.invoke(args=["retention", "run"]).output
    assert "ATS application(s) past" in output or "kept forever" in output


def test_employee_erasure_keeps_the_credit_and_drops_the_name(
    runner: FlaskCliRunner, session: Session
) -> None:
    dana = make_employee(
        session, name="Dana Reyes", email="dana.reyes@example.com", handle="dana-reyes"
    )
    make_employee(session, name="Sam Lee", email="sam.lee@example.com")
    lever = TEST_DATA / "ats" / "lever_opportunities.csv"
    assert runner.invoke(args=["ats", "import", str(GREENHOUSE)]).exit_code == 0
    assert runner.invoke(args=["ats", "import", str(lever)]).exit_code == 0
    credited = {
        a.external_id
        for a in session.scalars(select(Application).where(Application.employee_id == dana.id))
    }
    assert credited == {"71002001", "71002003", "0b1c2d3e-0001"}
    erase_employee(session, "dana-reyes", links="keep")
    session.expire_all()
    rows = session.scalars(select(Application).where(Application.employee_id == dana.id)).all()
    assert {a.external_id for a in rows} == credited
    assert {a.referrer for a in rows} == {FORMER_EMPLOYEE}
    assert not session.scalars(
        select(Application).where(Application.referrer.ilike("%dana%"))
    ).all()
    # Attribution run again: the referrals stay the former employee's (program totals keep).
    again = runner.invoke(args=["ats", "reattribute"])
    assert again.exit_code == 0
    session.expire_all()
    kept = session.scalars(select(Application).where(Application.employee_id == dana.id)).all()
    assert {a.external_id for a in kept} == credited
    assert {a.attribution_method for a in kept} == {"referral"}
