"""GET/HEAD /<code>: 302 with click id, every request recorded, 404/410 pages."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linktracker.clicks.models import Click
from linktracker.db import utcnow
from linktracker.links.models import Link
from linktracker.links.services import set_link_disabled
from tests.factories import CHROME, make_campaign, make_link

LINKEDIN_BOT = (
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
)


def _clicks(app: Flask, session: Session) -> list[Click]:
    """The stored clicks, once the app's click writer has stored what it was given."""
    assert app.extensions["linktracker"].recorder.flush()
    session.expire_all()
    return list(session.scalars(select(Click).order_by(Click.id)))


def test_redirect_sends_to_frozen_destination_with_click_id(
    client: FlaskClient, session: Session
) -> None:
    link = make_link(session)
    response = client.get(f"/{link.code}", headers={"User-Agent": CHROME})
    assert response.status_code == 302
    assert "no-store" in response.headers["Cache-Control"]
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    [click] = _clicks(client.application, session)
    assert query["lt_cid"] == [click.click_id]
    assert query["utm_source"] == ["linkedin"]
    assert response.headers["Location"].startswith(link.destination_url)


def test_click_row_has_source_attribution(client: FlaskClient, session: Session) -> None:
    link = make_link(session, channel="x")
    client.get(
        f"/{link.code}",
        headers={"User-Agent": CHROME, "Referer": "https://www.linkedin.com/feed/"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    [click] = _clicks(client.application, session)
    assert (click.link_id, click.employee_id, click.campaign_id) == (
        link.id, link.employee_id, link.campaign_id,
    )  # fmt: skip
    assert click.channel == "x"
    assert click.referrer_host == "linkedin.com"
    assert click.referrer_channel == "linkedin"  # mismatch with the link's channel stays visible
    assert click.browser == "Chrome" and click.device_type == "desktop"
    assert not click.is_bot and not click.is_preview
    assert click.created_at.tzinfo is not None
    assert "203.0.113.9" not in (click.visitor_hash or "")
    assert len(click.click_id) >= 12


def test_short_link_query_passes_through_but_cannot_override_utm(
    client: FlaskClient, session: Session
) -> None:
    link = make_link(session)
    response = client.get(f"/{link.code}?ref=newsletter&utm_source=evil")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["ref"] == ["newsletter"]
    assert query["utm_source"] == ["linkedin"]


def test_head_and_preview_fetchers_are_recorded_as_previews(
    client: FlaskClient, session: Session
) -> None:
    link = make_link(session)
    assert client.head(f"/{link.code}", headers={"User-Agent": CHROME}).status_code == 302
    assert client.get(f"/{link.code}", headers={"User-Agent": LINKEDIN_BOT}).status_code == 302
    head, bot = _clicks(client.application, session)
    assert head.method == "HEAD" and head.is_preview
    assert bot.is_bot and bot.is_preview and bot.bot_name


def test_every_request_is_recorded(client: FlaskClient, session: Session) -> None:
    link = make_link(session)
    for _ in range(25):
        assert client.get(f"/{link.code}").status_code == 302
    assert len({c.click_id for c in _clicks(client.application, session)}) == 25
    assert session.scalar(select(func.count(Click.id))) == 25


def test_unknown_code_is_a_404_page(client: FlaskClient, session: Session) -> None:
    response = client.get("/NoSuchCode")
    assert response.status_code == 404
    assert b"does not exist" in response.data
    assert session.scalar(select(func.count(Click.id))) == 0


def test_disabled_link_is_a_410_page(client: FlaskClient, session: Session) -> None:
    link = make_link(session)
    set_link_disabled(session, link.code, True)
    response = client.get(f"/{link.code}")
    assert response.status_code == 410
    assert b"expired" in response.data


def test_expired_link_is_a_410_page(client: FlaskClient, session: Session) -> None:
    link = make_link(session)
    link.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert client.get(f"/{link.code}").status_code == 410


def test_retired_campaign_links_are_gone(client: FlaskClient, session: Session) -> None:
    from linktracker.campaigns.services import set_campaign_active

    campaign = make_campaign(session)
    link = make_link(session, campaign=campaign)
    set_campaign_active(session, campaign.id, False)
    assert client.get(f"/{link.code}").status_code == 410


def test_gone_link_goes_to_fallback_when_configured(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    app.config["FALLBACK_URL"] = "https://www.example.com/"
    link = make_link(session)
    set_link_disabled(session, link.code, True)
    response = app.test_client().get(f"/{link.code}")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://www.example.com/"


def test_country_comes_from_the_configured_trusted_header(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    app.config["COUNTRY_HEADER"] = "CF-IPCountry"
    link = make_link(session)
    app.test_client().get(f"/{link.code}", headers={"CF-IPCountry": "de"})
    assert _clicks(app, session)[0].country == "DE"


def test_forwarded_for_is_ignored_without_trusted_proxies(
    client: FlaskClient, session: Session
) -> None:
    link = make_link(session)
    client.get(f"/{link.code}", headers={"X-Forwarded-For": "192.0.2.1"},
               environ_base={"REMOTE_ADDR": "203.0.113.9"})  # fmt: skip
    client.get(f"/{link.code}", headers={"X-Forwarded-For": "192.0.2.2"},
               environ_base={"REMOTE_ADDR": "203.0.113.9"})  # fmt: skip
    first, second = _clicks(client.application, session)
    assert first.visitor_hash == second.visitor_hash


def test_forwarded_for_is_honoured_behind_a_trusted_proxy(config, session: Session) -> None:  # type: ignore[no-untyped-def]
    from linktracker import create_app

    app = create_app(config | {"TRUSTED_PROXIES": 1})
    link = make_link(session)
    client = app.test_client()
    for ip in ("192.0.2.1", "192.0.2.2"):
        client.get(f"/{link.code}", headers={"X-Forwarded-For": ip},
                   environ_base={"REMOTE_ADDR": "10.0.0.1"})  # fmt: skip
    first, second = _clicks(client.application, session)
    assert first.visitor_hash != second.visitor_hash
    app.extensions["linktracker"].dispose()


def test_reserved_routes_are_not_short_codes(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        (
            "https://www.example.com/angebote/sommer-€-rabatt",
            "https://www.example.com/angebote/sommer-%E2%82%AC-rabatt?",
        ),
        ("https://www.example.com/über-uns", "https://www.example.com/%C3%BCber-uns?"),
        ("https://www.example.com/suche?q=🎉", "https://www.example.com/suche?q=%F0%9F%8E%89&"),
        ("https://www.example.com/a b?q=c d", "https://www.example.com/a%20b?q=c%20d&"),
        ("https://www.example.com/#über", "https://www.example.com/?"),
    ],
)
def test_unicode_destinations_redirect_as_percent_encoded_utf8(
    client: FlaskClient, session: Session, typed: str, sent: str
) -> None:
    link = make_link(session, campaign=make_campaign(session, destination_url=typed))
    response = client.get(f"/{link.code}", headers={"User-Agent": CHROME})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.isascii()
    assert location.startswith(sent)
    typed_parts, sent_parts = urlsplit(typed), urlsplit(location)
    assert unquote(sent_parts.path) == typed_parts.path
    assert unquote(sent_parts.fragment) == typed_parts.fragment
    [click] = _clicks(client.application, session)
    assert parse_qs(sent_parts.query)["lt_cid"] == [click.click_id]


def test_a_destination_stored_unencoded_still_redirects(
    client: FlaskClient, session: Session
) -> None:
    link = make_link(session)
    # As links made before destinations were normalised hold them.
    session.execute(
        update(Link)
        .where(Link.id == link.id)
        .values(destination_url="https://www.example.com/über-uns?q=€\u202e#ü")
    )
    session.commit()
    response = client.get(f"/{link.code}", headers={"User-Agent": CHROME})
    assert response.status_code == 302
    [click] = _clicks(client.application, session)
    assert response.headers["Location"] == (
        f"https://www.example.com/%C3%BCber-uns?q=%E2%82%AC%E2%80%AE&lt_cid={click.click_id}#%C3%BC"
    )
