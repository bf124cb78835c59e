"""Refused CRM files: what was recognised is kept, and a mapping can still import them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmRecord
from linktracker.crm.services import (
    ImportContext,
    ImportOptions,
    ImportRefused,
    get_import,
    import_crm_file,
    upload_and_import,
)

NO_ID = b"Ref,Create Date,Amount\nA-1,2026-10-01 10:00,100\nA-2,2026-10-02 11:00,200\n"


def test_a_refusal_keeps_the_recognised_columns_and_a_mapping_imports_the_file(
    session: Session, tmp_path: Path
) -> None:
    with pytest.raises(ImportRefused) as refused:
        upload_and_import(
            session, io.BytesIO(NO_ID), ImportContext(tmp_path, b"secret"), filename="no-id.csv"
        )
    import_id = refused.value.import_id
    summary = get_import(session, import_id)
    assert summary.state == "refused" and summary.message.startswith("No id column found")
    assert summary.mapping == {"Ref": None, "Create Date": "created_at", "Amount": "amount"}
    # Run again as it was: still refused, nothing written.
    with pytest.raises(ImportRefused):
        import_crm_file(session, import_id, context=ImportContext(tmp_path, b"secret"))
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0
    done = import_crm_file(
        session,
        import_id,
        ImportContext(tmp_path, b"secret"),
        ImportOptions(mapping={"Ref": "external_id"}),
    )
    assert (done.state, done.inserted, done.message) == ("done", 2, None)
