"""Attribution: which rep, campaign and click each CRM record is credited to.

Every run recomputes the result of the records in scope from scratch with a handful of
set-based UPDATE statements, so it is idempotent, deterministic and fast: the database
does the matching through indexes, Python never loops over clicks or records.

Rules, first match wins:
1. click id (the record's click id column, else the click-id parameter inside its landing
   URL) naming a human, non-preview click -> that click's rep and campaign, method
   `click_id`. A click id of a bot or preview request falls through to rule 2.
2. `utm_content` equal to an employee handle (case-insensitive, surrounding blanks ignored)
   -> that rep, method `utm`. When `utm_campaign` names a known campaign slug, the record is
   credited to that campaign and the attributed click is the rep's last human click on it;
   when `utm_campaign` is empty or names no known campaign, the campaign is left open and the
   attributed click is the rep's last human click on any campaign (the record then takes that
   click's campaign). Only clicks within the attribution window before the record's creation
   count (`created - window <= click <= created`, both edges inclusive); ties on time go to
   the highest click row id. No such click: still credited to the rep, click left empty.
3. otherwise method `none`: the non-advocacy baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Subquery

from linktracker.attribution.events import queue_record_events
from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import HUMAN_CLICK, Click
from linktracker.crm.models import CrmRecord
from linktracker.employees.models import Employee

DEFAULT_WINDOW_DAYS = 30
DEFAULT_CLICK_ID_PARAM = "lt_cid"
# Bound-parameter lists stay well below SQLite's limit.
_CHUNK = 5000
_FULL_RUN_ABOVE = 20_000


@dataclass(frozen=True)
class AttributionSummary:
    """How the records of one attribution run were credited."""

    records: int
    click_id: int
    utm: int
    utm_without_click: int
    none: int

    def lines(self) -> list[str]:
        """Human-readable counts, one per method."""
        return [
            f"records    {self.records}",
            f"click_id   {self.click_id}",
            f"utm        {self.utm} ({self.utm_without_click} without a click in the window)",
            f"none       {self.none}",
        ]


def attribute_records(
    session: Session,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    click_id_param: str = DEFAULT_CLICK_ID_PARAM,
    record_ids: Iterable[int] | None = None,
) -> AttributionSummary:
    """(Re-)attribute CRM records (all, or the given ids) and commit; returns counts per method."""
    if window_days < 0:
        raise ValueError("window_days must be 0 or more")
    ids = None if record_ids is None else sorted(set(record_ids))
    if session.get_bind().dialect.name == "postgresql":
        # The UPDATE's estimated cost (a subquery per record) switches PostgreSQL's JIT on,
        # and compiling the plan took most of the UPDATE's time.
        session.execute(text("SET LOCAL jit = off"))
    if ids is None or len(ids) > _FULL_RUN_ABOVE:
        # A big import is cheaper to settle with one full (idempotent) run than chunk by chunk.
        _attribute(session, None, window_days, click_id_param)
    else:
        for start in range(0, len(ids), _CHUNK):
            _attribute(session, ids[start : start + _CHUNK], window_days, click_id_param)
    queue_record_events(session, ids)
    session.commit()
    return _summarise(session, ids)


def _attribute(session: Session, ids: Sequence[int] | None, window_days: int, param: str) -> None:
    """One UPDATE ... FROM (the result of every record in scope), writing changed rows only."""
    dialect = session.get_bind().dialect.name
    named = _named_stage(dialect, ids, param)
    matched = _matched_stage(dialect, named, window_days)
    _write_results(session, _result_stage(dialect, matched))


def _named_stage(dialect: str, ids: Sequence[int] | None, param: str) -> Subquery:
    """Stage 1: what each record itself names: a human click by id, a handle, a campaign slug."""
    r = aliased(CrmRecord, name="r")
    by_click = case(
        (
            r.click_id.is_not(None) | r.landing_url.like(f"%{param}=%"),
            select(Click.id)
            .where(Click.click_id == _record_click_id(dialect, r, param), HUMAN_CLICK)
            .scalar_subquery(),
        ),
        else_=null(),
    )
    handle = case(
        (
            r.utm_content.is_not(None),
            select(Employee.id)
            .where(Employee.handle == func.lower(func.trim(r.utm_content)))
            .scalar_subquery(),
        ),
        else_=null(),
    )
    slug = case(
        (
            r.utm_campaign.is_not(None),
            select(Campaign.id)
            .where(Campaign.slug == func.lower(func.trim(r.utm_campaign)))
            .scalar_subquery(),
        ),
        else_=null(),
    )
    named = select(
        r.id,
        r.created_at,
        by_click.label("by_click"),
        handle.label("utm_employee"),
        slug.label("utm_campaign"),
    )
    if ids is not None:
        named = named.where(r.id.in_(ids))
    # OFFSET 0 is an optimisation fence (both databases): each stage is computed once per
    # record instead of being inlined into every expression that mentions its columns.
    return named.offset(0).subquery("named")


def _matched_stage(dialect: str, stage1: Subquery, window_days: int) -> Subquery:
    """Stage 2: a UTM match credits the rep's last human click in the window (on its campaign)."""

    def last_click(on_campaign: bool) -> Any:
        candidate = select(Click.id).where(
            Click.employee_id == stage1.c.utm_employee,
            HUMAN_CLICK,
            Click.created_at <= stage1.c.created_at,
            Click.created_at >= _window_start(dialect, stage1.c.created_at, window_days),
        )
        if on_campaign:
            candidate = candidate.where(Click.campaign_id == stage1.c.utm_campaign)
        return (
            candidate.order_by(Click.created_at.desc(), Click.id.desc()).limit(1).scalar_subquery()
        )

    utm_click = case(
        (stage1.c.by_click.is_not(None), null()),
        (stage1.c.utm_employee.is_(None), null()),
        (stage1.c.utm_campaign.is_not(None), last_click(True)),
        else_=last_click(False),
    )
    return (
        select(
            stage1.c.id,
            stage1.c.created_at,
            stage1.c.by_click,
            stage1.c.utm_employee,
            stage1.c.utm_campaign,
            func.coalesce(stage1.c.by_click, utm_click).label("click"),
        )
        .offset(0)
        .subquery("matched")
    )


