"""The audience rollup's freshness mark: a report reads only the clicks stored since the
mark, and every click stored late into a rolled-up day (any day, not only the report's) is
still counted, on PostgreSQL even when its transaction commits after a report moved the mark."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from linktracker.clicks.services import insert_click_rows
from linktracker.reports import audience_rollup
from linktracker.reports.audience import report_clicks
from linktracker.reports.filters import ReportFilters
from linktracker.reports.models import AudienceDay, AudienceMark
from tests import audience_data as data
from tests.factories import CHROME

MARCH_2 = ReportFilters(date(2026, 3, 2), date(2026, 3, 2))
MARCH_4 = ReportFilters(date(2026, 3, 4), date(2026, 3, 4))
UTC_ZONE = "UTC"


@pytest.fixture
def program(session: Session) -> data.Program:
    return data.build(session)


def _clicks(session: Session, filters: ReportFilters) -> int:
    return report_clicks(session, filters, "country", timezone=UTC_ZONE).clicks


def _mark(session: Session) -> int | None:
    return session.scalar(select(AudienceMark.position))


def _late_click(program: data.Program, day: int) -> dict[str, object]:
    return data.click(program.links[0], data.at(3, day, 12, 0), CHROME, "77", None, "NZ")


def test_a_report_moves_the_mark_and_keeps_the_days_no_click_changed(
    session: Session, program: data.Program
) -> None:
    assert _clicks(session, MARCH_2) == 3
    first = _mark(session)
    assert first is not None
    days = set(session.scalars(select(AudienceDay.day)))
    assert date(2026, 3, 2) in days
    assert _clicks(session, MARCH_2) == 3
    assert _mark(session) == first  # no click stored since: the mark stays
    assert set(session.scalars(select(AudienceDay.day))) == days


def test_a_late_click_into_another_rolled_up_day_is_counted_when_that_day_is_read(
    session: Session, program: data.Program
) -> None:
    assert (_clicks(session, MARCH_2), _clicks(session, MARCH_4)) == (3, 2)
    before = _mark(session)
    assert before is not None
    # Stored late into 03-02 while only 03-04 is reported: the mark moves past it.
    insert_click_rows(session.connection(), [_late_click(program, 2)])
    session.commit()
    assert _clicks(session, MARCH_4) == 2
    # PostgreSQL: the horizon is the whole server's, so a transaction open elsewhere holds it.
    assert (_mark(session) or 0) >= before
    # 03-02 was dropped then (it grew), and its next report rebuilds it with the late click.
    assert session.get(AudienceDay, date(2026, 3, 2)) is None
    assert session.get(AudienceDay, date(2026, 3, 4)) is not None
    assert _clicks(session, MARCH_2) == 4
    live = report_clicks(session, MARCH_2, "country", timezone=UTC_ZONE, rollup=False)
    assert report_clicks(session, MARCH_2, "country", timezone=UTC_ZONE).rows == live.rows


def test_without_a_mark_every_rolled_up_day_is_counted_once(
    session: Session, program: data.Program
) -> None:
    assert _clicks(session, MARCH_2) == 3
    # A rollup from before the mark existed: a late click, then no mark to read from.
    insert_click_rows(session.connection(), [_late_click(program, 2)])
    session.execute(delete(AudienceMark))
    session.commit()
    assert _clicks(session, MARCH_2) == 4
    assert _mark(session) is not None


def test_a_click_committed_after_a_report_moved_the_mark_is_counted(
    app: Flask, session: Session, program: data.Program
) -> None:
    engine = app.extensions["linktracker"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids become visible in order")
    assert _clicks(session, MARCH_2) == 3
    with engine.connect() as writer:
        # A late click whose transaction took its id before the report and commits after it.
        insert_click_rows(writer, [_late_click(program, 2)])
        # A click with a higher id commits first: a mark by id alone would pass the late one.
        insert_click_rows(session.connection(), [_late_click(program, 4)])
        session.commit()
        assert _clicks(session, MARCH_2) == 3
        writer.commit()
    assert _clicks(session, MARCH_2) == 4


def test_refresh_all_leaves_a_mark_so_the_next_report_reads_no_old_clicks(
    session: Session, program: data.Program
) -> None:
    audience_rollup.refresh_all(session, UTC_ZONE, date(2026, 3, 6))
    mark = _mark(session)
    assert mark is not None
    assert session.scalar(select(func.count()).select_from(AudienceDay)) == 5
    assert _clicks(session, MARCH_2) == 3
    assert _mark(session) == mark
