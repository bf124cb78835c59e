"""The settings page: saved settings apply at once; invalid ones are shown beside their fields."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from linktracker.settings.models import Setting
from tests.web.clients import text


def test_admin_saves_settings_and_they_apply_at_once(app, sign_in):
    client = sign_in("admin")
    data = {
        "allowed_domains": "example.com, *.example.org",
        "utm_medium": "advocacy",
        "click_id_param": "cid",
        "attribution_window_days": "14",
        "cpm": "12.5",
        "cost_per_lead": "80",
        "reporting_timezone": "Europe/Berlin",
    }
    assert client.post("/app/settings/", data=data).status_code == 302
    current = app.extensions["linktracker"].settings()
    assert current.utm_medium == "advocacy" and current.attribution_window_days == 14
    assert current.allowed_domains == ("example.com", "*.example.org")
    assert 'value="Europe/Berlin"' in text(client.get("/app/settings/"))


def test_invalid_settings_are_shown_beside_their_fields_and_nothing_is_saved(session, sign_in):
    client = sign_in("admin")
    data = {
        "allowed_domains": "example.com",
        "utm_medium": "social",
        "click_id_param": "lt_cid",
        "attribution_window_days": "999",
        "cpm": "ten",
        "cost_per_lead": "50",
        "reporting_timezone": "Mars/Base",
    }
    response = client.post("/app/settings/", data=data)
    assert response.status_code == 422
    body = text(response)
    assert re.search(r'id="attribution_window_days-error">Must be between 1 and 365', body)
    assert re.search(r'id="cpm-error">Enter a number', body)
    assert re.search(r'id="reporting_timezone-error">[^<]*not a known time zone', body)
    assert 'value="ten"' in body
    assert session.scalar(select(func.count()).select_from(Setting)) == 0
