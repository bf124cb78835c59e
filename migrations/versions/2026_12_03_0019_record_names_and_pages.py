"""crm_records: name and company columns; indexes for the paged records tables

The records of a rep or a campaign are listed a page at a time by creation time or amount
(keyset paging), so each page reads only its own rows from one of four indexes. Records
imported before keep NULL names until their export is imported again (their content hash
now covers name and company, so that import reports them updated).

Revision ID: 0019_record_names_and_pages
Revises: 0018_audience_rollup
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_record_names_and_pages"
down_revision: str | None = "0018_audience_rollup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_crm_records_employee_page": ["employee_id", "created_at", "id"],
    "ix_crm_records_employee_amount": ["employee_id", "amount", "id"],
    "ix_crm_records_campaign_page": ["campaign_id", "created_at", "id"],
    "ix_crm_records_campaign_amount": ["campaign_id", "amount", "id"],
}


def upgrade() -> None:
    op.add_column("crm_records", sa.Column("name", sa.Text(), nullable=True))
    op.add_column("crm_records", sa.Column("company", sa.Text(), nullable=True))
    for name, columns in _INDEXES.items():
        op.create_index(name, "crm_records", columns, unique=False)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="crm_records")
    with op.batch_alter_table("crm_records") as batch:  # SQLite rebuilds the table
        batch.drop_column("company")
        batch.drop_column("name")
