"""The campaign pages: create, preview, edit, generate links, custom short codes."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from linktracker.campaigns.models import Campaign
from linktracker.links.models import Link
from tests.factories import make_campaign, make_employee, make_link
from tests.web.clients import text

XSS = "<script>alert(1)</script>"


def test_a_campaign_destination_outside_the_allowed_domains_is_refused_beside_the_field(
    session, sign_in
):
    client = sign_in("marketer")
    response = client.post(
        "/app/campaigns/new",
        data={"name": "Launch", "destination_url": "https://evil.test/x", "channels": ["x"]},
    )
    assert response.status_code == 422
    body = text(response)
    assert re.search(r'id="destination_url-error">[^<]*allowed', body)
    assert 'value="Launch"' in body and 'value="https://evil.test/x"' in body
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_preview_shows_the_exact_final_url_without_saving(session, sign_in):
    make_employee(session, name="Advocate 01", handle="adv-01")
    client = sign_in("marketer")
    response = client.post(
        "/app/campaigns/new",
        data={
            "name": "Spring Launch",
            "destination_url": "https://www.example.com/p?ref=x#top",
            "channels": ["linkedin"],
            "utm_lowercase": "y",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    # The click id goes into the query, before the fragment, as the redirect puts it.
    assert (
        "https://www.example.com/p?ref=x&amp;utm_source=linkedin&amp;utm_medium=social"
        "&amp;utm_campaign=spring-launch&amp;utm_content=adv-01&amp;<mark>lt_cid=…</mark>#top"
    ) in text(response)
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_preview_matches_where_the_redirect_sends_a_visitor(app, session, sign_in):
    campaign = make_campaign(session, destination_url="https://www.example.com/über?a=1#top")
    link = make_link(session, campaign=campaign, employee=make_employee(session, handle="adv-01"))
    page = text(sign_in("marketer").get(f"/app/campaigns/{campaign.id}"))
    location = app.test_client().get(f"/{link.code}").headers["Location"]
    before, _cid, after = location.partition("lt_cid=")
    click_id = after.partition("#")[0]
    shown = re.search(r'<p class="preview">(.*?)</p>', page).group(1)
    assert shown.replace("&amp;", "&").replace("<mark>lt_cid=…</mark>", "lt_cid=" + click_id) == (
        location
    )


def test_a_destination_typed_with_umlauts_and_spaces_is_saved_as_a_uri(session, sign_in):
    client = sign_in("marketer")
    response = client.post(
        "/app/campaigns/new",
        data={
            "name": "Über uns",
            "destination_url": "https://www.example.com/über uns?q=ü",
            "channels": ["x"],
        },
    )
    assert response.status_code == 302
    campaign = session.scalar(select(Campaign))
    assert campaign.destination_url == "https://www.example.com/%C3%BCber%20uns?q=%C3%BC"


def test_a_destination_with_a_text_direction_character_is_refused_beside_the_field(
    session, sign_in
):
    client = sign_in("marketer")
    response = client.post(
        "/app/campaigns/new",
        data={
            "name": "Launch",
            "destination_url": "https://www.example.com/\u202egnp.exe",
            "channels": ["x"],
        },
    )
    assert response.status_code == 422
    assert (
        'id="destination_url-error">Destination must not contain invisible or text-direction '
        "characters (U+202E (RIGHT-TO-LEFT OVERRIDE) at character 25)"
    ) in text(response)
    assert 'value="Launch"' in text(response)
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_marketer_creates_edits_generates_links_and_disables_a_campaign(session, sign_in):
    make_employee(session)
    make_employee(session)
    client = sign_in("marketer")
    created = client.post(
        "/app/campaigns/new",
        data={
            "name": "Launch",
            "destination_url": "https://www.example.com/launch",
            "channels": ["linkedin", "x"],
            "goal": "leads",
        },
    )
    campaign = session.scalar(select(Campaign))
    assert created.headers["Location"] == f"/app/campaigns/{campaign.id}"

    edited = client.post(
        f"/app/campaigns/{campaign.id}/edit",
        data={
            "name": "Launch 2",
            "destination_url": "https://www.example.com/launch2",
            "channels": ["linkedin", "x"],
            "goal": "awareness",
        },
    )
    assert edited.status_code == 302
    session.refresh(campaign)
    assert (campaign.name, campaign.goal) == ("Launch 2", "awareness")

    generated = client.post(f"/app/campaigns/{campaign.id}/links", follow_redirects=True)
    assert "4 new link(s) made; 0 existed already." in text(generated)
    assert session.scalar(select(func.count()).select_from(Link)) == 4

    client.post(f"/app/campaigns/{campaign.id}/active", data={"active": "0"})
    session.refresh(campaign)
    assert campaign.active is False
    again = client.post(f"/app/campaigns/{campaign.id}/links", follow_redirects=True)
    assert "is disabled" in text(again)


def test_a_failed_edit_keeps_what_was_typed_and_changes_nothing(session, sign_in):
    campaign = make_campaign(session, name="Before")
    response = sign_in("marketer").post(
        f"/app/campaigns/{campaign.id}/edit",
        data={"name": "After", "destination_url": "ftp://www.example.com", "channels": ["x"]},
    )
    assert response.status_code == 422
    assert 'value="After"' in text(response)
    session.expire_all()
    assert session.get(Campaign, campaign.id).name == "Before"


def test_a_campaign_named_like_a_script_renders_as_text(session, sign_in):
    campaign = make_campaign(session, name=XSS)
    me = make_employee(session, email="me@example.com")
    marketer = sign_in("marketer")
    employee = sign_in("employee", me.email)
    for client, url in (
        (marketer, "/app/campaigns/"),
        (marketer, f"/app/campaigns/{campaign.id}"),
        (employee, "/app/links/"),
    ):
        body = text(client.get(url))
        assert XSS not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


def test_a_marketer_gives_an_employee_s_new_link_a_custom_code(app, session, sign_in):
    campaign = make_campaign(session)
    employee = make_employee(session, handle="adv-01")
    client = sign_in("marketer")
    page = text(client.get(f"/app/campaigns/{campaign.id}"))
    assert 'name="code"' in page and '<option value="adv-01">' in page
    made = client.post(
        f"/app/campaigns/{campaign.id}/custom-link",
        data={"employee": "adv-01", "channel": "x", "code": "spring-sale"},
        follow_redirects=True,
    )
    assert "Custom link http://lt.test/spring-sale made." in text(made)
    link = session.scalar(select(Link).where(Link.code == "spring-sale"))
    assert (link.employee_id, link.channel, link.vanity) == (employee.id, "x", True)
    assert app.test_client().get("/spring-sale").status_code == 302

    again = client.post(
        f"/app/campaigns/{campaign.id}/custom-link",
        data={"employee": "adv-01", "channel": "x", "code": "summer-sale"},
        follow_redirects=True,
    )
    assert (
        "This employee already has a link on this channel (http://lt.test/spring-sale); "
        "a custom code can only be given to a new link."
    ) in text(again)
    reserved = client.post(
        f"/app/campaigns/{campaign.id}/custom-link",
        data={"employee": "adv-01", "channel": "linkedin", "code": "admin"},
        follow_redirects=True,
    )
    assert "&#39;admin&#39; is reserved for the application&#39;s own pages" in text(reserved)
    assert session.scalar(select(func.count()).select_from(Link)) == 1


def test_employees_have_no_custom_code_field_and_are_refused_one(session, sign_in):
    campaign = make_campaign(session)
    employee = make_employee(session, email="me@example.com")
    client = sign_in("employee", email="me@example.com")
    page = text(client.get("/app/links/"))
    assert "spring-sale" not in page and 'name="code"' not in page
    assert "Custom short code" not in page
    refused = client.post(
        f"/app/campaigns/{campaign.id}/custom-link",
        data={"employee": employee.handle, "channel": "x", "code": "pricing"},
    )
    assert refused.status_code == 403
    assert "Your role (employee) may not do this." in text(refused)
    assert session.scalar(select(Link).where(Link.code == "pricing")) is None
