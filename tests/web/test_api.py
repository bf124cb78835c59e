"""The /api/v1 contract: field names, statuses, error bodies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from tests.factories import CHROME

Headers = Callable[..., dict[str, str]]


def _setup(client: FlaskClient, headers: dict[str, str]) -> tuple[str, str]:
    employee = client.post("/api/v1/employees", json={"name": "Rep A", "email": "a@example.com",
                           "handle": "rep-a", "team": "Sales", "connections": 800},
                           headers=headers).json  # fmt: skip
    campaign = client.post("/api/v1/campaigns", json={"name": "Spring Launch",
                           "destination_url": "https://www.example.com/spring"},
                           headers=headers).json  # fmt: skip
    return employee["handle"], campaign["slug"]


def test_create_employee_returns_the_contract_fields(
    client: FlaskClient, api_headers: Headers
) -> None:
    response = client.post(
        "/api/v1/employees",
        json={"name": "Rep A", "email": "A@Example.com", "team": "Sales", "connections": 800},
        headers=api_headers(),
    )
    assert response.status_code == 201
    body = response.json
    assert {"id", "name", "email", "handle", "team", "connections"} <= set(body)
    assert body["email"] == "a@example.com" and body["connections"] == 800
    # Generated handles are opaque: nothing of the name or email in a UTM value.
    assert "rep" not in body["handle"] and "example" not in body["handle"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@example.com"}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "email": "a@example.com", "handle": "Has Caps"}, "handle"),
        ({"name": "A", "email": "a@example.com", "connections": -3}, "connections"),
        ({"name": 5, "email": "a@example.com"}, "name"),
    ],
)
def test_invalid_employee_is_refused_with_field_errors(
    client: FlaskClient,
    api_headers: Headers,
    session: Session,
    payload: dict,
    field: str,  # type: ignore[type-arg]
) -> None:
    response = client.post("/api/v1/employees", json=payload, headers=api_headers())
    assert response.status_code == 422
    assert response.json["error"]
    assert field in response.json["fields"]
    assert session.scalar(select(func.count(Employee.id))) == 0


def test_duplicate_employee_email_is_a_conflict(client: FlaskClient, api_headers: Headers) -> None:
    body = {"name": "A", "email": "a@example.com"}
    assert client.post("/api/v1/employees", json=body, headers=api_headers()).status_code == 201
    response = client.post("/api/v1/employees", json=body, headers=api_headers())
    assert response.status_code == 409
    assert "already exists" in response.json["error"]


def test_non_json_body_is_a_400(client: FlaskClient, api_headers: Headers) -> None:
    response = client.post("/api/v1/employees", data="name=x", headers=api_headers())
    assert response.status_code == 400
    assert "JSON object" in response.json["error"]


def test_create_campaign(client: FlaskClient, api_headers: Headers) -> None:
    response = client.post(
        "/api/v1/campaigns",
        json={"name": "Spring Launch", "destination_url": "https://www.example.com/spring",
              "channels": ["linkedin", "x"], "utm": {"medium": "advocacy", "id": "q2"}},
        headers=api_headers("marketer"),
    )  # fmt: skip
    assert response.status_code == 201
    body = response.json
    assert {k: body[k] for k in ("name", "slug", "destination_url", "channels")} == {
        "name": "Spring Launch", "slug": "spring-launch",
        "destination_url": "https://www.example.com/spring", "channels": ["linkedin", "x"],
    }  # fmt: skip
    assert isinstance(body["id"], int)


@pytest.mark.parametrize(
    "url",
    ["https://evil.com/", "https://www.example.com@evil.com/", "javascript:alert(1)",
     "https://www.example.com.evil.com/", "//evil.com/x"],
)  # fmt: skip
def test_campaign_destination_outside_allowed_domains_is_refused(
    client: FlaskClient, api_headers: Headers, session: Session, url: str
) -> None:
    response = client.post(
        "/api/v1/campaigns", json={"name": "X", "destination_url": url}, headers=api_headers()
    )
    assert response.status_code == 422
    assert "destination_url" in response.json["fields"]
    assert session.scalar(select(func.count(Campaign.id))) == 0


def test_links_are_created_once_then_returned(client: FlaskClient, api_headers: Headers) -> None:
    handle, slug = _setup(client, api_headers())
    body = {"campaign": slug, "employee": handle, "channel": "linkedin"}
    first = client.post("/api/v1/links", json=body, headers=api_headers())
    second = client.post("/api/v1/links", json=body, headers=api_headers())
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json == second.json
    link = first.json
    assert link["short_url"] == f"http://lt.test/{link['code']}"
    assert link["campaign"] == slug and link["employee"] == handle
    assert link["channel"] == "linkedin"
    assert "utm_content=rep-a" in link["destination_url"]


def test_unknown_campaign_or_employee_is_a_404(client: FlaskClient, api_headers: Headers) -> None:
    handle, slug = _setup(client, api_headers())
    response = client.post("/api/v1/links", json={"campaign": "nope", "employee": handle,
                           "channel": "linkedin"}, headers=api_headers())  # fmt: skip
    assert response.status_code == 404
    assert "nope" in response.json["error"]


def test_link_details_count_clicks_by_kind(client: FlaskClient, api_headers: Headers) -> None:
    handle, slug = _setup(client, api_headers())
    link = client.post("/api/v1/links", json={"campaign": slug, "employee": handle,
                       "channel": "linkedin"}, headers=api_headers()).json  # fmt: skip
    client.get(f"/{link['code']}", headers={"User-Agent": CHROME})
    client.get(f"/{link['code']}", headers={"User-Agent": CHROME})
    client.get(
        f"/{link['code']}",
        headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
    )
    client.get(f"/{link['code']}", headers={"User-Agent": "Twitterbot/1.0"})
    assert client.application.extensions["linktracker"].recorder.flush()  # stored as it goes
    body = client.get(f"/api/v1/links/{link['code']}", headers=api_headers()).json
    assert (body["clicks"], body["bot_clicks"], body["preview_clicks"]) == (2, 1, 1)
    assert body["unique_visitors"] == 1


def test_missing_token_is_401_and_wrong_role_is_403(
    client: FlaskClient, api_headers: Headers
) -> None:
    body = {"name": "A", "email": "a@example.com"}
    assert client.post("/api/v1/employees", json=body).status_code == 401
    bad = {"Authorization": "Bearer lt_not-a-token"}
    assert client.post("/api/v1/employees", json=body, headers=bad).status_code == 401
    response = client.post("/api/v1/employees", json=body, headers=api_headers("sales_ops"))
    assert response.status_code == 403
    assert "role" in response.json["error"]


def test_employees_see_only_their_own_links(client: FlaskClient, api_headers: Headers) -> None:
    admin = api_headers()
    handle, slug = _setup(client, admin)
    other = client.post("/api/v1/employees", json={"name": "B", "email": "b@example.com"},
                        headers=admin).json["handle"]  # fmt: skip
    mine = api_headers("employee", email="a@example.com")
    own = client.post("/api/v1/links", json={"campaign": slug, "employee": handle,
                      "channel": "x"}, headers=mine)  # fmt: skip
    assert own.status_code == 201
    theirs = client.post("/api/v1/links", json={"campaign": slug, "employee": other,
                         "channel": "x"}, headers=admin).json  # fmt: skip
    assert client.post("/api/v1/links", json={"campaign": slug, "employee": other,
                       "channel": "x"}, headers=mine).status_code == 403  # fmt: skip
    assert client.get(f"/api/v1/links/{theirs['code']}", headers=mine).status_code == 404
    assert client.get(f"/api/v1/links/{own.json['code']}", headers=mine).status_code == 200


def test_a_unicode_destination_is_stored_and_linked_as_a_uri(
    client: FlaskClient, api_headers: Headers
) -> None:
    admin = api_headers()
    handle = client.post("/api/v1/employees", json={"name": "Rep A", "email": "a@example.com",
                         "handle": "rep-a"}, headers=admin).json["handle"]  # fmt: skip
    campaign = client.post(
        "/api/v1/campaigns",
        json={"name": "Sommer", "destination_url": "https://www.example.com/sommer-€ rabatt?ü=1"},
        headers=admin,
    )
    assert campaign.status_code == 201
    destination = "https://www.example.com/sommer-%E2%82%AC%20rabatt?%C3%BC=1"
    assert campaign.json["destination_url"] == destination
    link = client.post("/api/v1/links", json={"campaign": campaign.json["slug"],
                       "employee": handle, "channel": "linkedin"}, headers=admin)  # fmt: skip
    assert link.status_code == 201
    assert link.json["destination_url"].startswith(destination + "&utm_source=linkedin&")
    assert link.json["destination_url"].isascii()


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://www.example.com/\u202egnp", "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 25"),
        ("https://www.example.com/a?b=\u200b", "U+200B (ZERO WIDTH SPACE) at character 29"),
    ],
)
def test_a_destination_with_an_invisible_character_is_refused_by_name(
    client: FlaskClient, api_headers: Headers, session: Session, url: str, named: str
) -> None:
    response = client.post(
        "/api/v1/campaigns", json={"name": "X", "destination_url": url}, headers=api_headers()
    )
    assert response.status_code == 422
    message = (
        f"Destination must not contain invisible or text-direction characters ({named}): "
        "they can disguise where a link really goes."
    )
    assert response.json["fields"] == {"destination_url": message}
    assert session.scalar(select(func.count(Campaign.id))) == 0


CUSTOM_CODE_REFUSED = (
    "Custom short codes (such as /pricing) are chosen by marketers and admins only; "
    "leave the code out and your link gets a random one."
)


@pytest.mark.parametrize("role", ["admin", "marketer"])
def test_managers_choose_custom_short_codes(
    client: FlaskClient, api_headers: Headers, role: str
) -> None:
    handle, slug = _setup(client, api_headers())
    response = client.post("/api/v1/links", json={"campaign": slug, "employee": handle,
                           "channel": "linkedin", "code": "pricing"},
                           headers=api_headers(role))  # fmt: skip
    assert response.status_code == 201
    assert response.json["code"] == "pricing"
    assert client.get("/pricing").status_code == 302


def test_an_employee_cannot_choose_a_custom_short_code(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    handle, slug = _setup(client, api_headers())
    mine = api_headers("employee", email="a@example.com")
    body = {"campaign": slug, "employee": handle, "channel": "linkedin"}
    refused = client.post("/api/v1/links", json=body | {"code": "pricing"}, headers=mine)
    assert refused.status_code == 403
    assert refused.json["error"] == CUSTOM_CODE_REFUSED
    assert refused.json["fields"] == {"code": "Only marketers and admins choose custom codes."}
    assert session.scalar(select(func.count(Link.id))) == 0
    assert client.get("/pricing").status_code == 404
    own = client.post("/api/v1/links", json=body, headers=mine)
    assert own.status_code == 201 and own.json["code"] != "pricing"
    # Nor can a code be slipped onto the link once it exists.
    again = client.post("/api/v1/links", json=body | {"code": "careers"}, headers=mine)
    assert again.status_code == 403
    assert client.get("/careers").status_code == 404
