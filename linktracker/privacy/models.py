"""The audit log of customer requests: what was asked and how much it touched, no address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, UTCDateTime, utcnow

REQUEST_KINDS = ("find", "export", "erase")


class PrivacyRequest(Base):
    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    # The address's keyed hash (as CRM records store it): never the address itself.
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    records: Mapped[int] = mapped_column(Integer, default=0)
    raw_lines: Mapped[int] = mapped_column(Integer, default=0)
    raw_files: Mapped[int] = mapped_column(Integer, default=0)
    row_errors: Mapped[int] = mapped_column(Integer, default=0)
    # No foreign key: erasing a leaver removes their account, and the log stays.
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
