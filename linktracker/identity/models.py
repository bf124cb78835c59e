"""SCIM tokens, and the identity provider's own id of each provisioned employee."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from linktracker.db import Base, UTCDateTime, utcnow


class ScimToken(Base):
    """A bearer token an identity provider provisions employees with; only its hash is kept."""

    __tablename__ = "scim_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScimIdentity(Base):
    """What the identity provider calls an employee it provisioned: its userName and externalId.

    The userName is often the email, but not always (Microsoft Entra ID may send a UPN).
    """

    __tablename__ = "scim_identities"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(320), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
