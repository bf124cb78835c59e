"""Which week's digest went to whom: a week is sent to an employee at most once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, UTCDateTime, utcnow


class DigestSend(Base):
    __tablename__ = "digest_sends"
    __table_args__ = (UniqueConstraint("employee_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    week: Mapped[date] = mapped_column(Date)  # the Monday the week starts on
    # "sent", or "failed" (the next run tries again); error says why it failed.
    status: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