def _result_stage(dialect: str, stage2: Subquery) -> Subquery:
    """Stage 3: the result to store: method, rep, campaign, credited click, seconds from it."""
    credited = aliased(Click, name="credited")
    via_click = stage2.c.by_click.is_not(None)
    via_utm = stage2.c.utm_employee.is_not(None)
    return (
        select(
            stage2.c.id,
            case((via_click, "click_id"), (via_utm, "utm"), else_="none").label("method"),
            case((via_click, credited.employee_id), else_=stage2.c.utm_employee).label("employee"),
            case(
                (via_click, credited.campaign_id),
                (via_utm, func.coalesce(stage2.c.utm_campaign, credited.campaign_id)),
                else_=null(),
            ).label("campaign"),
            stage2.c.click,
            case(
                (
                    credited.id.is_not(None),
                    _seconds_between(dialect, stage2.c.created_at, credited.created_at),
                ),
                else_=null(),
            ).label("seconds"),
        )
        .select_from(stage2)
        .outerjoin(credited, credited.id == stage2.c.click)
        .subquery("result")
    )


def _write_results(session: Session, result: Subquery) -> None:
    """UPDATE ... FROM the results, touching only the records whose attribution changed."""
    session.execute(
        update(CrmRecord)
        .where(
            CrmRecord.id == result.c.id,
            or_(
                CrmRecord.attribution_method != result.c.method,
                CrmRecord.employee_id.is_distinct_from(result.c.employee),
                CrmRecord.campaign_id.is_distinct_from(result.c.campaign),
                CrmRecord.attributed_click_id.is_distinct_from(result.c.click),
                CrmRecord.seconds_from_click.is_distinct_from(result.c.seconds),
            ),
        )
        .values(
            attribution_method=result.c.method,
            employee_id=result.c.employee,
            campaign_id=result.c.campaign,
            attributed_click_id=result.c.click,
            seconds_from_click=result.c.seconds,
        )
        .execution_options(synchronize_session=False)
    )


def _summarise(session: Session, ids: Sequence[int] | None) -> AttributionSummary:
    counts = {"click_id": 0, "utm": 0, "none": 0}
    without_click = 0
    chunks: list[ColumnElement[bool]] = (
        [true()]
        if ids is None
        else [CrmRecord.id.in_(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]
    )
    for scope in chunks:
        rows = session.execute(
            select(
                CrmRecord.attribution_method,
                func.count(),
                func.count(case((CrmRecord.attributed_click_id.is_(None), 1))),
            )
            .where(scope)
            .group_by(CrmRecord.attribution_method)
        )
        for method, count, no_click in rows:
            counts[method] = counts.get(method, 0) + count
            if method == "utm":
                without_click += no_click
    return AttributionSummary(
        records=sum(counts.values()),
        click_id=counts["click_id"],
        utm=counts["utm"],
        utm_without_click=without_click,
        none=counts["none"],
    )


def _position(dialect: str, haystack: Any, needle: str) -> ColumnElement[int]:
    if dialect == "sqlite":
        return func.instr(haystack, literal(needle), type_=Integer)
    return func.strpos(haystack, literal(needle), type_=Integer)


def _record_click_id(dialect: str, record: Any, param: str) -> ColumnElement[str]:
    """The record's click id column, else the `param=` value inside its landing URL."""
    url = record.landing_url
    at_query = _position(dialect, url, f"?{param}=")
    at_amp = _position(dialect, url, f"&{param}=")
    start = case((at_query > 0, at_query), (at_amp > 0, at_amp), else_=0)
    rest = func.replace(func.substr(url, start + len(param) + 2), "#", "&") + "&"
    value = func.substr(rest, 1, _position(dialect, rest, "&") - 1)
    from_url = case((start > 0, func.nullif(value, "")), else_=None)
    column = func.nullif(func.trim(record.click_id), "")
    return func.coalesce(column, cast(from_url, String), type_=String)


def _seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[int]:
    if dialect == "sqlite":
        days = func.julianday(later) - func.julianday(earlier)
        return cast(func.round(days * 86400), Integer)
    return cast(func.round(func.date_part("epoch", later - earlier)), Integer)


def _window_start(dialect: str, moment: Any, days: int) -> Any:
    if dialect == "sqlite":
        # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff'; datetime() drops the fraction, put it back
        # so the comparison with stored click times stays exact to the microsecond.
        shifted = func.datetime(moment, literal(f"-{days} days"), type_=String)
        return shifted + func.substr(moment, 20)
    return moment - func.make_interval(0, 0, 0, literal(days))


__all__ = [
    "DEFAULT_CLICK_ID_PARAM",
    "DEFAULT_WINDOW_DAYS",
    "AttributionSummary",
    "attribute_records",
]
