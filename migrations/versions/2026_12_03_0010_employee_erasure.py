"""employees.erased_at: when an employee who left was erased

The row stays (named "Former employee", with a placeholder email) so their clicks and
attributed records keep counting in program totals.

Revision ID: 0010_employee_erasure
Revises: 0009
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import linktracker.db

revision: str = "0010_employee_erasure"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erased_at", linktracker.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
