"""CRM records pushed as JSON, and HubSpot workflow webhooks: imported exactly like CSV rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.db import utcnow
from tests.factories import make_campaign, make_click, make_employee, make_link

Headers = Callable[..., dict[str, str]]
HEADER = ["Record ID", "Create Date", "Deal Stage", "Amount", "UTM Campaign", "UTM Content",
          "Landing Page"]  # fmt: skip


def _push(client: FlaskClient, headers: dict[str, str], body: Any, path: str = "records"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/crm/{path}", json=body, headers=headers)


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_batch_is_imported_and_pushing_it_again_changes_nothing(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    records = [
        {"external_id": "D1", "created_at": "2026-10-01", "stage": "open", "amount": "1,200"},
        {"external_id": "D2", "created_at": "2026-10-02T09:30:00Z", "won": True, "amount": 300},
    ]
    headers = api_headers("sales_ops")
    first = _push(client, headers, {"source": "Pushed", "records": records})
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["inserted"], first.get_json()["source"]) == (2, "pushed")
    again = _push(client, headers, {"source": "pushed", "records": records})
    assert (again.get_json()["inserted"], again.get_json()["unchanged"]) == (0, 2)
    records[0]["stage"] = "negotiation"
    changed = _push(client, headers, {"source": "pushed", "record": records[0]})
    assert (changed.get_json()["updated"], changed.get_json()["rows"]) == (1, 1)
    stored = {r.external_id: r for r in session.scalars(select(CrmRecord))}
    assert stored["D1"].stage == "negotiation"
    assert str(stored["D1"].amount) == "1200.00"
    assert stored["D2"].won is True


def test_a_bare_record_and_a_bare_list_are_taken_too(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    one = {"external_id": "L1", "created_at": "2026-10-01", "source": "api"}
    assert _push(client, api_headers(), one).status_code == 201
    listed = client.post(
        "/api/v1/crm/records?source=api",
        json=[{"external_id": "L2", "created_at": "2026-10-01"}],
        headers=api_headers(),
    )
    assert listed.status_code == 201
    assert {r.source for r in session.scalars(select(CrmRecord))} == {"api"}


@pytest.mark.parametrize(
    ("records", "index", "reason"),
    [
        ([{"external_id": "A", "created_at": "2026-10-01"},
          {"external_id": "B", "created_at": "not a date"}], 1, "not a date"),
        ([{"external_id": "A", "created_at": "2026-10-01", "amount": "10" * 10}], 0, "too large"),
        ([{"external_id": "A", "created_at": "2026-10-01"},
          {"external_id": "A", "created_at": "2026-10-02"}], 0,
         "duplicate id A, superseded by record 1"),
        ([{"external_id": "A", "created_at": "2026-10-01", "stage": {"x": 1}}], 0,
         "must be a string, a number"),
        ([{"external_id": "A", "created_at": "2026-10-01", "utm_content": "x" * 201}], 0,
         "longer than 200"),
    ],
)  # fmt: skip
def test_a_batch_with_a_wrong_record_writes_nothing_and_says_which(
    client: FlaskClient, api_headers: Headers, session: Session,
    records: list[dict[str, Any]], index: int, reason: str,
) -> None:  # fmt: skip
    response = _push(client, api_headers("sales_ops"), {"records": records})
    assert response.status_code == 422
    body = response.get_json()
    assert "nothing written" in body["error"] or "must be" in body["error"]
    assert [e["index"] for e in body["errors"]] == [index]
    assert reason in body["errors"][0]["reason"]
    assert _count(session, CrmRecord) == 0
    assert _count(session, CrmImport) == 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"records": []}, 422, "Send at least one record."),
        ({"records": [{"x": 1}] * 1001}, 422, "at most 1000 records"),
        ({"records": [{"created_at": "2026-10-01"}]}, 422, "cannot be imported"),
        ({"records": "nope"}, 400, "'records' must be a list"),
        ("text", 400, "Send a JSON object or list"),
    ],
)
def test_a_push_refused_whole_says_why(
    client: FlaskClient, api_headers: Headers, session: Session, body: Any, status: int,
    message: str,
) -> None:  # fmt: skip
    response = _push(client, api_headers(), body)
    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert _count(session, CrmRecord) == 0


def test_marketers_cannot_push_records(client: FlaskClient, api_headers: Headers) -> None:
    response = _push(
        client, api_headers("marketer"), {"external_id": "A", "created_at": "2026-10-01"}
    )
    assert response.status_code == 403


def _attribution(session: Session, source: str) -> dict[str, tuple[Any, ...]]:
    session.expire_all()
    records = session.scalars(select(CrmRecord).where(CrmRecord.source == source))
    return {
        r.external_id: (
            r.attribution_method, r.employee_id, r.campaign_id, r.attributed_click_id,
            r.seconds_from_click, r.stage, r.won, r.amount, r.created_at,
        )
        for r in records
    }  # fmt: skip


def test_pushed_records_attribute_exactly_like_the_same_csv_rows(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    rep, other = make_employee(session), make_employee(session)
    campaign = make_campaign(session)
    link = make_link(session, campaign, rep)
    now = utcnow().replace(microsecond=0)
    click = make_click(session, link, at=now - timedelta(days=2))
    make_click(session, make_link(session, campaign, other), at=now - timedelta(days=1))
    created = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    rows = [
        ["1", created, "closedwon", "1200", campaign.slug, rep.handle, ""],
        ["2", created, "open", "", "", other.handle, ""],
        ["3", created, "open", "", "", "", f"https://example.com/?lt_cid={click['click_id']}"],
        ["4", created, "open", "", "", "nobody", ""],
        ["5", (now - timedelta(days=60)).strftime("%Y-%m-%d"), "open", "", "", rep.handle, ""],
    ]
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    imported = client.post(
        "/api/v1/crm/imports",
        data={"file": (io.BytesIO(out.getvalue().encode()), "deals.csv"), "source": "csvside"},
        content_type="multipart/form-data",
        headers=api_headers(),
    )
    assert imported.status_code == 201
    records = [dict(zip(HEADER, row, strict=True)) for row in rows]
    pushed = _push(client, api_headers(), {"source": "pushside", "records": records})
    assert pushed.status_code == 201, pushed.get_json()
    from_csv, from_push = _attribution(session, "csvside"), _attribution(session, "pushside")
    assert from_push == from_csv
    assert {k: v[0] for k, v in from_push.items()} == {
        "1": "utm", "2": "utm", "3": "click_id", "4": "none", "5": "utm",
    }  # fmt: skip


CLASSIC = {
    "objectId": 9001,
    "objectType": "DEAL",
    "portalId": 62515,
    "properties": {
        "dealname": {"value": "Acme renewal", "timestamp": 1759300000000},
        "createdate": {"value": "1759300000000"},
        "dealstage": {"value": "closedwon"},
        "hs_is_closed_won": {"value": "true"},
        "amount": {"value": "4500"},
        "deal_currency_code": {"value": "EUR"},
        "closedate": {"value": "1759900000000"},
    },
}


def test_a_hubspot_workflow_webhook_is_imported_with_the_documented_mapping(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    rep = make_employee(session)
    event = CLASSIC | {"properties": CLASSIC["properties"] | {"utm_content": {"value": rep.handle}}}
    response = _push(client, api_headers("sales_ops"), event, path="hooks/hubspot")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["source"] == "hubspot"
    record = session.scalars(select(CrmRecord)).one()
    assert (record.source, record.external_id, record.kind) == ("hubspot", "9001", "deal")
    assert (record.stage, record.won, str(record.amount), record.currency) == (
        "closedwon", True, "4500.00", "EUR",
    )  # fmt: skip
    assert record.created_at.isoformat() == "2025-10-01T06:26:40+00:00"
    assert record.attribution_method == "utm"
    assert record.employee_id == rep.id
    flat = {"hs_object_id": "9001", "createdate": "2025-10-01", "dealstage": "contractsent"}
    again = _push(client, api_headers("sales_ops"), [flat], path="hooks/hubspot")
    assert again.get_json()["updated"] == 1


def test_a_hubspot_webhook_without_an_id_is_refused(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    response = _push(client, api_headers(), {"properties": {"dealstage": {"value": "x"}}},
                     path="hooks/hubspot")  # fmt: skip
    assert response.status_code == 422
    assert "cannot be imported" in response.get_json()["error"]
    assert _count(session, CrmRecord) == 0
