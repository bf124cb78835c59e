"""UTM_LOWERCASE is the default of a new campaign, in the API and on the form."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy.orm import Session

from linktracker.app import create_app
from linktracker.auth.services import create_user
from tests.support import clear_database
from tests.web.clients import PASSWORD, text

CAMPAIGN = {"name": "Mixed Case", "destination_url": "https://www.example.com/x"}


def _client_of(app: Flask, role: str = "marketer"):  # type: ignore[no-untyped-def]
    with app.extensions["linktracker"].sessions() as session:
        user = create_user(session, f"{role}@case.test", role, PASSWORD)
        user_id, version = user.id, user.session_version
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"], cookie["version"] = user_id, version
    return client


def test_a_new_campaign_lowercases_utm_values_by_default(
    client, api_headers: Callable[..., dict[str, str]], session: Session
) -> None:  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=api_headers("marketer"))
    assert made.status_code == 201 and made.get_json()["utm_lowercase"] is True


def test_with_utm_lowercase_off_a_new_campaign_keeps_the_case_unless_asked(
    config: dict[str, object],
) -> None:
    app = create_app(config | {"UTM_LOWERCASE": False})
    clear_database(app.extensions["linktracker"].engine)
    client = _client_of(app)
    made = client.post("/api/v1/campaigns", json=CAMPAIGN)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["utm_lowercase"] is False
    asked = client.post("/api/v1/campaigns", json=CAMPAIGN | {"name": "Two", "utm_lowercase": True})
    assert asked.get_json()["utm_lowercase"] is True
    form = text(client.get("/app/campaigns/new"))
    box = re.search(r'<input[^>]*id="utm_lowercase"[^>]*>', form)
    assert box is not None and "checked" not in box.group(0)
    app.extensions["linktracker"].dispose()


def test_utm_lowercase_must_be_a_boolean(
    client, api_headers: Callable[..., dict[str, str]]
) -> None:  # type: ignore[no-untyped-def]
    bad = client.post(
        "/api/v1/campaigns",
        json=CAMPAIGN | {"utm_lowercase": "yes"},
        headers=api_headers("marketer"),
    )
    assert bad.status_code == 422
    assert bad.get_json()["fields"] == {"utm_lowercase": "Use true or false."}
