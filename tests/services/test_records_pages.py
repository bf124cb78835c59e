"""Paged records of a rep and of a campaign: keyset pages, both sorts, search, import."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from linktracker.errors import InvalidInput
from linktracker.reports.filters import ReportFilters
from linktracker.reports.records import RecordsQuery, list_records
from tests.factories import make_campaign, make_crm_record, make_employee

START = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _filters(**extra: str) -> ReportFilters:
    return ReportFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31), **extra)  # type: ignore[arg-type]


@pytest.fixture
def book(session: Session) -> dict[str, object]:
    rep = make_employee(session, handle="ann")
    other = make_employee(session, handle="bob")
    campaign = make_campaign(session, slug="spring")
    for n in range(23):
        make_crm_record(
            session,
            external_id=f"A{n:02d}",
            name=f"Deal {n:02d}" if n != 7 else "Big Acme renewal",
            company="Acme" if n % 5 == 0 else "Globex",
            owner="Olga",
            stage="Closed won" if n % 4 == 0 else "Qualified",
            created_at=START + timedelta(hours=n),
            amount=None if n % 6 == 0 else Decimal(100 * (n % 9) + n),
            attribution_method="utm",
            employee_id=rep.id,
            campaign_id=campaign.id,
        )
    make_crm_record(
        session,
        external_id="B1",
        created_at=START,
        attribution_method="click_id",
        employee_id=other.id,
        campaign_id=campaign.id,
    )
    make_crm_record(session, external_id="OLD", created_at=START - timedelta(days=40),
                    attribution_method="utm", employee_id=rep.id)  # fmt: skip
    return {"rep": rep, "campaign": campaign}


def walk(session: Session, filters: ReportFilters, **asked: object) -> list[list[str]]:
    """Every page, following the next cursors; each page's external ids."""
    pages: list[list[str]] = []
    after = None
    for _ in range(30):  # far more pages than records: a cursor that does not move fails
        page = list_records(
            session,
            filters,
            RecordsQuery(after=after, limit=5, **asked),  # type: ignore[arg-type]
            timezone="UTC",
        )
        pages.append([r.external_id for r in page.records])
        if page.next_cursor is None:
            return pages
        after = page.next_cursor
    raise AssertionError(f"the pages never end: {pages[:8]}, cursor {after}")


def test_pages_by_creation_cover_every_record_once_newest_first(
    session: Session, book: dict[str, object]
) -> None:
    pages = walk(session, _filters(employee="ann"))
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    flat = [i for p in pages for i in p]
    assert flat == [f"A{n:02d}" for n in reversed(range(23))]
    oldest_first = [i for p in walk(session, _filters(employee="ann"), descending=False) for i in p]
    assert oldest_first == list(reversed(flat))


def test_amount_pages_put_records_without_an_amount_last_then_first(
    session: Session, book: dict[str, object]
) -> None:
    flat = [i for p in walk(session, _filters(employee="ann"), sort="amount") for i in p]
    amounts = {f"A{n:02d}": None if n % 6 == 0 else 100 * (n % 9) + n for n in range(23)}
    valued = sorted((k for k in amounts if amounts[k] is not None),
                    key=lambda k: (amounts[k], k), reverse=True)  # fmt: skip
    missing = sorted((k for k in amounts if amounts[k] is None), reverse=True)
    assert flat == valued + missing
    ascending = walk(session, _filters(employee="ann"), sort="amount", descending=False)
    assert [i for p in ascending for i in p] == list(reversed(valued + missing))


def test_previous_pages_come_back_to_the_same_rows(
    session: Session, book: dict[str, object]
) -> None:
    filters = _filters(employee="ann")
    first = list_records(session, filters, RecordsQuery(sort="amount", limit=5), timezone="UTC")
    second = list_records(
        session, filters, RecordsQuery(sort="amount", limit=5, after=first.next_cursor),
        timezone="UTC",
    )  # fmt: skip
    third = list_records(
        session, filters, RecordsQuery(sort="amount", limit=5, after=second.next_cursor),
        timezone="UTC",
    )  # fmt: skip
    back = list_records(
        session, filters, RecordsQuery(sort="amount", limit=5, before=third.previous_cursor),
        timezone="UTC",
    )  # fmt: skip
    assert [r.external_id for r in back.records] == [r.external_id for r in second.records]
    assert back.next_cursor == second.next_cursor
    assert first.previous_cursor is None


def test_search_matches_name_company_owner_stage_or_id(
    session: Session, book: dict[str, object]
) -> None:
    def found(text: str) -> list[str]:
        asked = RecordsQuery(search=text, limit=50)
        page = list_records(session, _filters(employee="ann"), asked, timezone="UTC")
        return sorted(r.external_id for r in page.records)

    assert found("acme renewal") == ["A07"]
    assert found("ACME") == sorted(["A00", "A05", "A07", "A10", "A15", "A20"])
    assert found("a1") == [f"A1{n}" for n in range(10)]
    assert found("50%") == []  # the wildcard is a character to find, not a pattern


def test_a_campaign_page_lists_every_rep_with_names(
    session: Session, book: dict[str, object]
) -> None:
    page = list_records(
        session, _filters(campaign="spring"), RecordsQuery(limit=50), timezone="UTC"
    )
    assert len(page.records) == 24
    b1 = next(r for r in page.records if r.external_id == "B1")
    assert (b1.employee, b1.method, b1.campaign) == ("bob", "click_id", "spring")
    a07 = next(r for r in page.records if r.external_id == "A07")
    assert (a07.name, a07.company, a07.owner) == ("Big Acme renewal", "Globex", "Olga")


def test_bad_sort_and_cursor_are_refused(session: Session, book: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="Unknown sort 'stage'"):
        list_records(session, _filters(), RecordsQuery(sort="stage"), timezone="UTC")
    with pytest.raises(InvalidInput, match="page link is out of date"):
        list_records(session, _filters(), RecordsQuery(after="yesterday~x"), timezone="UTC")
