"""A click's country without a proxy header: looked up offline from the address, never stored."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.clicks.countries import country_data, country_of_address
from linktracker.clicks.models import Click
from tests.factories import CHROME, make_link
from tests.web.clients import SignIn

# Addresses whose registry assignment is long-standing and public.
KNOWN = [
    ("8.8.8.8", "US"),  # Google Public DNS
    ("1.0.16.1", "JP"),  # APNIC's range delegated to Japan
    ("81.2.69.142", "GB"),  # MaxMind's own test address
    ("::ffff:81.2.69.142", "GB"),  # the same client through a dual-stack socket
    ("2a00:1450:4001:81c::200e", "IE"),  # Google's European IPv6 block
]
NO_COUNTRY = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.1.1",
    "192.0.2.1", "198.51.100.7", "203.0.113.9", "::1", "fe80::1", "fd00::1", "", "not-an-ip",
    "8.8.8.8\x00",
]  # fmt: skip


@pytest.mark.parametrize(("ip", "country"), KNOWN)
def test_a_public_address_maps_to_its_registry_country(ip: str, country: str) -> None:
    assert country_of_address(ip) == country


@pytest.mark.parametrize("ip", NO_COUNTRY)
def test_private_loopback_reserved_and_malformed_addresses_have_no_country(ip: str) -> None:
    assert country_of_address(ip) is None


def test_the_table_names_its_package_version_and_build_date() -> None:
    data = country_data()
    assert data.package == "iptocc"
    assert data.version.count(".") >= 2
    assert data.built is not None and data.built.year >= 2026


def _click(app: Flask, session: Session) -> Click:
    assert app.extensions["linktracker"].recorder.flush()
    session.expire_all()
    [click] = session.scalars(select(Click))
    return click


def _visit(client: FlaskClient, code: str, ip: str, **headers: str) -> None:
    response = client.get(
        f"/{code}", headers={"User-Agent": CHROME, **headers}, environ_base={"REMOTE_ADDR": ip}
    )
    assert response.status_code == 302


def test_a_click_from_a_public_address_stores_its_country_and_not_the_address(
    app: Flask, session: Session
) -> None:
    link = make_link(session)
    _visit(app.test_client(), link.code, "81.2.69.142")
    click = _click(app, session)
    assert click.country == "GB"
    stored = [str(getattr(click, column.key)) for column in Click.__table__.columns]
    assert not any("81.2.69" in value for value in stored)


def test_a_click_from_a_private_address_has_no_country(app: Flask, session: Session) -> None:
    link = make_link(session)
    _visit(app.test_client(), link.code, "192.168.1.20")
    assert _click(app, session).country is None


def test_a_configured_country_header_wins_over_the_lookup(app: Flask, session: Session) -> None:
    app.config["COUNTRY_HEADER"] = "CF-IPCountry"
    link = make_link(session)
    client = app.test_client()
    _visit(client, link.code, "81.2.69.142", **{"CF-IPCountry": "DE"})
    assert _click(app, session).country == "DE"


def test_a_configured_header_that_is_missing_gives_no_country(app: Flask, session: Session) -> None:
    """The trusted header is the one source then: the address is not second-guessed."""
    app.config["COUNTRY_HEADER"] = "CF-IPCountry"
    link = make_link(session)
    _visit(app.test_client(), link.code, "81.2.69.142")
    assert _click(app, session).country is None


def test_the_lookup_can_be_switched_off(app: Flask, session: Session) -> None:
    app.config["COUNTRY_LOOKUP"] = False
    link = make_link(session)
    _visit(app.test_client(), link.code, "81.2.69.142")
    assert _click(app, session).country is None


def test_the_settings_page_says_where_countries_come_from(app: Flask, sign_in: SignIn) -> None:
    admin = sign_in("admin")
    data = country_data()
    assert data.built is not None
    page = admin.get("/app/settings/").get_data(as_text=True)
    assert f"iptocc {data.version}, data of {data.built.isoformat()}" in page
    app.config["COUNTRY_HEADER"] = "CF-IPCountry"
    page = admin.get("/app/settings/").get_data(as_text=True)
    assert "From the CF-IPCountry header" in page
