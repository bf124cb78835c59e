"""Applications imported from applicant tracking systems, and what they are credited to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, BigId, UTCDateTime, utcnow

ATTRIBUTION_METHODS = ("click_id", "utm", "referral", "none")
# How the referrer column matched an employee: by email, by a unique exact name, by a name
# several employees share (not credited), or not at all.
REFERRER_MATCHES = ("email", "name", "ambiguous", "unknown")


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_applications_report", "applied_at", "employee_id", "attribution_method"),
        Index("ix_applications_employee", "employee_id", "applied_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The ATS the ids belong to (greenhouse, lever, …): ids are unique per source.
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(128))
    # A keyed hash of the candidate's email; the email itself is never stored.
    candidate: Mapped[str | None] = mapped_column(String(64), index=True)
    job: Mapped[str | None] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stage: Mapped[str | None] = mapped_column(String(120))
    hired: Mapped[bool] = mapped_column(Boolean, default=False)
    hired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the ATS says the candidate came from (LinkedIn, Referral, careers page…).
    applicant_source: Mapped[str | None] = mapped_column(String(200))
    # The referring employee as the ATS names them: an email or a name.
    referrer: Mapped[str | None] = mapped_column(String(320))
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    click_id: Mapped[str | None] = mapped_column(String(40))
    landing_url: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))
    first_import_id: Mapped[int | None] = mapped_column(Integer)
    last_import_id: Mapped[int | None] = mapped_column(Integer, index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Attribution: click id, else UTM (recruiting campaigns), else referrer, else none.
    attribution_method: Mapped[str] = mapped_column(String(10), default="none")
    referrer_match: Mapped[str | None] = mapped_column(String(10))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    attributed_click_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("clicks.id"))
