"""A personal short link: one per (campaign, employee, channel)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, UTCDateTime, utcnow


class Link(Base):
    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("campaign_id", "employee_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    # Frozen at creation: later campaign edits never change where a shared link goes.
    destination_url: Mapped[str] = mapped_column(Text)
    vanity: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
