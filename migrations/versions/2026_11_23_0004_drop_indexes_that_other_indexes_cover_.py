"""drop indexes that other indexes cover or no query uses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:55:42.826601
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clicks_employee_created"))

    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_records_click_id"))
        batch_op.drop_index(batch_op.f("ix_crm_records_employee_created"))
        batch_op.drop_index(batch_op.f("ix_crm_records_utm_content"))


def downgrade() -> None:
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_records_utm_content"), ["utm_content"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crm_records_employee_created"),
            ["employee_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_crm_records_click_id"), ["click_id"], unique=False)

    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clicks_employee_created"), ["employee_id", "created_at"], unique=False
        )
