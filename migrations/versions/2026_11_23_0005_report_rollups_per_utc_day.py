"""report rollups per UTC day and month (clicks, reps, links); won records by creation time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty: reports fill them on first use (or `linktracker report refresh`).
    op.create_table(
        "report_click_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("clicks_seen", sa.Integer(), nullable=False),
        sa.Column("unique_visitors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_click_days")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_rep_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("unique_visitors", sa.Integer(), nullable=False),
        sa.Column("bot_clicks", sa.Integer(), nullable=False),
        sa.Column("preview_clicks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "employee_id", name=op.f("pk_report_rep_days")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_link_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "employee_id", "campaign_id", "link_id", name=op.f("pk_report_link_days")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_click_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("clicks_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_report_click_months")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_rep_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("unique_visitors", sa.Integer(), nullable=False),
        sa.Column("bot_clicks", sa.Integer(), nullable=False),
        sa.Column("preview_clicks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "employee_id", name=op.f("pk_report_rep_months")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_link_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "employee_id", "campaign_id", "link_id", name=op.f("pk_report_link_months")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_crm_records_won_created",
        "crm_records",
        ["created_at"],
        unique=False,
        sqlite_where=sa.text("won IS 1"),
        postgresql_where=sa.text("won IS true"),
    )


def downgrade() -> None:
    op.drop_index("ix_crm_records_won_created", table_name="crm_records")
    op.drop_table("report_link_months")
    op.drop_table("report_rep_months")
    op.drop_table("report_click_months")
    op.drop_table("report_link_days")
    op.drop_table("report_rep_days")
    op.drop_table("report_click_days")
