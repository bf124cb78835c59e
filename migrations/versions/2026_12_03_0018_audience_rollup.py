"""audience_rollup: per-UTC-day click counts by referrer, country, device, hour, ...

Derived data (reports/audience_rollup.py rebuilds a day wholesale); the breakdowns of the
whole program and of one campaign read whole UTC days from here.

Revision ID: 0018_audience_rollup
Revises: 0017_clicks_xact_id
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_audience_rollup"
down_revision: str | None = "0017_clicks_xact_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_audience_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("clicks_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_audience_days")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_audience_counts",
        sa.Column("dimension", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("unique_visitors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dimension", "campaign_id", "day", "key", name=op.f("pk_report_audience_counts")
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("report_audience_counts")
    op.drop_table("report_audience_days")
