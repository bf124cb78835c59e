"""crm_imports.raw_deleted_at: when retention deleted the import's raw upload

Raw uploads hold customer emails in clear; CRM_RAW_RETENTION_DAYS deletes them after a
while, and the import's records and summary stay, saying when the raw file went.

Revision ID: 0009
Revises: 0008_login_attempts
Create Date: 2026-12-03 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import linktracker.db

revision: str = "0009"
down_revision: str | None = "0008_login_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("raw_deleted_at", linktracker.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_imports", schema=None) as batch_op:
        batch_op.drop_column("raw_deleted_at")
