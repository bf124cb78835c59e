"""CRM uploads, kept byte for byte, and the records they upsert."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, BigId, UTCDateTime, utcnow

IMPORT_STATES = ("pending", "running", "done", "dry_run", "refused", "failed")
ATTRIBUTION_METHODS = ("click_id", "utm", "none")


class CrmImport(Base):
    __tablename__ = "crm_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(40))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Path of the raw upload inside UPLOAD_FOLDER; the bytes are never modified.
    storage_path: Mapped[str] = mapped_column(String(500))
    # When CRM_RAW_RETENTION_DAYS deleted the raw upload (records and counts stay).
    raw_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # What the import writes: CRM records (`crm`) or ATS applications (`ats`).
    pipeline: Mapped[str] = mapped_column(String(8), default="crm", server_default="crm")
    message: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(40))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    format: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str | None] = mapped_column(String(20))
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dayfirst: Mapped[bool | None] = mapped_column(Boolean)
    dayfirst_reason: Mapped[str | None] = mapped_column(String(200))
    # Last physical line fully committed, so a killed import resumes instead of restarting.
    progress_line: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class CrmImportError(Base):
    __tablename__ = "crm_import_errors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("crm_imports.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[list[str] | None] = mapped_column(JSON)


class CrmRecord(Base):
    __tablename__ = "crm_records"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # Reports: leads and the baseline counted from the index alone.
        Index(
            "ix_crm_records_report",
            "employee_id",
            "created_at",
            "attribution_method",
            "kind",
            "won",
            "campaign_id",
        ),
        # Reports: the won records of a date range (time to close, revenue) without visiting
        # every record of the range; attribution never changes these columns.
        Index(
            "ix_crm_records_won_created",
            "created_at",
            sqlite_where=text("won IS 1"),
            postgresql_where=text("won IS true"),
        ),
        # The records tables of a rep and of a campaign, a page at a time (keyset paging:
        # each page starts where the last ended, by creation time or by amount).
        Index("ix_crm_records_employee_page", "employee_id", "created_at", "id"),
        Index("ix_crm_records_employee_amount", "employee_id", "amount", "id"),
        Index("ix_crm_records_campaign_page", "campaign_id", "created_at", "id"),
        Index("ix_crm_records_campaign_amount", "campaign_id", "amount", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(120))
    won: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # A keyed hash unless CRM_KEEP_EMAILS is set.
    email: Mapped[str | None] = mapped_column(String(320))
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    click_id: Mapped[str | None] = mapped_column(String(40))
    landing_url: Mapped[str | None] = mapped_column(Text)
    lead_source: Mapped[str | None] = mapped_column(String(200))
    # Deal, opportunity or contact name and the company, as the export names them.
    name: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    # Change detection for idempotent re-imports: a digest of every imported field.
    content_hash: Mapped[str] = mapped_column(String(32))
    # Ids of crm_imports rows, without foreign keys: only the importer writes them, from the
    # import it committed first, and nothing deletes imports; as foreign keys they cost
    # two integrity checks per record in every import (migration 0007).
    first_import_id: Mapped[int | None] = mapped_column(Integer)
    last_import_id: Mapped[int | None] = mapped_column(Integer, index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Attribution result (click id, else UTM, else none), rewritten by every attribution run.
    attribution_method: Mapped[str] = mapped_column(String(10), default="none")
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # No index: joins go from the record to its click, and clicks are never deleted.
    attributed_click_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("clicks.id"))
    seconds_from_click: Mapped[int | None] = mapped_column(Integer)
    # When the `lead.attributed` and `deal.won` webhook events of the record were queued:
    # each is sent once, the first time the record is attributed (won).
    lead_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    won_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
