"""applications: ATS applications, and crm_imports.pipeline (crm or ats)

Applications upsert by (source, external id) like CRM records; ATS imports are
crm_imports rows with pipeline "ats", so uploads, row errors, locks and retention are shared.

Revision ID: 0013_applications
Revises: 0012_campaign_post_texts
Create Date: 2026-12-03 10:09:04.842205
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import linktracker.db

revision: str = "0013_applications"
down_revision: str | None = "0012_campaign_post_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("candidate", sa.String(length=64), nullable=True),
        sa.Column("job", sa.String(length=200), nullable=True),
        sa.Column("applied_at", linktracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stage", sa.String(length=120), nullable=True),
        sa.Column("hired", sa.Boolean(), nullable=False),
        sa.Column("hired_at", linktracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_contact_at", linktracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("applicant_source", sa.String(length=200), nullable=True),
        sa.Column("referrer", sa.String(length=320), nullable=True),
        sa.Column("utm_source", sa.String(length=200), nullable=True),
        sa.Column("utm_medium", sa.String(length=200), nullable=True),
        sa.Column("utm_campaign", sa.String(length=200), nullable=True),
        sa.Column("utm_content", sa.String(length=200), nullable=True),
        sa.Column("utm_term", sa.String(length=200), nullable=True),
        sa.Column("click_id", sa.String(length=40), nullable=True),
        sa.Column("landing_url", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("first_import_id", sa.Integer(), nullable=True),
        sa.Column("last_import_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", linktracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", linktracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attribution_method", sa.String(length=10), nullable=False),
        sa.Column("referrer_match", sa.String(length=10), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column(
            "attributed_click_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["attributed_click_id"],
            ["clicks.id"],
            name=op.f("fk_applications_attributed_click_id_clicks"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_applications_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_applications_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint(
            "source", "external_id", name=op.f("uq_applications_source_external_id")
        ),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_candidate"), ["candidate"], unique=False)
        batch_op.create_index(
            "ix_applications_employee", ["employee_id", "applied_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_applications_last_import_id"), ["last_import_id"], unique=False
        )
        batch_op.create_index(
            "ix_applications_report",
            ["applied_at", "employee_id", "attribution_method"],
            unique=False,
        )

    with op.batch_alter_table("crm_imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pipeline", sa.String(length=8), server_default="crm", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_imports", schema=None) as batch_op:
        batch_op.drop_column("pipeline")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_report")
        batch_op.drop_index(batch_op.f("ix_applications_last_import_id"))
        batch_op.drop_index("ix_applications_employee")
        batch_op.drop_index(batch_op.f("ix_applications_candidate"))

    op.drop_table("applications")
