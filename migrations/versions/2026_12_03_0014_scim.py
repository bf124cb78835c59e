"""scim_tokens and scim_identities: SCIM provisioning's bearer tokens and employees' externalId

Revision ID: 0014_scim
Revises: 0013_applications
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import linktracker.db

revision: str = "0014_scim"
down_revision: str | None = "0013_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scim_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", linktracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", linktracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", linktracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_scim_tokens_token_hash")),
    )
    op.create_table(
        "scim_identities",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=320), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_scim_identities_employee_id_employees"),
        ),
        sa.PrimaryKeyConstraint("employee_id", name=op.f("pk_scim_identities")),
    )
    op.create_index(
        op.f("ix_scim_identities_user_name"), "scim_identities", ["user_name"], unique=False
    )
    op.create_index(
        op.f("ix_scim_identities_external_id"), "scim_identities", ["external_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_scim_identities_external_id"), table_name="scim_identities")
    op.drop_index(op.f("ix_scim_identities_user_name"), table_name="scim_identities")
    op.drop_table("scim_identities")
    op.drop_table("scim_tokens")
