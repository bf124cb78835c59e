"""My links: an employee's own links, QR codes and clicks, and nobody else's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from linktracker.attribution.services import attribute_records
from linktracker.campaigns.models import Campaign
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link
from tests.web.clients import text


def test_my_links_makes_a_link_per_active_campaign_and_channel(session, sign_in):
    me = make_employee(session, email="me@example.com")
    running = make_campaign(session, name="Running", channels=["linkedin", "email"])
    retired = make_campaign(session, name="Retired")
    retired.active = False
    session.commit()
    client = sign_in("employee", "me@example.com")

    body = text(client.post("/app/links/", follow_redirects=True))

    links = session.scalars(select(Link).where(Link.employee_id == me.id)).all()
    assert {(link.campaign_id, link.channel) for link in links} == {
        (running.id, "linkedin"),
        (running.id, "email"),
    }
    for link in links:
        assert f'data-copy="http://lt.test/{link.code}"' in body
        assert f"/app/links/{link.code}/qr.png" in body
    assert "linkedin.com/sharing/share-offsite/?url=http%3A%2F%2Flt.test%2F" in body
    assert "mailto:?subject=Running" in body
    assert "Retired" not in body


def test_viewing_my_links_makes_no_link_and_offers_to_make_the_missing_ones(session, sign_in):
    me = make_employee(session, email="me@example.com")
    make_campaign(session, name="Running", channels=["linkedin", "email"])
    client = sign_in("employee", "me@example.com")

    body = text(client.get("/app/links/"))

    assert session.scalars(select(Link).where(Link.employee_id == me.id)).all() == []
    assert body.count("Not made yet") == 2
    assert 'action="/app/links/"' in body and "Make my links" in body
    made = text(client.post("/app/links/", follow_redirects=True))
    assert "2 new link(s) made." in made
    assert "Not made yet" not in made and "Make my links" not in made
    again = text(client.post("/app/links/", follow_redirects=True))
    assert "new link(s) made" not in again
    assert len(session.scalars(select(Link).where(Link.employee_id == me.id)).all()) == 2


def test_my_links_shows_why_a_link_cannot_be_made(session, sign_in):
    make_employee(session, email="me@example.com")
    campaign = make_campaign(session, name="Running", channels=["linkedin"])
    campaign.destination_url = "https://elsewhere.invalid/landing"  # allowed when created
    session.commit()
    client = sign_in("employee", "me@example.com")

    body = text(client.get("/app/links/"))
    assert "Not made yet" not in body and "Make my links" not in body
    assert "elsewhere.invalid" in body and 'class="field-error"' in body
    made = text(client.post("/app/links/", follow_redirects=True))
    assert "Running, linkedin:" in made
    assert session.scalar(select(func.count()).select_from(Link)) == 0


def test_my_links_shows_the_employee_s_own_clicks(session, sign_in):
    me = make_employee(session, email="me@example.com")
    link = make_link(session, employee=me)
    make_click(session, link)
    make_click(session, link, ip="198.51.100.8")
    other = make_link(session, campaign=session.get(Campaign, link.campaign_id))
    make_click(session, other, ip="198.51.100.9")
    make_crm_record(session, utm_content=me.handle, won=True)
    make_crm_record(session, utm_content=me.handle)
    make_crm_record(session, utm_content=session.get(Employee, other.employee_id).handle)
    attribute_records(session, window_days=30, click_id_param="lt_cid")
    body = text(sign_in("employee", "me@example.com").get("/app/links/"))
    values = re.findall(r'class="stat-value">([^<]*)<', body)
    assert values == ["2", "2", "2", "1"]  # clicks, unique visitors, leads, won
    assert other.code not in body


def test_my_links_explains_when_no_employee_profile_exists(sign_in):
    body = text(sign_in("sales_ops").get("/app/links/"))
    assert "not linked to an employee profile" in body


@pytest.mark.parametrize(
    ("kind", "mimetype", "magic"),
    [("png", "image/png", b"\x89PNG"), ("svg", "image/svg+xml", b"<svg")],
)
def test_qr_codes_download_as_png_and_svg(session, sign_in, kind, mimetype, magic):
    me = make_employee(session, email="me@example.com")
    link = make_link(session, employee=me)
    response = sign_in("employee", "me@example.com").get(f"/app/links/{link.code}/qr.{kind}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.data.lstrip().startswith(magic)
    assert "attachment" in response.headers["Content-Disposition"]


def test_an_employee_cannot_reach_another_employee_s_links_by_guessing(session, sign_in):
    me = make_employee(session, email="me@example.com")
    mine = make_link(session, employee=me)
    theirs = make_link(session, campaign=session.get(Campaign, mine.campaign_id))
    victim = session.get(Employee, theirs.employee_id)
    client = sign_in("employee", "me@example.com")
    for url in (
        f"/app/links/{theirs.code}/qr.png",
        f"/app/links/{theirs.code}/qr.svg",
        f"/api/v1/links/{theirs.code}",
        f"/api/v1/reports/reps/{victim.handle}",
        f"/app/reports/reps/{victim.handle}",
    ):
        assert client.get(url).status_code == 404, url
    assert theirs.code not in text(client.get("/app/links/"))
