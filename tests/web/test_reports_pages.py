"""Report pages: what days to close leaves out, the default currency, the CSV downloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.employees.models import Employee
from linktracker.settings.models import Setting
from tests.factories import make_click, make_crm_record, make_link
from tests.web.clients import SignIn, text


def _rep_with_won_records(session: Session) -> Employee:
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    assert rep is not None
    now = datetime.now(UTC).replace(microsecond=0)
    won = {"employee_id": rep.id, "attribution_method": "utm", "won": True}
    make_crm_record(session, created_at=now - timedelta(days=3), closed_at=now, **won)
    make_crm_record(session, created_at=now - timedelta(days=2), closed_at=None, **won)
    make_crm_record(session, created_at=now - timedelta(days=1), closed_at=None, **won)
    make_crm_record(
        session, created_at=now - timedelta(hours=2), closed_at=now - timedelta(days=1), **won
    )
    make_crm_record(  # another source's record closed before it was created
        session, created_at=now - timedelta(hours=3), closed_at=now - timedelta(days=2),
        won=True,
    )  # fmt: skip
    return rep


def test_pages_with_days_to_close_say_how_many_won_records_it_leaves_out(
    sign_in: SignIn, session: Session
) -> None:
    rep = _rep_with_won_records(session)
    client = sign_in("marketer")
    advocacy = (
        "Days to close (employee advocacy) leaves out 2 won records without a close date "
        "and 1 closed before it was created."
    )
    others = (
        "Days to close (other sources) leaves out 0 won records without a close date "
        "and 1 closed before it was created."
    )
    for url in (
        "/app/reports/",
        "/app/reports/leaderboard",
        "/app/reports/campaigns",
        "/app/reports/channels",
    ):
        body = text(client.get(url))
        assert advocacy in body and others in body, url
    body = text(client.get(f"/app/reports/reps/{rep.handle}"))
    assert (
        "Days to close (this rep) leaves out 2 won records without a close date "
        "and 1 closed before it was created." in body
    )
    assert others in body


def test_no_note_when_days_to_close_leaves_nothing_out(sign_in: SignIn, session: Session) -> None:
    link = make_link(session)
    make_click(session, link)
    now = datetime.now(UTC)
    make_crm_record(
        session, employee_id=link.employee_id, attribution_method="utm", won=True,
        created_at=now - timedelta(days=1), closed_at=now, amount=Decimal("10"),
    )  # fmt: skip
    body = text(sign_in("marketer").get("/app/reports/leaderboard"))
    assert "leaves out" not in body


def _set_default_currency(sign_in: SignIn, code: str) -> None:
    client = sign_in("admin", email="admin-currency@example.com")
    response = client.post("/app/settings/", data={"default_currency": code})
    assert response.status_code == 302, text(response)


def test_amounts_without_a_currency_are_shown_in_the_default_currency(
    sign_in: SignIn, app: Flask, session: Session
) -> None:
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    assert rep is not None
    now = datetime.now(UTC)
    for amount, currency in ((Decimal("1000"), None), (Decimal("250"), "USD")):
        make_crm_record(
            session, employee_id=rep.id, attribution_method="utm", won=True,
            created_at=now - timedelta(days=2), closed_at=now, amount=amount, currency=currency,
        )  # fmt: skip
    client = sign_in("marketer")
    # Out of the box the configured default (USD) applies: never the "XXX" placeholder.
    assert "1,250 USD" in text(client.get("/app/reports/leaderboard"))

    _set_default_currency(sign_in, "eur")
    assert app.extensions["linktracker"].settings().default_currency == "EUR"
    leaderboard = text(client.get("/app/reports/leaderboard"))
    assert "1,000 EUR, 250 USD" in leaderboard and "XXX" not in leaderboard
    rep_page = text(client.get(f"/app/reports/reps/{rep.handle}"))
    assert "1,000 EUR" in rep_page and "XXX" not in rep_page
    dashboard = text(client.get("/app/reports/"))
    for label in ("Earned media value", "Lead-cost savings"):
        assert re.search(label + r'</p>.*?<p class="stat-value">[\d,.]+ EUR<', dashboard, re.S)
    assert "at CPM 10 EUR" in dashboard and "at 50 EUR per lead" in dashboard
    api = client.get("/api/v1/reports/program").get_json()
    assert api["revenue"] == {"EUR": 1000.0, "USD": 250.0}
    assert api["currency"] == "EUR"
    reps = client.get("/api/v1/reports/reps").get_json()
    assert "XXX" not in str(reps)


def test_an_unknown_default_currency_is_refused_beside_the_field(
    sign_in: SignIn, app: Flask, session: Session
) -> None:
    client = sign_in("admin")
    for code in ("XYZ", "€", "euro", ""):
        response = client.post("/app/settings/", data={"default_currency": code})
        assert response.status_code == 422, code
        assert re.search(
            r'id="default_currency-error">[^<]*not an ISO 4217 currency code', text(response)
        ), code
    assert session.scalar(select(func.count()).select_from(Setting)) == 0
    assert app.extensions["linktracker"].settings().default_currency == "USD"


def test_the_rep_page_s_csv_downloads_have_distinct_file_names(
    sign_in: SignIn, session: Session
) -> None:
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    assert rep is not None
    client = sign_in("marketer")
    page = text(client.get(f"/app/reports/reps/{rep.handle}"))
    urls = [
        u.replace("&amp;", "&") for u in re.findall(r'href="(/api/v1/reports/reps/[^"]+)"', page)
    ]
    assert len(urls) == 2
    names = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        disposition = response.headers["Content-Disposition"]
        found = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
        assert found is not None, disposition
        names.append(found[1])
    assert names[0] != names[1]
    assert names[0].startswith(f"rep-{rep.handle}-series-") and names[0].endswith(".csv")
    assert names[1].startswith(f"rep-{rep.handle}-records-") and names[1].endswith(".csv")


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-03-05&to=2026-03-01", "from", "Must not be after 'to'."),
        ("from=2026-03-01&to=soon", "to", "Use a date as YYYY-MM-DD."),
        ("from=2000-01-01&to=2026-03-01", "from", "Ranges are limited to 3660 days."),
    ],
)
def test_api_page_and_cli_refuse_a_date_range_alike(
    sign_in: SignIn,
    app: Flask,
    runner: FlaskCliRunner,
    api_headers: Callable[..., dict[str, str]],
    query: str,
    field: str,
    message: str,
) -> None:
    response = app.test_client().get(f"/api/v1/reports/reps?{query}", headers=api_headers())
    assert response.status_code == 422 and response.json is not None
    assert response.json["fields"] == {field: message}
    page = sign_in("marketer").get(f"/app/reports/leaderboard?{query}")
    assert page.status_code == 422 and str(escape(message)) in text(page)
    bounds = dict(part.split("=") for part in query.split("&"))
    result = runner.invoke(args=["report", "reps", "--from", bounds["from"], "--to", bounds["to"]])
    assert result.exit_code != 0 and f"{field}: {message}" in result.output


def test_the_leaderboard_lists_reps_with_their_clicks_and_the_baseline_row(
    sign_in: SignIn, session: Session
) -> None:
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    body = text(sign_in("marketer").get("/app/reports/leaderboard"))
    assert rep.name in body
    assert f"/app/reports/reps/{rep.handle}" in body
    assert "All other sources" in body
    assert "format=csv" in body


def test_report_filters_with_bad_values_say_so_and_fall_back(sign_in: SignIn) -> None:
    body = text(sign_in("marketer").get("/app/reports/leaderboard?from=yesterday&campaign=nope"))
    assert "Use a date as YYYY-MM-DD." in body
    assert "Unknown campaign." in body


def test_the_rep_page_has_a_chart_funnel_and_links(sign_in: SignIn, session: Session) -> None:
    link = make_link(session)
    make_click(session, link)
    rep = session.get(Employee, link.employee_id)
    response = sign_in("marketer").get(f"/app/reports/reps/{rep.handle}")
    body = text(response)
    assert response.status_code == 200
    assert "data-chart=" in body and 'class="funnel"' in body and link.code in body
    unknown = sign_in("admin").get("/app/reports/reps/nobody")
    assert unknown.status_code == 404


def test_the_dashboard_shows_kpis_with_their_formulas(sign_in: SignIn, session: Session) -> None:
    make_click(session, make_link(session))
    body = text(sign_in("marketer").get("/app/reports/"))
    assert "Participation" in body and "Earned media value" in body
    assert 'title="participation rate = active / joined' in body
