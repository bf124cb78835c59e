"""The privacy page: find, export and erase an address (admins, CSRF); retention in Settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.privacy.models import PrivacyRequest
from linktracker.settings.models import Setting
from tests.privacy_data import FIRST, SECOND, external_ids, import_summaries, import_text
from tests.web.clients import text

ANA = "ana.souza@example.com"


def _two_imports(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    import_text(runner, tmp_path, "first.csv", FIRST)
    import_text(runner, tmp_path, "second.csv", SECOND)


def test_admin_finds_exports_and_erases_an_address(
    app: Flask, session: Session, sign_in, tmp_path: Path
) -> None:
    _two_imports(app, tmp_path)
    summaries = import_summaries(session)
    client = sign_in("admin")
    assert "No requests yet." in text(client.get("/app/privacy/"))

    found = text(client.post("/app/privacy/find", data={"email": ANA.upper()}))
    assert "3 record(s), 3 raw upload line(s), 0 rejected row(s)." in found
    assert "<td>A1</td>" in found and "<td>B2</td>" in found and "<td>A2</td>" not in found

    download = client.post("/app/privacy/export", data={"email": ANA})
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(download.data)
    assert sorted(r["external_id"] for r in data["records"]) == ["A1", "A3", "B2"]

    unconfirmed = client.post("/app/privacy/erase", data={"email": ANA, "confirm": "yes"})
    assert unconfirmed.status_code == 422 and "Type erase to confirm" in text(unconfirmed)
    assert len(external_ids(session)) == 6

    erased = client.post(
        "/app/privacy/erase", data={"email": ANA, "confirm": "erase"}, follow_redirects=True
    )
    assert "Erased 3 record(s) and 3 line(s) from 2 raw upload(s)" in text(erased)
    session.expire_all()
    assert external_ids(session) == ["A2", "A4", "B1"]
    assert import_summaries(session) == summaries
    entries = session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)).all()
    assert [e.kind for e in entries] == ["find", "export", "erase"]
    assert all(e.actor_user_id is not None and "@" not in e.email_hash for e in entries)
    page = text(client.get("/app/privacy/"))
    assert ANA not in page and entries[0].email_hash[:12] in page


def test_a_bad_address_is_refused_with_its_message(app: Flask, session: Session, sign_in) -> None:
    client = sign_in("admin")
    response = client.post("/app/privacy/erase", data={"email": "ana", "confirm": "erase"})
    assert response.status_code == 422
    assert "is not an email address" in text(response)
    assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_privacy_posts_need_the_csrf_token(
    csrf_app: Flask, session: Session, sign_in, tmp_path: Path
) -> None:
    _two_imports(csrf_app, tmp_path)
    client = sign_in("admin", app=csrf_app)
    response = client.post("/app/privacy/erase", data={"email": ANA, "confirm": "erase"})
    assert response.status_code == 400 and "CSRF" in text(response)
    assert len(external_ids(session)) == 6


def test_settings_show_what_retention_would_delete_before_saving(
    app: Flask, session: Session, sign_in, tmp_path: Path
) -> None:
    _two_imports(app, tmp_path)
    # Three records closed (or, when open, created) long ago; three recent ones.
    session.execute(
        update(CrmRecord)
        .where(CrmRecord.external_id.in_(["A1", "A2", "B1"]))
        .values(created_at=datetime(2020, 1, 1, tzinfo=UTC), closed_at=None)
    )
    session.execute(
        update(CrmRecord)
        .where(CrmRecord.external_id.in_(["A3", "A4", "B2"]))
        .values(created_at=datetime.now(UTC), closed_at=None)
    )
    session.commit()
    client = sign_in("admin")
    assert "CRM records are kept forever." in text(client.get("/app/settings/"))

    preview = client.post("/app/settings/", data={"crm_record_retention_months": "12"})
    assert preview.status_code == 200
    assert "would delete 3 record(s) now: press Save settings again" in text(preview)
    assert session.scalar(select(func.count()).select_from(Setting)) == 0

    saved = client.post(
        "/app/settings/",
        data={"crm_record_retention_months": "12", "retention_previewed": "12"},
    )
    assert saved.status_code == 302
    assert app.extensions["linktracker"].settings().crm_record_retention_months == 12
    assert len(external_ids(session)) == 6  # saving deletes nothing; the run does

    run = app.test_cli_runner().invoke(args=["retention", "run"])
    assert "Deleted 3 CRM record(s) past 12 month(s) of retention." in run.output
    assert external_ids(session) == ["A3", "A4", "B2"]
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 2


def test_settings_refuse_a_bad_retention(session: Session, sign_in) -> None:
    client = sign_in("admin")
    response = client.post("/app/settings/", data={"crm_record_retention_months": "-3"})
    assert response.status_code == 422
    assert "Enter a whole number of months (0 keeps records forever)." in text(response)
    assert session.scalar(select(func.count()).select_from(Setting)) == 0
