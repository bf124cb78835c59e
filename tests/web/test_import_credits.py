"""Imports that say who got the credit: result page, preview column, API fields, rep links."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_click, make_employee, make_link
from tests.services.crm_exports import csv_bytes
from tests.web.clients import SignIn, text

Headers = Callable[..., dict[str, str]]


def _export(session: Session) -> bytes:
    """12 leads for ann by UTM, 1 for bob by click id, 2 uncredited; 11 more reps by UTM."""
    campaign = make_campaign(session, slug="spring")
    ann = make_employee(session, handle="ann", name="Ann Able")
    bob = make_employee(session, handle="bob", name="Bob Baker")
    click = make_click(session, make_link(session, campaign, bob))
    rows = [["Record ID", "Create Date", "Deal Name", "Company", "UTM Content", "Click ID"]]
    rows += [[f"A{n}", "2026-11-02", f"Deal A{n}", "Acme", ann.handle, ""] for n in range(12)]
    rows.append(["B1", "2026-11-02", "Deal B1", "Globex", "", click["click_id"]])
    rows += [["N1", "2026-11-02", "", "", "", ""], ["N2", "2026-11-02", "", "", "nobody", ""]]
    for n in range(11):
        rep = make_employee(session, handle=f"rep{n:02d}", name=f"Rep {n:02d}")
        rows.append([f"R{n}", "2026-11-02", "", "", rep.handle, ""])
    return csv_bytes(rows)


def test_the_api_result_counts_credit_per_method_and_per_rep(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    response = client.post(
        "/api/v1/crm/imports",
        data={"file": (io.BytesIO(_export(session)), "deals.csv")},
        content_type="multipart/form-data",
        headers=api_headers("sales_ops"),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["inserted"] == 26  # the existing fields stay
    credit = body["attribution"]
    assert credit["records"] == 26
    assert credit["methods"] == {"click_id": 1, "utm": 23, "none": 2}
    assert [(r["handle"], r["records"]) for r in credit["reps"]][:2] == [("ann", 12), ("bob", 1)]
    assert len(credit["reps"]) == 10
    assert (credit["other_reps"], credit["other_records"]) == (3, 3)
    assert credit["reps"][0]["url"] == "/api/v1/reports/reps/ann"
    again = client.get(f"/api/v1/crm/imports/{body['id']}", headers=api_headers("sales_ops"))
    assert again.json["attribution"] == credit


def test_the_preview_says_who_each_row_goes_to_and_the_result_links_the_records(
    sign_in: SignIn, session: Session
) -> None:
    client = sign_in("admin")  # sales ops see the names; reports (the records) are managers'
    uploaded = client.post(
        "/app/crm/",
        data={"file": (io.BytesIO(_export(session)), "deals.csv")},
        content_type="multipart/form-data",
    )
    preview = text(client.get(uploaded.headers["Location"]))
    assert "credited to" in preview
    cells = re.findall(r"<td class=\"small\" data-credited>(.*?)</td>", preview)
    assert cells[0] == 'Ann Able <span class="muted">(ann, utm)</span>'
    assert cells[12] == 'Bob Baker <span class="muted">(bob, click id)</span>'
    assert cells[13] == '<span class="muted">nobody (other sources)</span>'
    assert "<strong>1</strong> credited by click id, <strong>17</strong> by UTM" in preview
    done = client.post(
        uploaded.headers["Location"].replace("/preview", "/run"), follow_redirects=True
    )
    page = text(done)
    assert "Who got the credit" in page
    link = re.search(
        r'href="(/app/reports/reps/ann\?import=(\d+))#records-title">Ann Able</a>', page
    )
    assert link is not None
    assert re.search(r"3 other reps</td><td class=\"num\">3<", page)
    records = text(client.get(link[1]))
    assert "written by import" in records
    assert records.count('<span class="record-name">Deal A') == 12


def test_sales_ops_see_the_credit_without_links_to_reports(
    sign_in: SignIn, session: Session
) -> None:
    client = sign_in("sales_ops")
    uploaded = client.post(
        "/app/crm/",
        data={"file": (io.BytesIO(_export(session)), "deals.csv")},
        content_type="multipart/form-data",
    )
    done = client.post(
        uploaded.headers["Location"].replace("/preview", "/run"), follow_redirects=True
    )
    page = text(done)
    assert "Who got the credit" in page and "Ann Able" in page
    assert "/app/reports/reps/" not in page
