"""Per-UTC-day rollups of the click log, kept by reports/rollup.py (see its docstring).

Rows are derived data: reports/rollup.py deletes and rewrites a day wholesale, nothing else
writes them. No foreign keys: the ids are copied from click rows that already have them, and
PostgreSQL's per-row key checks were half the time of a first rollup. Tables without rowid on
SQLite: each is read as a range of its primary key.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base

WITHOUT_ROWID = {"sqlite_with_rowid": False}


class ClickDay(Base):
    """One closed UTC day: its signature and the program-wide unique visitors."""

    __tablename__ = "report_click_days"
    __table_args__ = WITHOUT_ROWID

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Every click row of the day (human, bot, preview) when the day was rolled up: the rows of
    # a day only ever grow, so an unchanged count means an unchanged day.
    clicks_seen: Mapped[int]
    unique_visitors: Mapped[int]  # distinct human visitor hashes of the day, across reps


class RepCounts:
    """A rep's traffic counts, per day (RepDay) or per month (RepMonth)."""

    clicks: Mapped[int]
    unique_visitors: Mapped[int]
    bot_clicks: Mapped[int]
    preview_clicks: Mapped[int]


class RepDay(RepCounts, Base):
    """One rep's traffic on one UTC day (a row for every rep with any click that day)."""

    __tablename__ = "report_rep_days"
    __table_args__ = WITHOUT_ROWID

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(primary_key=True)


class LinkDay(Base):
    """A link with >= 1 human click on a UTC day, keyed like its clicks: links shared and
    campaigns shared are distinct counts over a range, so they need the pairs, not a sum."""

    __tablename__ = "report_link_days"
    __table_args__ = WITHOUT_ROWID

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(primary_key=True)


class ClickMonth(Base):
    """One whole UTC month rolled up from its days; valid while its days' counts still sum
    to clicks_seen. A 90-day report reads two or three months instead of ~60 days of rows."""

    __tablename__ = "report_click_months"
    __table_args__ = WITHOUT_ROWID

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    clicks_seen: Mapped[int]


class RepMonth(RepCounts, Base):
    """RepDay summed over a whole UTC month."""

    __tablename__ = "report_rep_months"
    __table_args__ = WITHOUT_ROWID

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(primary_key=True)


class LinkMonth(Base):
    """The distinct LinkDay triples of a whole UTC month."""

    __tablename__ = "report_link_months"
    __table_args__ = WITHOUT_ROWID

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    employee_id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(primary_key=True)


class AudienceDay(Base):
    """One closed UTC day of the audience rollup (reports/audience_rollup.py): what it was
    built from, its row count in which reporting time zone."""

    __tablename__ = "report_audience_days"
    __table_args__ = WITHOUT_ROWID

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # hour, weekday and day keys are local times: rows built in another zone are rebuilt.
    timezone: Mapped[str] = mapped_column(String(64))
    clicks_seen: Mapped[int]  # every click row of the day when it was rolled up


class AudienceMark(Base):
    """Where the audience rollup's check of new click rows stopped (one row, id 1): every
    click stored before `position` whose UTC day has an AudienceDay row is counted in it.
    position: SQLite, the next click id; PostgreSQL, a transaction id horizon (clicks.xact_id).
    See reports/audience_rollup.py."""

    __tablename__ = "report_audience_marks"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger)


class AudienceCount(Base):
    """Clicks and distinct visitors of one value of one breakdown on one UTC day, for the
    whole program (campaign_id 0) and for each campaign. `key` is the value as text, ''
    where it is unknown (no referrer, no country, ...)."""

    __tablename__ = "report_audience_counts"
    __table_args__ = WITHOUT_ROWID

    dimension: Mapped[str] = mapped_column(String(24), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    clicks: Mapped[int]
    unique_visitors: Mapped[int]
