"""Download my data: everything held about an employee, theirs only, no customer's data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from linktracker.attribution.services import attribute_records
from linktracker.auth.services import create_token
from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import Click
from linktracker.crm.models import CrmRecord
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link
from tests.web.clients import text

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CUSTOMER = {
    "email": "buyer@customer.test",
    "external_id": "DEAL-7731",
    "owner": "Account Owner Seven",
    "lead_source": "Customer Corp referral",
    "landing_url": "https://example.com/offer?ref=buyer",
}


def _world(session: Any) -> dict[str, Any]:
    me = make_employee(session, email="me@example.com", team="Sales", connections=420)
    other = make_employee(session, email="other@example.com")
    campaign = make_campaign(session, name="Autumn launch", channels=["linkedin", "x"])
    mine = make_link(session, campaign, me)
    mine_x = make_link(session, campaign, me, channel="x")
    theirs = make_link(session, campaign, other)
    day1 = datetime(2026, 11, 2, 10, tzinfo=UTC)
    day2 = datetime(2026, 11, 3, 9, tzinfo=UTC)
    make_click(session, mine, at=day1)
    make_click(session, mine, at=day1.replace(hour=11), ip="198.51.100.8")
    make_click(session, mine, at=day1, user_agent=BOT)  # not a person's click
    make_click(session, mine_x, at=day2)
    make_click(session, theirs, at=day1, ip="198.51.100.9")
    won_at = datetime(2026, 11, 20, tzinfo=UTC)
    make_crm_record(
        session,
        kind="deal",
        created_at=day1.replace(hour=12),
        won=True,
        closed_at=won_at,
        amount=Decimal("1200.50"),
        currency="EUR",
        utm_campaign=campaign.slug,
        utm_content=me.handle,
        utm_source="linkedin",
        **CUSTOMER,
    )
    make_crm_record(
        session,
        created_at=day1.replace(hour=13),
        utm_content=other.handle,
        email="someone@customer.test",
    )
    attribute_records(session, window_days=30, click_id_param="lt_cid")
    return {"me": me, "other": other, "campaign": campaign, "links": (mine, mine_x, theirs)}


def test_my_data_holds_my_profile_links_clicks_and_credited_records(session, sign_in):
    world = _world(session)
    me, campaign = world["me"], world["campaign"]
    mine, mine_x, _ = world["links"]

    response = sign_in("employee", "me@example.com").get("/app/links/my-data.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"my-data-{me.handle}-" in disposition
    data = json.loads(text(response))
    assert data["profile"] == {
        "name": me.name,
        "email": "me@example.com",
        "handle": me.handle,
        "team": "Sales",
        "program_role": me.program_role,
        "connections": 420,
        "invited_at": me.invited_at.isoformat(),
        "joined_at": me.joined_at.isoformat() if me.joined_at else None,
        "active": True,
        "weekly_digest": True,
    }
    assert [(link["code"], link["campaign"], link["channel"]) for link in data["links"]] == [
        (mine.code, campaign.slug, "linkedin"),
        (mine_x.code, campaign.slug, "x"),
    ]
    assert data["links"][0]["destination"] == mine.destination_url
    assert data["clicks_per_link_and_day"] == [
        {"code": mine.code, "day": "2026-11-02", "clicks": 2},
        {"code": mine_x.code, "day": "2026-11-03", "clicks": 1},
    ]
    assert data["attributed_records"] == [
        {
            "kind": "deal",
            "created_at": "2026-11-02T12:00:00+00:00",
            "closed_at": "2026-11-20T00:00:00+00:00",
            "won": True,
            "amount": "1200.50",
            "currency": "EUR",
            "attribution": "utm",
            "campaign": campaign.slug,
            "channel": "linkedin",
        }
    ]


def test_my_data_holds_no_customer_or_visitor_data_and_nobody_else_s(session, sign_in):
    world = _world(session)
    other, theirs = world["other"], world["links"][2]

    body = text(sign_in("employee", "me@example.com").get("/app/links/my-data.json"))

    held = [*CUSTOMER.values(), "someone@customer.test", other.email, other.handle, theirs.code]
    held += session.scalars(select(Click.visitor_hash)).all()
    held += [e for e in session.scalars(select(CrmRecord.email)).all() if e]
    for value in held:
        assert value not in body, value
    record = json.loads(body)["attributed_records"][0]
    for field in ("email", "external_id", "owner", "lead_source", "landing_url", "source"):
        assert field not in record


def test_my_data_from_the_api_with_my_own_token(session, client, sign_in):
    world = _world(session)
    sign_in("employee", "me@example.com")  # the employee's user account
    token = create_token(session, "me@example.com").token
    headers = {"Authorization": f"Bearer {token}"}

    response = client.get("/api/v1/me/data", headers=headers)

    assert response.status_code == 200
    data = response.get_json()
    assert data["profile"]["handle"] == world["me"].handle
    assert [link["code"] for link in data["links"]] == [link.code for link in world["links"][:2]]
    assert sum(day["clicks"] for day in data["clicks_per_link_and_day"]) == 3
    assert len(data["attributed_records"]) == 1
    assert "Content-Disposition" not in response.headers


def test_my_links_offers_the_download(session, sign_in):
    make_employee(session, email="me@example.com")
    make_campaign(session, name="Running")
    body = text(sign_in("employee", "me@example.com").get("/app/links/"))
    assert 'href="/app/links/my-data.json"' in body and "Download my data" in body


def test_my_data_without_an_employee_profile_is_not_found(session, sign_in):
    client = sign_in("sales_ops")
    page = client.get("/app/links/my-data.json")
    api = client.get("/api/v1/me/data")
    assert page.status_code == 404 and api.status_code == 404
    assert "not linked to an employee profile" in api.get_json()["error"]
    assert "Download my data" not in text(client.get("/app/links/"))
    assert session.get(Campaign, 1) is None  # nothing was made on the way
