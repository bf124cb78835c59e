"""Report pages: what days to close leaves out, the default currency, the CSV downloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy.orm import Session

from linktracker.employees.models import Employee
from tests.factories import make_click, make_crm_record, make_link
from tests.web.test_pages import sign_in, text


def _rep_with_won_records(session: Session) -> Employee:
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    assert rep is not None
    now = datetime.now(UTC).replace(microsecond=0)
    won = {"employee_id": rep.id, "attribution_method": "utm", "won": True}
    make_crm_record(session, created_at=now - timedelta(days=3), closed_at=now, **won)
    make_crm_record(session, created_at=now - timedelta(days=2), closed_at=None, **won)
    make_crm_record(session, created_at=now - timedelta(days=1), closed_at=None, **won)
    make_crm_record(
        session, created_at=now - timedelta(hours=2), closed_at=now - timedelta(days=1), **won
    )
    make_crm_record(  # another source's record closed before it was created
        session, created_at=now - timedelta(hours=3), closed_at=now - timedelta(days=2),
        won=True,
    )  # fmt: skip
    return rep


def test_pages_with_days_to_close_say_how_many_won_records_it_leaves_out(
    app: Flask, session: Session
) -> None:
    rep = _rep_with_won_records(session)
    client = sign_in(app, session, "marketer")
    advocacy = (
        "Days to close (employee advocacy) leaves out 2 won records without a close date "
        "and 1 closed before it was created."
    )
    others = (
        "Days to close (other sources) leaves out 0 won records without a close date "
        "and 1 closed before it was created."
    )
    for url in (
        "/app/reports/",
        "/app/reports/leaderboard",
        "/app/reports/campaigns",
        "/app/reports/channels",
    ):
        body = text(client.get(url))
        assert advocacy in body and others in body, url
    body = text(client.get(f"/app/reports/reps/{rep.handle}"))
    assert (
        "Days to close (this rep) leaves out 2 won records without a close date "
        "and 1 closed before it was created." in body
    )
    assert others in body


def test_no_note_when_days_to_close_leaves_nothing_out(app: Flask, session: Session) -> None:
    link = make_link(session)
    make_click(session, link)
    now = datetime.now(UTC)
    make_crm_record(
        session, employee_id=link.employee_id, attribution_method="utm", won=True,
        created_at=now - timedelta(days=1), closed_at=now, amount=Decimal("10"),
    )  # fmt: skip
    body = text(sign_in(app, session, "marketer").get("/app/reports/leaderboard"))
    assert "leaves out" not in body
