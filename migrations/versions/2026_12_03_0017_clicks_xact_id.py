"""clicks.xact_id: the storing transaction's id, so the raw click export pages safely

On PostgreSQL the column defaults to pg_current_xact_id(); rows stored before it read 0
(added with a constant default first, which PostgreSQL keeps without rewriting the table).
SQLite leaves it empty: there one writer at a time stores ids in commit order.

Revision ID: 0017_clicks_xact_id
Revises: 0016_webhooks
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_clicks_xact_id"
down_revision: str | None = "0016_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

XACT_ID_DEFAULT = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("clicks") as batch:
        batch.add_column(
            sa.Column(
                "xact_id",
                sa.BigInteger(),
                nullable=True,
                server_default=sa.text("0") if postgresql else None,
            )
        )
    if postgresql:
        op.alter_column("clicks", "xact_id", server_default=sa.text(XACT_ID_DEFAULT))
    op.create_index(
        "ix_clicks_xact_id_id",
        "clicks",
        ["xact_id", "id"],
        unique=False,
        postgresql_where=sa.text("xact_id IS NOT NULL"),
        sqlite_where=sa.text("xact_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_clicks_xact_id_id", table_name="clicks")
    with op.batch_alter_table("clicks") as batch:
        batch.drop_column("xact_id")
