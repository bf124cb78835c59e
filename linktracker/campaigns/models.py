"""What employees share: a destination, its channels and its UTM template."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, UTCDateTime, utcnow

GOALS = ("awareness", "leads", "recruiting")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    destination_url: Mapped[str] = mapped_column(Text)
    goal: Mapped[str] = mapped_column(String(20), default="leads")
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    utm_id: Mapped[str | None] = mapped_column(String(100))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_lowercase: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostText(Base):
    """Suggested text for a campaign's posts: for every channel (channel None) or for one."""

    __tablename__ = "post_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(3000))
    position: Mapped[int] = mapped_column(Integer, default=0)
