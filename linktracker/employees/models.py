"""The people who share links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, UTCDateTime, utcnow


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # Lands in utm_content, i.e. in third-party analytics: opaque unless chosen on purpose.
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    team: Mapped[str | None] = mapped_column(String(120), index=True)
    program_role: Mapped[str] = mapped_column(String(40), default="advocate")
    connections: Mapped[int] = mapped_column(Integer, default=0)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the person was erased: the row stays so clicks and records keep their totals.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The weekly digest email goes to everyone who did not turn it off.
    digest_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
