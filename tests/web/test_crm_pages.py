"""CRM import pages: upload, mapping preview, import summary, downloads, history."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from linktracker.crm.locks import import_lock
from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.services import (
    ImportContext,
    ImportOptions,
    ImportProgress,
    import_crm_file,
    store_upload,
)
from tests.services.crm_exports import ROWS, export
from tests.services.crm_runs import kill_import_after_first_batch, wait_until_interrupted
from tests.support import TEST_DATA
from tests.web.clients import SignIn, text

BAD_ROWS = TEST_DATA / "crm" / "hubspot_with_bad_rows.csv"


def _upload(client, data: bytes, name: str = "export.csv"):
    return client.post(
        "/app/crm/",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_upload_is_kept_and_previewed_before_anything_is_imported(
    app: Flask, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    uploaded = _upload(client, BAD_ROWS.read_bytes(), "hubspot_with_bad_rows.csv")
    assert uploaded.status_code == 302
    preview = client.get(uploaded.headers["Location"])
    body = text(preview)
    assert preview.status_code == 200
    assert "hubspot" in body and "utf-8" in body
    assert re.search(r'<label for="map-0" class="mono">Record ID</label>', body)
    assert re.search(r'<option value="external_id" selected>', body)
    assert "Rows that will be rejected" in body and "missing id" in body
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0


def test_importing_shows_the_summary_with_row_errors_and_offers_the_downloads(
    app, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    raw = BAD_ROWS.read_bytes()
    preview_url = _upload(client, raw, "hubspot_with_bad_rows.csv").headers["Location"]
    run = client.post(preview_url.replace("/preview", "/run"))
    detail_url = run.headers["Location"]
    body = text(client.get(detail_url))
    assert "Imported 7 rows: 2 new, 0 updated, 0 unchanged, 5 rejected." in body
    assert re.search(r'Rejected</p>\s*<p class="stat-value">5<', body)
    assert "unparseable date" in body
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 2

    rejected = client.get(f"{detail_url}/rejected.csv")
    assert rejected.mimetype == "text/csv"
    assert "attachment" in rejected.headers["Content-Disposition"]
    body = rejected.get_data(as_text=True)
    assert body.startswith("\ufeff")  # so spreadsheet programs read it as UTF-8
    lines = body.removeprefix("\ufeff").splitlines()
    assert lines[0] == "Record ID,Create Date,Deal Stage,Amount,UTM Content,error"
    assert len(lines) == 6
    assert client.get(f"{detail_url}/raw").data == raw


def test_uploading_the_same_file_again_changes_nothing(app, session, sign_in: SignIn):
    client = sign_in("sales_ops")
    raw = BAD_ROWS.read_bytes()
    for _ in range(2):
        preview_url = _upload(client, raw).headers["Location"]
        done = client.post(preview_url.replace("/preview", "/run"), follow_redirects=True)
    assert "0 new, 0 updated, 2 unchanged, 5 rejected" in text(done)
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 2
    history = text(client.get("/app/crm/"))
    assert history.count("Imported</span>") == 2


def test_a_corrected_mapping_is_previewed_and_used(app, session, sign_in: SignIn):
    client = sign_in("sales_ops")
    csv = b"Deal,Opened,Campaign Tag\nD-1,2026-10-01,adv-01\nD-2,2026-10-02,adv-02\n"
    preview_url = _upload(client, csv).headers["Location"]
    unknown = client.get(preview_url)
    assert unknown.status_code == 422  # no id or date column recognised: map them by hand
    assert '<select id="map-2" name="map-2">' in text(unknown)
    mapping = {"map-0": "external_id", "map-1": "created_at", "map-2": "utm_content"}
    corrected = client.post(preview_url, data=mapping)
    body = text(corrected)
    assert corrected.status_code == 200
    assert re.search(
        r'id="map-2" name="map-2">.*?<option value="utm_content" selected>', body, re.S
    )
    assert "adv-02" in body
    client.post(preview_url.replace("/preview", "/run"), data=mapping)
    contents = set(session.scalars(select(CrmRecord.utm_content)))
    assert contents == {"adv-01", "adv-02"}


def test_a_file_that_is_not_a_csv_is_refused_with_a_clear_message(app, session, sign_in: SignIn):
    client = sign_in("sales_ops")
    broken = (TEST_DATA / "crm" / "broken_not_a_csv.csv").read_bytes()
    preview_url = _upload(client, broken).headers["Location"]
    response = client.get(preview_url)
    # Nothing to map: the import's own page shows the refusal, rendered by the server.
    detail_url = preview_url.removesuffix("/preview")
    assert response.status_code == 302 and response.headers["Location"] == detail_url
    imported = session.scalars(select(CrmImport)).one()
    session.refresh(imported)
    assert (imported.state, imported.rows) == ("refused", 0)
    for _reload in range(2):
        page = client.get(detail_url)
        body = text(page)
        assert page.status_code == 200
        assert "Refused</span>" in body and imported.message in body
        assert "This file was not imported" in body and "Upload another file" in body
    assert "Refused</span>" in text(client.get("/app/crm/"))
    assert "Awaiting confirmation" not in text(client.get("/app/crm/"))
    run = client.post(preview_url.replace("/preview", "/run"), follow_redirects=True)
    assert "Refused" in text(run)
    assert session.scalar(select(CrmImport.state)) == "refused"
    assert client.get(f"{detail_url}/raw").data == broken


def test_columns_the_import_does_not_find_are_not_offered_for_mapping(
    app, session, sign_in: SignIn
):
    # One filled cell per line: the import finds no header row, so there is nothing to map,
    # even where a trailing comma makes a line look like two columns.
    client = sign_in("sales_ops")
    preview_url = _upload(client, b"Record ID,\r\n1,\r\n2,\r\n").headers["Location"]
    response = client.get(preview_url)
    detail_url = preview_url.removesuffix("/preview")
    assert response.status_code == 302 and response.headers["Location"] == detail_url
    assert "No header row found" in text(client.get(detail_url))
    assert session.scalar(select(CrmImport.state)) == "refused"


def test_a_file_refused_in_the_web_is_recorded_refused_and_keeps_its_recognised_mapping(
    app, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    # Recognisable columns, but no id column: detection refuses it, as the API would.
    csv = (
        b"Ref,Create Date,Deal Stage,Amount,Notes\n"
        b"A-1,2026-10-01 10:00,Closed Won,100,first\n"
        b"A-2,2026-10-02 11:00,Proposal,200,second\n"
    )
    preview_url = _upload(client, csv, "no-id.csv").headers["Location"]
    response = client.get(preview_url)
    body = text(response)
    assert response.status_code == 422
    assert "No id column found" in body
    imported = session.scalars(select(CrmImport)).one()
    session.refresh(imported)
    assert imported.state == "refused" and imported.message.startswith("No id column found")
    history = text(client.get("/app/crm/"))
    assert "Refused</span>" in history and "Awaiting confirmation" not in history

    def selected(page: str, index: int) -> str | None:
        select_html = re.search(rf'<select id="map-{index}".*?</select>', page, re.S)
        assert select_html is not None
        chosen = re.search(r'<option value="([^"]*)" selected>', select_html[0])
        return chosen[1] if chosen else None

    # The recognised columns keep their fields; only the unknown ones start at "ignore".
    for page in (body, text(client.get(preview_url))):
        assert [selected(page, i) for i in range(5)] == [
            None, "created_at", "stage", "amount", None,
        ]  # fmt: skip
    detail = text(client.get(preview_url.removesuffix("/preview")))
    assert "Map the columns" in detail and preview_url in detail

    mapping = {"map-0": "external_id", "map-1": "created_at", "map-2": "stage",
               "map-3": "amount", "map-4": ""}  # fmt: skip
    done = client.post(preview_url.replace("/preview", "/run"), data=mapping)
    assert done.status_code == 302
    session.refresh(imported)
    assert (imported.state, imported.inserted, imported.message) == ("done", 2, None)
    assert set(session.scalars(select(CrmRecord.external_id))) == {"A-1", "A-2"}
    assert "Imported</span>" in text(client.get("/app/crm/"))


def test_an_upload_without_a_file_is_refused_beside_the_field(app, session, sign_in: SignIn):
    response = sign_in("sales_ops").post("/app/crm/", data={})
    assert response.status_code == 422
    assert re.search(r'id="file-error">Choose the exported CSV file', text(response))


def test_an_upload_over_the_size_limit_is_refused(config, session, sign_in: SignIn):
    from linktracker import create_app

    app = create_app({**config, "MAX_UPLOAD_MB": 1})
    try:
        client = sign_in("sales_ops", app=app)
        response = _upload(client, b"a" * (1024 * 1024 + 10))
        assert response.status_code == 413
        assert "larger than the limit" in text(response)
    finally:
        app.extensions["linktracker"].dispose()


def test_rejected_rows_download_survives_an_awkward_filename(app, session, sign_in: SignIn):
    client = sign_in("sales_ops")
    name = "Q3 Übersicht.csv"
    preview_url = _upload(client, BAD_ROWS.read_bytes(), name).headers["Location"]
    detail_url = client.post(preview_url.replace("/preview", "/run")).headers["Location"]
    for url in (f"{detail_url}/rejected.csv", detail_url.replace("/app/crm", "/api/v1/crm/imports")
                + "/rejected.csv"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert "missing id" in response.get_data(as_text=True)
        response.close()
        header = response.headers["Content-Disposition"]
        assert header == 'attachment; filename="Q3 _bersicht-rejected.csv"'


def test_rejected_rows_downloads_give_back_their_connection_read_or_not(
    app, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    preview_url = _upload(client, BAD_ROWS.read_bytes()).headers["Location"]
    detail_url = client.post(preview_url.replace("/preview", "/run")).headers["Location"]
    api_url = detail_url.replace("/app/crm", "/api/v1/crm/imports") + "/rejected.csv"
    pool = app.extensions["linktracker"].engine.pool
    for url in (f"{detail_url}/rejected.csv", api_url):
        for read_body in (True, False):
            before = pool.checkedout()
            response = client.get(url, buffered=False)
            if read_body:
                assert "missing id" in response.get_data(as_text=True)
            response.close()
            # A body's session left open would hold its transaction (and on PostgreSQL
            # block the next TRUNCATE or migration) until garbage collection.
            assert pool.checkedout() == before, (url, read_body)


def test_the_pages_and_the_api_give_the_same_raw_and_rejected_files(app, session, sign_in: SignIn):
    client = sign_in("sales_ops")
    raw = BAD_ROWS.read_bytes()
    preview_url = _upload(client, raw, "bad rows.csv").headers["Location"]
    detail_url = client.post(preview_url.replace("/preview", "/run")).headers["Location"]
    api_url = detail_url.replace("/app/crm", "/api/v1/crm/imports")
    for name in ("raw", "rejected.csv"):
        page, api = client.get(f"{detail_url}/{name}"), client.get(f"{api_url}/{name}")
        assert (page.status_code, api.status_code) == (200, 200), name
        assert page.data == api.data, name
        for header in ("Content-Type", "Content-Disposition", "ETag"):
            assert page.headers.get(header) == api.headers.get(header), (name, header)
        page.close()
        api.close()
    rejected = client.get(f"{detail_url}/rejected.csv")
    assert rejected.data.startswith("\ufeff".encode())
    rejected.close()
    assert client.get(f"{detail_url}/raw").data == raw


def test_download_names_cannot_break_the_header() -> None:
    from linktracker.web.downloads import attachment

    assert attachment('a"b\\c\r\nd€.csv') == 'attachment; filename="a_b_c__d_.csv"'


def test_a_killed_import_shows_interrupted_with_a_run_again_button_that_completes_it(
    app: Flask, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = store_upload(session, io.BytesIO(export()), filename="a.csv", upload_folder=folder)
    kill_import_after_first_batch(app, stored.id, folder)
    wait_until_interrupted(session, stored.id)
    assert "Interrupted</span>" in text(client.get("/app/crm/"))
    page = text(client.get(f"/app/crm/{stored.id}"))
    assert "Interrupted</span>" in page and "Interrupted after line 501" in page
    assert f'action="/app/crm/{stored.id}/run"' in page
    assert "Run the import again</button>" in page
    done = client.post(f"/app/crm/{stored.id}/run", follow_redirects=True)
    assert done.status_code == 200
    assert f"Imported {ROWS:,} rows: {ROWS:,} new, 0 updated, 0 unchanged" in text(done)
    assert "Run the import again</button>" not in text(done)
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == ROWS


def test_an_interrupted_dry_run_resumes_from_its_page_as_a_dry_run(
    app: Flask, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = store_upload(session, io.BytesIO(export()), filename="a.csv", upload_folder=folder)

    def stop(step: ImportProgress) -> None:
        raise RuntimeError("stopped after the first batch")

    with pytest.raises(RuntimeError):
        import_crm_file(
            session,
            stored.id,
            ImportContext(folder, b"secret"),
            ImportOptions(dry_run=True),
            batch_size=500,
            progress=stop,
        )
    assert "Run the import again</button>" in text(client.get(f"/app/crm/{stored.id}"))
    done = client.post(f"/app/crm/{stored.id}/run", follow_redirects=True)
    assert f"Imported {ROWS:,} rows" in text(done) and "was started with" not in text(done)
    session.expire_all()
    assert session.get(CrmImport, stored.id).state == "dry_run"
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0


def test_running_an_import_while_another_runs_says_so_and_changes_nothing(
    app: Flask, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    app.config["CRM_IMPORT_WAIT_SECONDS"] = 0.2
    folder = Path(app.config["UPLOAD_FOLDER"])
    first = store_upload(session, io.BytesIO(export()), filename="a.csv", upload_folder=folder)
    second = store_upload(session, io.BytesIO(export(10)), filename="b.csv", upload_folder=folder)
    with import_lock(session, first.id, None):
        answer = client.post(f"/app/crm/{second.id}/run", follow_redirects=True)
    assert answer.status_code == 200
    assert f"Import {first.id} is still running, and imports run one at a time." in text(answer)
    session.expire_all()
    assert session.get(CrmImport, second.id).state == "pending"
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0


@pytest.mark.parametrize(
    ("role", "status"), [("sales_ops", 200), ("admin", 200), ("marketer", 403), ("employee", 403)]
)
def test_only_sales_ops_and_admins_download_a_raw_file(
    app: Flask, session, role, status, sign_in: SignIn
):
    stored = store_upload(
        session, io.BytesIO(export(5)), filename="a.csv", upload_folder=app.config["UPLOAD_FOLDER"]
    )
    client = sign_in(role)
    assert client.get(f"/app/crm/{stored.id}/raw").status_code == status


def test_a_raw_file_deleted_by_retention_is_said_so_and_its_summary_stays(
    app: Flask, session, sign_in: SignIn
):
    client = sign_in("sales_ops")
    app.config["CRM_RAW_RETENTION_DAYS"] = 0
    preview_url = _upload(client, BAD_ROWS.read_bytes(), "bad.csv").headers["Location"]
    done = client.post(preview_url.replace("/preview", "/run"), follow_redirects=True)
    body = text(done)
    assert "Imported 7 rows: 2 new, 0 updated, 0 unchanged, 5 rejected." in body
    assert "The raw file was deleted by retention on " in body
    assert "the records and this summary are kept." in body
    assert "Download raw file" not in body and "Download rejected rows" in body
    detail_url = preview_url.replace("/preview", "")
    gone = client.get(f"{detail_url}/raw")
    assert gone.status_code == 410
    assert "was deleted on" in text(gone) and "CRM_RAW_RETENTION_DAYS" in text(gone)
    assert client.get(f"{detail_url}/rejected.csv").status_code == 200
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 2
