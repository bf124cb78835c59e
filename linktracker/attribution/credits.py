"""Who an import credited: counts per attribution method and per rep; who a preview row would.

``import_credits`` reads what attribution stored on the records an import wrote (inserted or
updated; unchanged ones kept their earlier credit and import). ``preview_credits`` answers for
rows not yet imported, by the same first two rules as attribution: the row's click id names a
human click (that click's rep), else its ``utm_content`` names a rep's handle. The time window
only decides which click a UTM match points to, never whether the rep is credited, so the rep
shown is the rep the import will credit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.clicks.models import HUMAN_CLICK, Click
from linktracker.crm.models import CrmRecord
from linktracker.employees.models import Employee

__all__ = [
    "METHODS",
    "Credit",
    "ImportCredits",
    "RepCredit",
    "count_credits",
    "import_credits",
    "preview_credits",
]

METHODS: Final = ("click_id", "utm", "none")
TOP_REPS: Final = 10


@dataclass(frozen=True)
class RepCredit:
    """A rep and how many of the import's records went to them."""

    handle: str
    name: str
    records: int


@dataclass(frozen=True)
class ImportCredits:
    """The records an import wrote, per attribution method and per rep (top 10 + others)."""

    methods: dict[str, int]  # click_id, utm, none (every key present)
    reps: tuple[RepCredit, ...]  # the ten with most records, most first
    other_reps: int  # how many further reps share ``other_records``
    other_records: int

    @property
    def total(self) -> int:
        """Records the import wrote."""
        return sum(self.methods.values())


@dataclass(frozen=True)
class Credit:
    """Whom a previewed row would be credited to, and by which rule."""

    handle: str
    name: str
    method: str  # click_id or utm


def import_credits(session: Session, import_id: int) -> ImportCredits:
    """Counts per method and per rep of the records import ``import_id`` wrote."""
    wrote = CrmRecord.last_import_id == import_id
    methods = dict.fromkeys(METHODS, 0)
    for method, count in session.execute(
        select(CrmRecord.attribution_method, func.count())
        .where(wrote)
        .group_by(CrmRecord.attribution_method)
    ):
        methods[method] = methods.get(method, 0) + count
    per_rep = session.execute(
        select(Employee.handle, Employee.name, func.count().label("records"))
        .select_from(CrmRecord)
        .join(Employee, Employee.id == CrmRecord.employee_id)
        .where(wrote)
        .group_by(Employee.id, Employee.handle, Employee.name)
        .order_by(func.count().desc(), Employee.handle)
    ).all()
    top = tuple(RepCredit(row.handle, row.name, row.records) for row in per_rep[:TOP_REPS])
    rest = per_rep[TOP_REPS:]
    return ImportCredits(methods, top, len(rest), sum(row.records for row in rest))


def preview_credits(
    session: Session, rows: Sequence[Mapping[str, str | None]]
) -> list[Credit | None]:
    """For each previewed row (``click_id``, ``utm_content``), the rep it would be credited to."""
    click_ids = {row["click_id"] for row in rows if row.get("click_id")}
    handles = {
        (row.get("utm_content") or "").strip().lower() for row in rows if row.get("utm_content")
    }
    by_click = _click_reps(session, click_ids)
    by_handle = _handle_reps(session, handles)
    credits: list[Credit | None] = []
    for row in rows:
        person = by_click.get(row.get("click_id") or "")
        if person is not None:
            credits.append(Credit(person[0], person[1], "click_id"))
            continue
        person = by_handle.get((row.get("utm_content") or "").strip().lower())
        credits.append(Credit(person[0], person[1], "utm") if person is not None else None)
    return credits


def _click_reps(session: Session, click_ids: Iterable[str | None]) -> dict[str, tuple[str, str]]:
    wanted = [c for c in click_ids if c]
    if not wanted:
        return {}
    rows = session.execute(
        select(Click.click_id, Employee.handle, Employee.name)
        .join(Employee, Employee.id == Click.employee_id)
        .where(Click.click_id.in_(wanted), HUMAN_CLICK)
    )
    return {row.click_id: (row.handle, row.name) for row in rows}


def _handle_reps(session: Session, handles: Iterable[str]) -> dict[str, tuple[str, str]]:
    wanted = [h for h in handles if h]
    if not wanted:
        return {}
    rows = session.execute(
        select(Employee.handle, Employee.name).where(Employee.handle.in_(wanted))
    )
    return {row.handle: (row.handle, row.name) for row in rows}


def count_credits(credits: Sequence[Credit | None]) -> ImportCredits:
    """The previewed rows' credits counted like an import's: per method, per rep."""
    methods = dict.fromkeys(METHODS, 0)
    people: dict[str, RepCredit] = {}
    for credit in credits:
        methods[credit.method if credit else "none"] += 1
        if credit is not None:
            known = people.get(credit.handle)
            count = known.records + 1 if known else 1
            people[credit.handle] = RepCredit(credit.handle, credit.name, count)
    ranked = sorted(people.values(), key=lambda rep: (-rep.records, rep.handle))
    rest = ranked[TOP_REPS:]
    return ImportCredits(
        methods, tuple(ranked[:TOP_REPS]), len(rest), sum(rep.records for rep in rest)
    )
