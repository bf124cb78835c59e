"""audience_marks: where the audience rollup's check of new click rows stopped; a rep's
click breakdowns read the per-rep report index only

One row: the click position (SQLite: next click id; PostgreSQL: transaction id horizon) below
which every click of a rolled-up day is counted in it, so a report checks only the clicks
stored since instead of counting its range's clicks (reports/audience_rollup.py). Missing:
the next report checks every rolled-up day once by counting, as before.

ix_clicks_employee_report gains the breakdowns' columns (referrer host and channel, country,
device, browser, os, bot name), so a rep's breakdown never reads the click rows themselves.

Revision ID: 0020_audience_marks
Revises: 0019_record_names_and_pages
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_audience_marks"
down_revision: str | None = "0019_record_names_and_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REPORT = ("employee_id", "created_at", "is_bot", "is_preview", "visitor_hash", "link_id",
           "campaign_id", "channel")  # fmt: skip
_BREAKDOWNS = ("referrer_host", "referrer_channel", "country", "device_type", "browser", "os",
               "bot_name")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "report_audience_marks",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_audience_marks")),
    )

    op.drop_index("ix_clicks_employee_report", table_name="clicks")
    op.create_index("ix_clicks_employee_report", "clicks", [*_REPORT, *_BREAKDOWNS])


def downgrade() -> None:
    op.drop_index("ix_clicks_employee_report", table_name="clicks")
    op.create_index("ix_clicks_employee_report", "clicks", list(_REPORT))
    op.drop_table("report_audience_marks")
