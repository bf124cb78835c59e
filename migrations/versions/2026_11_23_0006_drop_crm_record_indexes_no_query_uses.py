"""drop crm_records indexes no query uses (attribution_method, attributed_click_id)

Every import writes each new record into every index of crm_records, and every attribution
run moves each credited record within the indexes on its attribution columns. No query
looks records up by attribution_method (a three-value column, always filtered with a date
range that ix_crm_records_report serves) or by attributed_click_id (joins go from the
record to its click, through the clicks primary key), and nothing deletes clicks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_records_attribution_method"))
        batch_op.drop_index(batch_op.f("ix_crm_records_attributed_click_id"))


def downgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_records_attributed_click_id"), ["attributed_click_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crm_records_attribution_method"), ["attribution_method"], unique=False
        )
