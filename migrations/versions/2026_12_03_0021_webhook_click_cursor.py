"""webhooks: where each webhook's click.created events have reached in the clicks table

click.created events are made from the stored clicks themselves (clicks/webhook_events.py):
each webhook keeps the position (clicks.id and, on PostgreSQL, clicks.xact_id) of the last
click it has been sent an event for. NULL: not started (it starts at the clicks made since
the webhook was created). Existing webhooks start at the clicks stored from now on, not at
every click since they were created.

Revision ID: 0021_webhook_click_cursor
Revises: 0020_audience_marks
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_webhook_click_cursor"
down_revision: str | None = "0020_audience_marks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhooks", sa.Column("click_after_id", sa.BigInteger(), nullable=True))
    op.add_column("webhooks", sa.Column("click_after_xact", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # After every transaction that ended before now (see clicks/export.py's horizon).
        op.execute(
            "UPDATE webhooks SET click_after_id = 4611686018427387904, click_after_xact = "
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1"
        )
    else:
        op.execute("UPDATE webhooks SET click_after_id = (SELECT coalesce(max(id), 0) FROM clicks)")


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:  # SQLite rebuilds the table
        batch.drop_column("click_after_xact")
        batch.drop_column("click_after_id")
