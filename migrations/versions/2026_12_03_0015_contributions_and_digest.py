"""contributions, digest_sends, employees.digest_opt_out: story suggestions and the digest

Employees suggest stories (reviewed into campaigns); the weekly digest email records each
week sent to each employee, and employees may turn it off.

Revision ID: 0015_contributions_and_digest
Revises: 0014_scim
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import linktracker.db

revision: str = "0015_contributions_and_digest"
down_revision: str | None = "0014_scim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", linktracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", linktracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewer_user_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.String(length=2000), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_contributions_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_contributions_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    for column in ("campaign_id", "created_at", "employee_id", "status"):
        op.create_index(op.f(f"ix_contributions_{column}"), "contributions", [column], unique=False)
    op.create_table(
        "digest_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempted_at", linktracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_digest_sends_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_sends")),
        sa.UniqueConstraint("employee_id", "week", name=op.f("uq_digest_sends_employee_id_week")),
    )
    op.create_index(
        op.f("ix_digest_sends_employee_id"), "digest_sends", ["employee_id"], unique=False
    )
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_column("digest_opt_out")
    op.drop_index(op.f("ix_digest_sends_employee_id"), table_name="digest_sends")
    op.drop_table("digest_sends")
    for column in ("status", "employee_id", "created_at", "campaign_id"):
        op.drop_index(op.f(f"ix_contributions_{column}"), table_name="contributions")
    op.drop_table("contributions")
