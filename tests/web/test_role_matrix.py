"""Every route × every role, generated from the URL map: a new route without a rule fails.

The table says, per endpoint, the status each role gets. Pages send the anonymous to the
sign-in page (302), the API answers them 401; a signed-in role without access gets 403.
Object-level checks show up as 404: an employee asking for another employee's link or report
gets the same answer as for a code that does not exist.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from linktracker.auth.services import create_user, get_user
from linktracker.crm.services import store_upload
from linktracker.webhooks.models import Webhook
from tests.factories import make_campaign, make_employee, make_link

ROLES = ("anonymous", "employee", "sales_ops", "marketer", "admin")
SIGNED_IN = ROLES[1:]
MANAGERS = ("marketer", "admin")
IMPORTERS = ("sales_ops", "admin")
LOGIN = "login"  # a 302 to the sign-in page


def page(allowed: tuple[str, ...], ok: int = 200, **special: int | str) -> dict[str, int | str]:
    """An app page: anonymous -> sign-in page, allowed roles -> ok, others -> 403."""
    table: dict[str, int | str] = {"anonymous": LOGIN}
    table.update({role: ok if role in allowed else 403 for role in SIGNED_IN})
    table.update(special)
    return table


def api(allowed: tuple[str, ...], ok: int = 200, **special: int | str) -> dict[str, int | str]:
    """An API route: anonymous -> 401, allowed roles -> ok, others -> 403."""
    return page(allowed, ok, anonymous=401, **special)


def everyone(status: int) -> dict[str, int | str]:
    return dict.fromkeys(ROLES, status)


# endpoint -> role -> status. Requests carry no body: POST routes answer their validation
# status (400/422) or act on throw-away objects and redirect (302).
EXPECTED: dict[str, dict[str, int | str]] = {
    "static": everyone(200),
    "public.healthz": everyone(200),
    "public.short_link": everyone(302),
    "auth.login": everyone(200),
    "auth.logout": everyone(LOGIN),
    # Single sign-on is not set up in these tests: both answer that it is not.
    "auth.sso_start": everyone(404),
    "auth.sso_callback": everyone(404),
    # SCIM takes its own bearer token only: a signed-in session is not one.
    "scim.users": everyone(401),
    "scim.create": everyone(401),
    "scim.user": everyone(401),
    "scim.replace": everyone(401),
    "scim.patch": everyone(401),
    "scim.delete": everyone(401),
    "scim.service_provider_config": everyone(401),
    "scim.schemas": everyone(401),
    "scim.schema": everyone(401),
    "scim.resource_types": everyone(401),
    "scim.resource_type": everyone(401),
    "pages.home": page(SIGNED_IN, 302),
    # My links: every signed-in person has a page; another employee's QR code is not found.
    "my_links.index": page(SIGNED_IN),
    "my_links.make_links": page(SIGNED_IN, 302),
    "my_links.qr_code": page(SIGNED_IN, employee=404, sales_ops=404),
    # Everyone's own data; accounts without an employee profile hold none.
    "my_links.my_data": page(SIGNED_IN, sales_ops=404, marketer=404, admin=404),
    "campaigns.index": page(MANAGERS),
    "campaigns.new": page(MANAGERS),
    "campaigns.detail": page(MANAGERS),
    "campaigns.edit": page(MANAGERS),
    "campaigns.generate_links": page(MANAGERS, 302),
    "campaigns.custom_link": page(MANAGERS, 302),
    "campaigns.set_active": page(MANAGERS, 302),
    "employees.index": page(MANAGERS),
    "employees.new": page(MANAGERS),
    "employees.import_file": page(MANAGERS),
    "employees.set_active": page(MANAGERS, 302),
    "employees.erase": page(("admin",)),
    "crm.index": page(IMPORTERS),
    "crm.preview": page(IMPORTERS),
    "crm.run": page(IMPORTERS, 302),
    "crm.detail": page(IMPORTERS),
    "crm.download_raw": page(IMPORTERS),
    "crm.download_rejected": page(IMPORTERS),
    "reports.dashboard": page(MANAGERS),
    "reports.leaderboard": page(MANAGERS),
    # An employee has their own page; another's answers as an unknown handle.
    "reports.rep": page(MANAGERS, employee=404),
    "reports.my_results": page(SIGNED_IN),
    "reports.campaigns": page(MANAGERS),
    "reports.channels": page(MANAGERS),
    "reports.campaign": page(MANAGERS),
    "reports.recruiting": page(MANAGERS),
    "recruiting.index": page(IMPORTERS),
    "recruiting.preview": page(IMPORTERS),
    "recruiting.run": page(IMPORTERS, 302),
    "recruiting.detail": page(IMPORTERS),
    "recruiting.download_raw": page(IMPORTERS),
    "recruiting.download_rejected": page(IMPORTERS),
    # A link's Audience page and CSVs: another employee's link is not found.
    "audience.link_detail": page(SIGNED_IN, employee=404, sales_ops=404),
    "audience.link_csv": page(SIGNED_IN, employee=404, sales_ops=404),
    "audience.report_csv": page(MANAGERS),
    "settings_pages.index": page(("admin",)),
    "privacy_pages.index": page(("admin",)),
    "privacy_pages.find": page(("admin",), 422),
    "privacy_pages.export": page(("admin",), 422),
    "privacy_pages.erase": page(("admin",), 422),
    "users.index": page(("admin",)),
    "users.reset_password": page(("admin",)),
    "users.set_active": page(("admin",), 302),
    "api.post_employee": api(MANAGERS, 400),
    "api.post_campaign": api(MANAGERS, 400),
    "api.get_campaign_view": api(MANAGERS),
    "api.put_post_texts": api(MANAGERS, 400),
    "api.post_link": api(("employee", *MANAGERS), 400),
    "api.get_link_view": api(MANAGERS, employee=404),
    "api.get_me": api(SIGNED_IN),
    "api.get_my_data": api(SIGNED_IN, sales_ops=404, marketer=404, admin=404),
    "api.get_reps_report": api(MANAGERS),
    "api.get_rep_report": api(MANAGERS, employee=404),
    "api.get_campaigns_report": api(MANAGERS),
    "api.get_channels_report": api(MANAGERS),
    "api.get_program_report": api(MANAGERS),
    "api.get_participation_report": api(MANAGERS),
    "api.get_recruiting_report": api(MANAGERS),
    "api.post_ats_import": api(IMPORTERS, 422),
    "api.get_ats_imports": api((*IMPORTERS, "marketer")),
    "api.get_ats_import_json": api((*IMPORTERS, "marketer")),
    "api.run_ats_import": api(IMPORTERS),
    "api.get_ats_import_raw": api(IMPORTERS),  # candidate emails in clear
    "api.get_ats_import_rejected": api((*IMPORTERS, "marketer")),
    "api.get_clicks": api(MANAGERS),
    # Without by= a manager gets 400; an employee must name their own handle first.
    "api.get_clicks_report": api(MANAGERS, 400, employee=403),
    "api.post_crm_import": api(IMPORTERS, 422),
    "api.get_crm_imports": api((*IMPORTERS, "marketer")),
    "api.get_crm_import": api((*IMPORTERS, "marketer")),
    "api.run_crm_import": api(IMPORTERS),
    "api.get_crm_import_raw": api(IMPORTERS),  # customer emails in clear
    "api.get_crm_import_rejected": api((*IMPORTERS, "marketer")),
    # Story suggestions: anyone with an employee profile suggests; managers review.
    "stories.index": page(SIGNED_IN),
    "stories.submit": page(SIGNED_IN, 422, sales_ops=403, marketer=403, admin=403),
    "stories.review_queue": page(MANAGERS),
    "stories.review": page(MANAGERS, 302),
    "api.post_contribution": api(SIGNED_IN, 400),
    "api.get_contributions": api(SIGNED_IN),
    "api.review_contribution_view": api(MANAGERS, 400),
    # The weekly email: everyone's own switch; the unsubscribe link is its own credential.
    "digest_pages.index": page(SIGNED_IN),
    "digest_pages.subscription": page(SIGNED_IN, 302, sales_ops=404, marketer=404, admin=404),
    "digest_pages.unsubscribe_page": everyone(404),
    "digest_pages.unsubscribe": everyone(404),
    "api.post_crm_records": api(IMPORTERS, 400),
    "api.post_hubspot_hook": api(IMPORTERS, 400),
    "api.post_webhook": api(("admin",), 400),
    "api.get_webhooks": api(("admin",)),
    "api.delete_webhook_view": api(("admin",), 204),
    "api.get_webhook_deliveries": api(("admin",)),
    "webhook_pages.index": page(("admin",)),
}


@dataclass(frozen=True)
class World:
    users: dict[str, int]  # role -> user id
    values: dict[str, Any]
    # endpoint -> values of its own, where a route changes the object the others look at
    overrides: dict[str, dict[str, Any]]


@pytest.fixture
def world(app: Flask, session: Any) -> World:
    # The signed-in employee has links of their own; every object in a URL belongs to others.
    me = make_employee(session, email="me@example.com")
    victim = make_employee(session, email="victim@example.com")
    campaign = make_campaign(session)  # the routes disable this one
    shared = make_campaign(session)
    make_link(session, shared, me)
    link = make_link(session, shared, victim)
    users = {}
    for role in SIGNED_IN:
        email = "me@example.com" if role == "employee" else f"{role}@example.com"
        user = create_user(session, email, role, "correct horse battery")
        users[role] = user.id
    other = create_user(session, "someone@example.com", "marketer", "correct horse battery")
    folder = app.config["UPLOAD_FOLDER"]
    csv = b"Record ID,Create Date\n1,2026-10-01\n"
    pending, to_run = (
        store_upload(session, io.BytesIO(csv), filename="deals.csv", upload_folder=folder)
        for _ in range(2)
    )
    values = {
        "import_id": pending.id,
        "campaign_id": campaign.id,
        "employee_id": victim.id,
        "user_id": other.id,
        "code": link.code,
        "handle": victim.handle,
        "slug": shared.slug,
        "kind": "png",
        "block": "country",
        "filename": "css/app.css",
        "schema_id": "urn:ietf:params:scim:schemas:core:2.0:User",
        "type_id": "User",
        "contribution_id": 2**40,
        "token": "not-a-signed-token",
    }
    runs = {"import_id": to_run.id}
    hooks = [Webhook(url="https://hooks.example.com/", events=["deal.won"], secret="whsec_AA==")]
    hooks.append(
        Webhook(url="https://hooks.example.com/", events=["deal.won"], secret="whsec_AA==")
    )
    session.add_all(hooks)
    session.commit()
    values["webhook_id"] = hooks[0].id
    ats = b"Application ID,Applied On\n1,2026-10-01\n"
    ats_pending, ats_to_run = (
        store_upload(
            session, io.BytesIO(ats), filename="ats.csv", upload_folder=folder, pipeline="ats"
        )
        for _ in range(2)
    )
    ats_values = {"import_id": ats_pending.id}
    overrides = {"crm.run": runs, "api.run_crm_import": runs}
    overrides |= {
        endpoint: ats_values
        for endpoint in (
            "recruiting.preview",
            "recruiting.detail",
            "recruiting.download_raw",
            "recruiting.download_rejected",
            "api.get_ats_import_json",
            "api.get_ats_import_raw",
            "api.get_ats_import_rejected",
        )
    }
    ats_runs = {"import_id": ats_to_run.id}
    overrides |= {"recruiting.run": ats_runs, "api.run_ats_import": ats_runs}
    overrides["api.delete_webhook_view"] = {"webhook_id": hooks[1].id}
    return World(users, values, overrides)


def _client(app: Flask, world: World, role: str) -> FlaskClient:
    client = app.test_client()
    if role != "anonymous":
        user_id = world.users[role]
        with app.extensions["linktracker"].sessions() as session:
            # Read afresh: signing out (one of the routes) moves the version on.
            version = get_user(session, user_id).session_version
        with client.session_transaction() as cookie:
            cookie["user_id"] = user_id
            cookie["version"] = version
    return client


def _url(app: Flask, rule: Rule, values: dict[str, Any]) -> str:
    missing = [name for name in rule.arguments if name not in values]
    assert not missing, f"{rule.endpoint}: add sample values for {missing} to the world fixture"
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, {n: values[n] for n in rule.arguments})


def _observed(response: Any) -> int | str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/app/login" in location:
        return LOGIN
    return int(response.status_code)


def _method(rule: Rule) -> str:
    """GET where the route takes it, else POST, else its own (PUT, PATCH, DELETE)."""
    methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
    for method in ("GET", "POST", *sorted(methods)):
        if method in methods:
            return method
    return "GET"


def test_every_route_has_a_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - EXPECTED.keys()) == [], "add the new routes to EXPECTED"
    assert sorted(EXPECTED.keys() - endpoints) == [], "remove rules of routes that are gone"
    for endpoint, table in EXPECTED.items():
        assert set(table) == set(ROLES), endpoint


def test_every_route_answers_every_role_as_the_table_says(app: Flask, world: World) -> None:
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint)
    wrong = []
    for role in ROLES:
        for rule in rules:
            client = _client(app, world, role)
            url = _url(app, rule, world.values | world.overrides.get(rule.endpoint, {}))
            method = _method(rule)
            response = client.open(url, method=method)
            got, want = _observed(response), EXPECTED[rule.endpoint][role]
            if got != want:
                wrong.append(f"{method} {url} as {role}: got {got}, expected {want}")
    assert wrong == [], "\n".join(wrong)
