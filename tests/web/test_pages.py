"""The signed-in web app through the test client: what each page shows and does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.attribution.services import attribute_records
from linktracker.auth.models import User
from linktracker.auth.services import create_user, find_user_by_email
from linktracker.campaigns.models import Campaign
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from linktracker.settings.models import Setting
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link

PASSWORD = "correct horse battery"
XSS = "<script>alert(1)</script>"


def sign_in(app: Flask, session: Session, role: str, email: str | None = None) -> FlaskClient:
    """A client with a signed-in session of a new user of this role."""
    email = email or f"{role}@users.test"
    user = find_user_by_email(session, email) or create_user(session, email, role, PASSWORD)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"] = user.id
        cookie["version"] = user.session_version
    return client


def text(response: Any) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- navigation and security


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("employee", "/app/links/"),
        ("marketer", "/app/reports/"),
        ("sales_ops", "/app/crm/"),
        ("admin", "/app/reports/"),
    ],
)
def test_home_sends_each_role_to_its_landing_page(app, session, role, landing):
    response = sign_in(app, session, role).get("/app/")
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_home_sends_the_anonymous_to_sign_in(client):
    assert client.get("/app/").headers["Location"] == "/app/login"


def test_navigation_shows_only_what_the_role_may_use(app, session):
    employee_page = text(sign_in(app, session, "employee").get("/app/links/"))
    assert "My links" in employee_page
    for hidden in ("Campaigns", "Employees", "Settings", "Users", "Dashboard"):
        assert f">{hidden}</a>" not in employee_page
    admin_page = text(sign_in(app, session, "admin").get("/app/settings/"))
    for shown in ("Campaigns", "Employees", "Settings", "Users", "Dashboard", "Attribution"):
        assert f">{shown}</a>" in admin_page


def test_app_pages_carry_security_headers(app, session):
    response = sign_in(app, session, "marketer").get("/app/campaigns/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "no-store" in response.headers["Cache-Control"]


def test_the_sign_in_page_has_headers_but_short_links_stay_minimal(client, session):
    assert "Content-Security-Policy" in client.get("/app/login").headers
    link = make_link(session)
    redirect = client.get(f"/{link.code}")
    assert redirect.status_code == 302
    assert "Content-Security-Policy" not in redirect.headers
    missing = client.get("/nosuchcode")
    assert missing.status_code == 404
    assert "Content-Security-Policy" not in missing.headers
    assert "linktracker" not in text(missing)  # brand-neutral


def test_pages_contain_no_inline_script_or_style(app, session):
    client = sign_in(app, session, "admin")
    make_click(session, make_link(session))
    for url in ("/app/links/", "/app/campaigns/", "/app/reports/", "/app/users/", "/app/settings/"):
        body = text(client.get(url))
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
        assert " style=" not in body and "<style" not in body, url
        assert " on" + "click=" not in body, url


def test_session_cookie_is_httponly_lax_and_secure_when_configured(config):
    app = create_app({**config, "SESSION_COOKIE_SECURE": True})
    try:
        with app.extensions["linktracker"].sessions() as session:
            create_user(session, "secure@users.test", "admin", PASSWORD)
        response = app.test_client().post(
            "/app/login", data={"email": "secure@users.test", "password": PASSWORD}
        )
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    finally:
        app.extensions["linktracker"].dispose()


def test_forms_refuse_posts_without_a_csrf_token(config, session):
    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    try:
        client = sign_in(app, session, "admin")
        response = client.post("/app/settings/", data={"cpm": "99"})
        assert response.status_code == 400
        assert "CSRF" in text(response)
        assert session.scalar(select(func.count()).select_from(Setting)) == 0
    finally:
        app.extensions["linktracker"].dispose()


def test_errors_render_in_the_app_look(config):
    app = create_app({**config, "TESTING": False})

    @app.get("/app/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    try:
        client = app.test_client()
        response = client.get("/app/boom")
        assert response.status_code == 500
        assert "Something went wrong" in text(response) and "kaboom" not in text(response)
        assert 'class="error-page"' in text(client.get("/app/nothing-here"))
    finally:
        app.extensions["linktracker"].dispose()


# ---------------------------------------------------------------- my links


def test_my_links_makes_a_link_per_active_campaign_and_channel(app, session):
    me = make_employee(session, email="me@example.com")
    running = make_campaign(session, name="Running", channels=["linkedin", "email"])
    retired = make_campaign(session, name="Retired")
    retired.active = False
    session.commit()
    client = sign_in(app, session, "employee", "me@example.com")

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


def test_viewing_my_links_makes_no_link_and_offers_to_make_the_missing_ones(app, session):
    me = make_employee(session, email="me@example.com")
    make_campaign(session, name="Running", channels=["linkedin", "email"])
    client = sign_in(app, session, "employee", "me@example.com")

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


def test_my_links_shows_why_a_link_cannot_be_made(app, session):
    make_employee(session, email="me@example.com")
    campaign = make_campaign(session, name="Running", channels=["linkedin"])
    campaign.destination_url = "https://elsewhere.invalid/landing"  # allowed when created
    session.commit()
    client = sign_in(app, session, "employee", "me@example.com")

    body = text(client.get("/app/links/"))
    assert "Not made yet" not in body and "Make my links" not in body
    assert "elsewhere.invalid" in body and 'class="field-error"' in body
    made = text(client.post("/app/links/", follow_redirects=True))
    assert "Running, linkedin:" in made
    assert session.scalar(select(func.count()).select_from(Link)) == 0


def test_my_links_shows_the_employee_s_own_clicks(app, session):
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
    body = text(sign_in(app, session, "employee", "me@example.com").get("/app/links/"))
    values = re.findall(r'class="stat-value">([^<]*)<', body)
    assert values == ["2", "2", "2", "1"]  # clicks, unique visitors, leads, won
    assert other.code not in body


def test_my_links_explains_when_no_employee_profile_exists(app, session):
    body = text(sign_in(app, session, "sales_ops").get("/app/links/"))
    assert "not linked to an employee profile" in body


@pytest.mark.parametrize(
    ("kind", "mimetype", "magic"),
    [("png", "image/png", b"\x89PNG"), ("svg", "image/svg+xml", b"<svg")],
)
def test_qr_codes_download_as_png_and_svg(app, session, kind, mimetype, magic):
    me = make_employee(session, email="me@example.com")
    link = make_link(session, employee=me)
    response = sign_in(app, session, "employee", "me@example.com").get(
        f"/app/links/{link.code}/qr.{kind}"
    )
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.data.lstrip().startswith(magic)
    assert "attachment" in response.headers["Content-Disposition"]


def test_an_employee_cannot_reach_another_employee_s_links_by_guessing(app, session):
    me = make_employee(session, email="me@example.com")
    mine = make_link(session, employee=me)
    theirs = make_link(session, campaign=session.get(Campaign, mine.campaign_id))
    victim = session.get(Employee, theirs.employee_id)
    client = sign_in(app, session, "employee", "me@example.com")
    for url in (
        f"/app/links/{theirs.code}/qr.png",
        f"/app/links/{theirs.code}/qr.svg",
        f"/api/v1/links/{theirs.code}",
        f"/api/v1/reports/reps/{victim.handle}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/app/reports/reps/{victim.handle}").status_code == 403
    assert theirs.code not in text(client.get("/app/links/"))


# ---------------------------------------------------------------- campaigns


def test_a_campaign_destination_outside_the_allowed_domains_is_refused_beside_the_field(
    app, session
):
    client = sign_in(app, session, "marketer")
    response = client.post(
        "/app/campaigns/new",
        data={"name": "Launch", "destination_url": "https://evil.test/x", "channels": ["x"]},
    )
    assert response.status_code == 422
    body = text(response)
    assert re.search(r'id="destination_url-error">[^<]*allowed', body)
    assert 'value="Launch"' in body and 'value="https://evil.test/x"' in body
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_preview_shows_the_exact_final_url_without_saving(app, session):
    make_employee(session, name="Advocate 01", handle="adv-01")
    client = sign_in(app, session, "marketer")
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


def test_the_preview_matches_where_the_redirect_sends_a_visitor(app, session):
    campaign = make_campaign(session, destination_url="https://www.example.com/über?a=1#top")
    link = make_link(session, campaign=campaign, employee=make_employee(session, handle="adv-01"))
    page = text(sign_in(app, session, "marketer").get(f"/app/campaigns/{campaign.id}"))
    location = app.test_client().get(f"/{link.code}").headers["Location"]
    before, _cid, after = location.partition("lt_cid=")
    click_id = after.partition("#")[0]
    shown = re.search(r'<p class="preview">(.*?)</p>', page).group(1)
    assert shown.replace("&amp;", "&").replace("<mark>lt_cid=…</mark>", "lt_cid=" + click_id) == (
        location
    )


def test_a_destination_typed_with_umlauts_and_spaces_is_saved_as_a_uri(app, session):
    client = sign_in(app, session, "marketer")
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


def test_a_destination_with_a_text_direction_character_is_refused_beside_the_field(app, session):
    client = sign_in(app, session, "marketer")
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


def test_a_marketer_creates_edits_generates_links_and_disables_a_campaign(app, session):
    make_employee(session)
    make_employee(session)
    client = sign_in(app, session, "marketer")
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


def test_a_failed_edit_keeps_what_was_typed_and_changes_nothing(app, session):
    campaign = make_campaign(session, name="Before")
    response = sign_in(app, session, "marketer").post(
        f"/app/campaigns/{campaign.id}/edit",
        data={"name": "After", "destination_url": "ftp://www.example.com", "channels": ["x"]},
    )
    assert response.status_code == 422
    assert 'value="After"' in text(response)
    session.expire_all()
    assert session.get(Campaign, campaign.id).name == "Before"


def test_a_campaign_named_like_a_script_renders_as_text(app, session):
    campaign = make_campaign(session, name=XSS)
    me = make_employee(session, email="me@example.com")
    marketer = sign_in(app, session, "marketer")
    employee = sign_in(app, session, "employee", me.email)
    for client, url in (
        (marketer, "/app/campaigns/"),
        (marketer, f"/app/campaigns/{campaign.id}"),
        (employee, "/app/links/"),
    ):
        body = text(client.get(url))
        assert XSS not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


# ---------------------------------------------------------------- employees


def test_employees_list_searches_by_name_email_handle_and_team(app, session):
    make_employee(session, name="Advocate 01", team="Sales")
    make_employee(session, name="Advocate 02", team="Recruiting")
    body = text(sign_in(app, session, "marketer").get("/app/employees/?q=recruit"))
    assert "Advocate 02" in body and "Advocate 01" not in body


def test_creating_an_employee_reports_a_taken_email_beside_the_field(app, session):
    make_employee(session, email="taken@example.com")
    client = sign_in(app, session, "marketer")
    response = client.post(
        "/app/employees/new", data={"name": "Advocate 09", "email": "taken@example.com"}
    )
    assert response.status_code == 422
    assert re.search(r'id="email-error">Taken', text(response))
    ok = client.post("/app/employees/new", data={"name": "Advocate 10", "email": "new@example.com"})
    assert ok.status_code == 302
    created = session.scalar(select(Employee).where(Employee.email == "new@example.com"))
    assert created is not None and created.handle.startswith("a-")


def test_employee_csv_import_shows_a_summary_with_rejected_lines(app, session):
    csv = (
        "name,email,handle,team,connections\n"
        "Advocate 01,a01@example.com,,Sales,100\n"
        "Advocate 02,not-an-email,,Sales,100\n"
        "Advocate 03,a03@example.com,,Sales,many\n"
    )
    from io import BytesIO

    response = sign_in(app, session, "marketer").post(
        "/app/employees/import",
        data={"file": (BytesIO(csv.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    body = text(response)
    assert response.status_code == 200
    assert re.search(r'Created</p>\s*<p class="stat-value">1<', body)
    assert re.search(r'Rejected</p>\s*<p class="stat-value">2<', body)
    assert "not a valid email" in body and "whole number" in body


def test_deactivating_an_employee_keeps_their_links(app, session):
    link = make_link(session)
    client = sign_in(app, session, "admin")
    client.post(f"/app/employees/{link.employee_id}/active", data={"active": "0"})
    session.expire_all()
    assert session.get(Employee, link.employee_id).active is False
    assert client.get(f"/{link.code}").status_code == 302


# ---------------------------------------------------------------- settings and users


def test_admin_saves_settings_and_they_apply_at_once(app, session):
    client = sign_in(app, session, "admin")
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


def test_invalid_settings_are_shown_beside_their_fields_and_nothing_is_saved(app, session):
    client = sign_in(app, session, "admin")
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


def test_admin_creates_a_user_who_is_linked_to_their_employee(app, session):
    employee = make_employee(session, email="adv@example.com")
    client = sign_in(app, session, "admin")
    response = client.post(
        "/app/users/", data={"email": "adv@example.com", "role": "employee", "password": PASSWORD}
    )
    assert response.status_code == 302
    user = find_user_by_email(session, "adv@example.com")
    assert user is not None and user.employee_id == employee.id
    short = client.post(
        "/app/users/", data={"email": "x@example.com", "role": "admin", "password": "short"}
    )
    assert short.status_code == 422
    assert "At least 10 characters" in text(short)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Set a password: an account without one cannot sign in."),
        ("password12", "This password is too easy to guess."),
        ("aaaaaaaaaa", "This password is too easy to guess."),
    ],
)
def test_admin_cannot_create_a_user_without_a_usable_password(app, session, password, message):
    client = sign_in(app, session, "admin")
    response = client.post(
        "/app/users/", data={"email": "new@example.com", "role": "marketer", "password": password}
    )
    assert response.status_code == 422
    assert message in text(response)
    assert find_user_by_email(session, "new@example.com") is None


def test_a_password_reset_refuses_a_common_password(app, session):
    sign_in(app, session, "marketer", "m@example.com")
    user = find_user_by_email(session, "m@example.com")
    admin = sign_in(app, session, "admin")
    weak = admin.post(
        f"/app/users/{user.id}/password", data={"password": "password12", "confirm": "password12"}
    )
    assert weak.status_code == 422 and "This password is too easy to guess." in text(weak)
    refused = app.test_client().post(
        "/app/login", data={"email": "m@example.com", "password": "password12"}
    )
    assert refused.status_code == 401


def test_a_user_without_a_password_is_shown_as_unable_to_sign_in(app, session):
    legacy = User(email="old@example.com", role="marketer", password_hash=None)
    session.add(legacy)
    session.commit()
    page = sign_in(app, session, "admin").get("/app/users/")
    assert "no password: cannot sign in until one is set" in text(page)


def test_admin_resets_a_password_and_the_old_sessions_end(app, session):
    victim = sign_in(app, session, "marketer", "m@example.com")
    user = find_user_by_email(session, "m@example.com")
    admin = sign_in(app, session, "admin")
    mismatch = admin.post(
        f"/app/users/{user.id}/password", data={"password": "a" * 12, "confirm": "b" * 12}
    )
    assert mismatch.status_code == 422 and "The two passwords differ." in text(mismatch)
    new = "nine quiet lanterns"
    done = admin.post(f"/app/users/{user.id}/password", data={"password": new, "confirm": new})
    assert done.status_code == 302
    assert victim.get("/app/campaigns/").headers["Location"].startswith("/app/login")
    signed_in = app.test_client().post(
        "/app/login", data={"email": "m@example.com", "password": new}
    )
    assert signed_in.status_code == 302


def test_deactivating_a_user_signs_them_out_but_admins_cannot_deactivate_themselves(app, session):
    victim = sign_in(app, session, "marketer", "m@example.com")
    user = find_user_by_email(session, "m@example.com")
    admin = sign_in(app, session, "admin", "root@example.com")
    me = find_user_by_email(session, "root@example.com")
    assert admin.post(f"/app/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert victim.get("/app/campaigns/").headers["Location"].startswith("/app/login")
    own = admin.post(f"/app/users/{me.id}/active", data={"active": "0"})
    assert own.status_code == 403
    session.expire_all()
    assert find_user_by_email(session, "root@example.com").active is True


# ---------------------------------------------------------------- reports


def test_the_leaderboard_lists_reps_with_their_clicks_and_the_baseline_row(app, session):
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    body = text(sign_in(app, session, "marketer").get("/app/reports/leaderboard"))
    assert rep.name in body
    assert f"/app/reports/reps/{rep.handle}" in body
    assert "All other sources" in body
    assert "format=csv" in body


def test_report_filters_with_bad_values_say_so_and_fall_back(app, session):
    body = text(
        sign_in(app, session, "marketer").get(
            "/app/reports/leaderboard?from=yesterday&campaign=nope"
        )
    )
    assert "Use a date as YYYY-MM-DD." in body
    assert "Unknown campaign." in body


def test_the_rep_page_has_a_chart_funnel_and_links(app, session):
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    response = sign_in(app, session, "marketer").get(f"/app/reports/reps/{rep.handle}")
    body = text(response)
    assert response.status_code == 200
    assert "data-chart=" in body and 'class="funnel"' in body and link.code in body
    unknown = sign_in(app, session, "admin").get("/app/reports/reps/nobody")
    assert unknown.status_code == 404


def test_the_dashboard_shows_kpis_with_their_formulas(app, session):
    make_click(session, make_link(session))
    body = text(sign_in(app, session, "marketer").get("/app/reports/"))
    assert "Participation" in body and "Earned media value" in body
    assert 'title="participation rate = active / joined' in body


def test_a_marketer_gives_an_employee_s_new_link_a_custom_code(app, session):
    campaign = make_campaign(session)
    employee = make_employee(session, handle="adv-01")
    client = sign_in(app, session, "marketer")
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


def test_employees_have_no_custom_code_field_and_are_refused_one(app, session):
    campaign = make_campaign(session)
    employee = make_employee(session, email="me@example.com")
    client = sign_in(app, session, "employee", email="me@example.com")
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
