"""GET /api/v1/clicks: the raw click export's fields, paging, filters, formats and refusals."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from linktracker.clicks.services import insert_click_rows
from linktracker.links.models import Link
from tests.export_horizon import wait_for_export_horizon
from tests.factories import make_campaign, make_click, make_employee, make_link

Headers = Callable[..., dict[str, str]]
DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FIELDS = [
    "click_id", "created_at", "code", "campaign", "employee", "channel", "referrer_host",
    "referrer_channel", "country", "device", "browser", "os", "is_bot", "is_preview", "bot_name",
    "visitor_hash",
]  # fmt: skip
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


class World:
    def __init__(self, session: Session) -> None:
        self.rep = make_employee(session, handle="rep-a")
        self.other = make_employee(session, handle="rep-b")
        self.spring = make_campaign(session, slug="spring")
        self.autumn = make_campaign(session, slug="autumn")
        self.link = make_link(session, self.spring, self.rep)
        self.other_link = make_link(session, self.autumn, self.other)


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def _get(client: FlaskClient, url: str, headers: dict[str, str]) -> Any:
    """GET once every click stored so far can be exported (see tests/export_horizon.py)."""
    wait_for_export_horizon(client.application.extensions["linktracker"].engine)
    return client.get(url, headers=headers)


def _lines(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def _export_all(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[Any]:
    received: list[dict[str, Any]] = []
    after = ""
    while True:
        page = _lines(_get(client, f"/api/v1/clicks?limit=2{after}{query}", headers))
        if not page:
            return received
        assert len(page) <= 2
        received.extend(page)
        after = f"&after={page[-1]['click_id']}"


def test_a_click_comes_out_with_exactly_the_contract_fields(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    row = make_click(session, world.link, at=DAY, referrer="https://www.linkedin.com/feed/")
    response = _get(client, "/api/v1/clicks", api_headers("marketer"))
    assert response.is_streamed
    [line] = _lines(response)
    assert list(line) == FIELDS
    assert line == {
        "click_id": row["click_id"],
        "created_at": "2026-03-10T12:00:00+00:00",
        "code": world.link.code,
        "campaign": "spring",
        "employee": "rep-a",
        "channel": world.link.channel,
        "referrer_host": "linkedin.com",
        "referrer_channel": "linkedin",
        "country": None,
        "device": "desktop",
        "browser": "Chrome",
        "os": "Windows",
        "is_bot": False,
        "is_preview": False,
        "bot_name": None,
        "visitor_hash": row["visitor_hash"],
    }


def test_paging_with_the_last_click_id_returns_every_click_once_then_an_empty_page(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    made = [make_click(session, world.link, at=DAY + timedelta(minutes=i)) for i in range(5)]
    received = _export_all(client, api_headers())
    assert [line["click_id"] for line in received] == [row["click_id"] for row in made]


def test_the_default_page_is_a_thousand_clicks(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    target = make_click(session, world.link, at=DAY)
    rows = [dict(target, click_id=f"{target['click_id'][:7]}{i:016d}") for i in range(1200)]
    insert_click_rows(session.connection(), rows)
    session.commit()
    first = _lines(_get(client, "/api/v1/clicks", api_headers()))
    assert len(first) == 1000
    after = first[-1]["click_id"]
    rest = _lines(_get(client, f"/api/v1/clicks?after={after}&limit=10000", api_headers()))
    assert len(first) + len(rest) == 1201
    assert len({line["click_id"] for line in first + rest}) == 1201


def test_a_click_stored_late_with_an_older_id_is_still_exported(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    """A click spooled during an outage is stored after clicks made later: it comes next."""
    early = make_click(session, world.link, at=DAY)
    late = make_click(session, world.link, at=DAY + timedelta(hours=1))
    headers = api_headers()
    received = _export_all(client, headers)
    assert [line["click_id"] for line in received] == [early["click_id"], late["click_id"]]
    replayed = dict(early, click_id=early["click_id"][:7] + "A" * 16)  # made before `late`
    insert_click_rows(session.connection(), [replayed])
    session.commit()
    after = received[-1]["click_id"]
    more = _lines(_get(client, f"/api/v1/clicks?after={after}", headers))
    assert [line["click_id"] for line in more] == [replayed["click_id"]]


def test_bots_and_previews_come_out_only_when_asked(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    person = make_click(session, world.link, at=DAY)
    bot = make_click(session, world.link, at=DAY, user_agent=GOOGLEBOT)
    preview = make_click(session, world.link, at=DAY, user_agent=SLACKBOT)
    head = make_click(session, world.link, at=DAY, method="HEAD")
    headers = api_headers()
    people = _lines(_get(client, "/api/v1/clicks?include_bots=0", headers))
    assert [line["click_id"] for line in people] == [person["click_id"]]
    everything = _lines(_get(client, "/api/v1/clicks?include_bots=1", headers))
    ids = [bot["click_id"], preview["click_id"], head["click_id"]]
    assert [line["click_id"] for line in everything] == [person["click_id"], *ids]
    flags = {line["click_id"]: (line["is_bot"], line["is_preview"]) for line in everything}
    assert flags[bot["click_id"]] == (True, False)
    assert flags[preview["click_id"]][1] is True
    assert flags[head["click_id"]] == (False, True)
    assert everything[1]["bot_name"]


def test_filters_narrow_by_reporting_day_campaign_and_employee(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    # Reporting time zone: UTC by default; 23:30 on the 9th and 00:30 on the 11th fall outside.
    outside_before = make_click(session, world.link, at=datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
    inside = make_click(session, world.link, at=datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    other = make_click(session, world.other_link, at=datetime(2026, 3, 10, 23, 59, tzinfo=UTC))
    outside_after = make_click(session, world.link, at=datetime(2026, 3, 11, 0, 30, tzinfo=UTC))
    headers = api_headers()

    def ids(query: str) -> list[str]:
        return [line["click_id"] for line in _export_all(client, headers, query)]

    assert ids("&from=2026-03-10&to=2026-03-10") == [inside["click_id"], other["click_id"]]
    assert ids("&from=2026-03-11") == [outside_after["click_id"]]
    assert ids("&to=2026-03-09") == [outside_before["click_id"]]
    assert ids("&campaign=autumn") == [other["click_id"]]
    assert ids("&employee=rep-a&to=2026-03-10") == [outside_before["click_id"], inside["click_id"]]


def test_csv_pages_have_a_header_and_neutralise_formulas(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    row = make_click(session, world.link, at=DAY)
    hostile = dict(row, click_id=row["click_id"][:7] + "B" * 16, browser="=HYPERLINK(1)",
                   referrer_host="+evil.example", bot_name="@SUM(1)")  # fmt: skip
    insert_click_rows(session.connection(), [hostile])
    session.commit()
    response = _get(client, "/api/v1/clicks?format=csv", api_headers())
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="clicks.csv"'
    text = response.get_data(as_text=True)
    assert "\r\n" in text
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == FIELDS
    assert [line["click_id"] for line in table] == [row["click_id"], hostile["click_id"]]
    assert table[1]["browser"] == "'=HYPERLINK(1)"
    assert table[1]["referrer_host"] == "'+evil.example"
    assert table[1]["bot_name"] == "'@SUM(1)"
    assert table[0]["is_bot"] == "false"
    assert table[0]["country"] == ""
    assert table[0]["created_at"] == "2026-03-10T12:00:00+00:00"
    after = table[-1]["click_id"]
    empty = _get(client, f"/api/v1/clicks?format=csv&after={after}", api_headers())
    assert empty.get_data(as_text=True) == ",".join(FIELDS) + "\r\n"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "between 1 and 10000"),
        ("limit=10001", "limit", "between 1 and 10000"),
        ("limit=ten", "limit", "between 1 and 10000"),
        ("from=2026-13-01", "from", "YYYY-MM-DD"),
        ("to=yesterday", "to", "YYYY-MM-DD"),
        ("from=2026-03-11&to=2026-03-10", "from", "Must not be after 'to'"),
        ("include_bots=yes", "include_bots", "Use 0"),
        ("format=xml", "format", "Use ndjson or csv"),
        ("after=no-such-click", "after", "No click has the id 'no-such-click'"),
        ("after=" + "x" * 41, "after", "At most 40 characters"),
        ("campaign=nope", "campaign", "No campaign with slug 'nope'"),
        ("employee=nobody", "employee", "No employee with handle 'nobody'"),
        ("limt=5", "limt", "Not a parameter"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    client: FlaskClient, api_headers: Headers, world: World, query: str, field: str, message: str
) -> None:
    response = _get(client, f"/api/v1/clicks?{query}", api_headers())
    assert response.status_code == 400
    body = response.json
    assert body["error"] in {"The click export's parameters are invalid.", "Unknown parameter."}
    assert list(body["fields"]) == [field]
    assert message in body["fields"][field]


def test_every_bad_parameter_is_named_at_once(
    client: FlaskClient, api_headers: Headers, world: World
) -> None:
    response = _get(client, "/api/v1/clicks?limit=0&format=xml&campaign=nope", api_headers())
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"limit", "format", "campaign"}


def test_employees_may_not_export_clicks(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    make_click(session, world.link, at=DAY)
    response = _get(client, "/api/v1/clicks", api_headers("employee"))
    assert response.status_code == 403
    assert "click_id" not in response.get_data(as_text=True)


def test_the_link_code_follows_the_link(
    client: FlaskClient, api_headers: Headers, session: Session, world: World
) -> None:
    make_click(session, world.other_link, at=DAY)
    [line] = _lines(_get(client, "/api/v1/clicks", api_headers()))
    link = session.get(Link, world.other_link.id)
    assert link is not None
    assert (line["code"], line["campaign"], line["employee"]) == (link.code, "autumn", "rep-b")
