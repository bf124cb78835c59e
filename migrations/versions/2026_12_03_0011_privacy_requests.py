"""privacy_requests: the audit log of customers' find, export and erase requests

Each entry keeps the address's keyed hash, never the address, with the counts it touched.

Revision ID: 0011_privacy_requests
Revises: 0010_employee_erasure
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import linktracker.db

revision: str = "0011_privacy_requests"
down_revision: str | None = "0010_employee_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("raw_lines", sa.Integer(), nullable=False),
        sa.Column("raw_files", sa.Integer(), nullable=False),
        sa.Column("row_errors", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", linktracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index(
        op.f("ix_privacy_requests_email_hash"), "privacy_requests", ["email_hash"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_requests_email_hash"), table_name="privacy_requests")
    op.drop_table("privacy_requests")
