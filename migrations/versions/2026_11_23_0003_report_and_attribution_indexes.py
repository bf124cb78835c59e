"""Report and attribution indexes: covering indexes for per-rep click and lead aggregation,
and a rep/campaign/time index for finding the last human click during attribution.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 09:43:07.075890
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clicks_employee_campaign_created",
            ["employee_id", "campaign_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_clicks_employee_report",
            [
                "employee_id",
                "created_at",
                "is_bot",
                "is_preview",
                "visitor_hash",
                "link_id",
                "campaign_id",
                "channel",
            ],
            unique=False,
        )

    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crm_records_report",
            ["employee_id", "created_at", "attribution_method", "kind", "won", "campaign_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_records_report")

    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_clicks_employee_report")
        batch_op.drop_index("ix_clicks_employee_campaign_created")
