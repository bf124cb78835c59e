"""One row per request to a short link, written once and never updated."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    FetchedValue,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, BigId, UTCDateTime

# ix_clicks_employee_report (0020_audience_marks added the breakdowns' columns).
REP_REPORT_COLUMNS = (
    "employee_id",
    "created_at",
    "is_bot",
    "is_preview",
    "visitor_hash",
    "link_id",
    "campaign_id",
    "channel",
    "referrer_host",
    "referrer_channel",
    "country",
    "device_type",
    "browser",
    "os",
    "bot_name",
)


class Click(Base):
    __tablename__ = "clicks"
    __table_args__ = (
        Index("ix_clicks_campaign_created", "campaign_id", "created_at"),
        # Reports: covering, so per-rep aggregation reads the index only (SQLite skip-scans it),
        # click breakdowns of a rep included (referrer, country, device, browser, os, bot).
        Index(
            "ix_clicks_employee_report",
            *REP_REPORT_COLUMNS,
        ),
        # Attribution: a rep's last click on a campaign before a moment, newest (time, id) first.
        Index(
            "ix_clicks_employee_campaign_created", "employee_id", "campaign_id", "created_at", "id"
        ),
        # The raw click export's order on PostgreSQL (see clicks/export.py); SQLite leaves
        # xact_id empty, so there the index holds no entry and costs an insert nothing.
        Index(
            "ix_clicks_xact_id_id",
            "xact_id",
            "id",
            postgresql_where=text("xact_id IS NOT NULL"),
            sqlite_where=text("xact_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    click_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), index=True)
    # Denormalised from the link so reports aggregate without joins.
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    channel: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(8), default="GET")
    referrer: Mapped[str | None] = mapped_column(Text)
    referrer_host: Mapped[str | None] = mapped_column(String(255))
    referrer_channel: Mapped[str | None] = mapped_column(String(40))
    browser: Mapped[str | None] = mapped_column(String(80))
    os: Mapped[str | None] = mapped_column(String(80))
    device_type: Mapped[str] = mapped_column(String(10), default="other")
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_name: Mapped[str | None] = mapped_column(String(120))
    is_preview: Mapped[bool] = mapped_column(Boolean, default=False)
    visitor_hash: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    # PostgreSQL: the id of the transaction that stored the row (pg_current_xact_id(), the
    # column's server default; 0 for rows stored before the column existed). The export pages
    # in (xact_id, id) order below the oldest transaction still running, so a row committed
    # late with a low id is never skipped (clicks/export.py). SQLite: always empty.
    xact_id: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())


# What counts as a click everywhere (reports, link pages, attribution): a person's request,
# not a bot's and not a link preview's.
HUMAN_CLICK: ColumnElement[bool] = and_(Click.is_bot.is_(False), Click.is_preview.is_(False))
BOT_CLICK: ColumnElement[bool] = and_(Click.is_bot.is_(True), Click.is_preview.is_(False))
PREVIEW_CLICK: ColumnElement[bool] = Click.is_preview.is_(True)
