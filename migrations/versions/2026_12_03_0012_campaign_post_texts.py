"""post_texts: the post text variants marketers suggest for a campaign, per channel or for all

Revision ID: 0012_campaign_post_texts
Revises: 0011_privacy_requests
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_campaign_post_texts"
down_revision: str | None = "0011_privacy_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("text", sa.String(length=3000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_post_texts_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_texts")),
    )
    op.create_index(op.f("ix_post_texts_campaign_id"), "post_texts", ["campaign_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_post_texts_campaign_id"), table_name="post_texts")
    op.drop_table("post_texts")
