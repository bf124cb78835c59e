"""The raw click export's text: byte for byte what a dict per click, json.dumps and
csvsafe.safe_cell wrote before the fast path (created_at and flags formatted by the
database, JSON lines from a template, encoded cells remembered), for awkward values too."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.clicks import export as click_export
from linktracker.clicks.export import FIELDS, ClickExport, csv_chunks, export_rows, ndjson_chunks
from linktracker.clicks.models import Click
from linktracker.clicks.services import insert_click_rows
from linktracker.csvsafe import safe_cell
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from tests.export_horizon import wait_for_export_horizon
from tests.factories import make_campaign, make_click, make_employee, make_link

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
AWKWARD = [
    "=HYPERLINK(1)", "+evil", "-1", "@SUM(1)", "\ttab", "\rcr", 'say "hi"', "back\\slash",
    "new\nline", "bell\x07", "Zürich ☃ 𝄞", "comma, here", "\u2028sep", "",
]  # fmt: skip


def _reference(session: Session, export: ClickExport) -> list[dict[str, Any]]:
    """Each click's record the way the export used to build it: through the ORM."""
    rows = session.execute(
        select(Click, Link.code, Campaign.slug, Employee.handle)
        .join(Link, Link.id == Click.link_id)
        .join(Campaign, Campaign.id == Click.campaign_id)
        .join(Employee, Employee.id == Click.employee_id)
        .order_by(Click.id)
    ).all()
    records = []
    for click, code, slug, handle in rows:
        values = (
            click.click_id, click.created_at.isoformat(), code, slug, handle, click.channel,
            click.referrer_host, click.referrer_channel, click.country, click.device_type,
            click.browser, click.os, click.is_bot, click.is_preview, click.bot_name,
            click.visitor_hash,
        )  # fmt: skip
        records.append(dict(zip(FIELDS, values, strict=True)))
    return records


def _old_ndjson(records: list[dict[str, Any]]) -> str:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return "".join(dumps(record) + "\n" for record in records)


def _old_csv(records: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for record in records:
        writer.writerow(
            [record["created_at"] if name == "created_at" else safe_cell(record[name])
             for name in FIELDS]
        )  # fmt: skip
    return buffer.getvalue()


@pytest.fixture
def awkward_clicks(session: Session) -> None:
    rep = make_employee(session, handle="rep-a")
    link = make_link(session, make_campaign(session, slug="spring"), rep)
    base = make_click(session, link, at=DAY)
    rows = []
    for n, value in enumerate(AWKWARD):
        rows.append(
            dict(
                base,
                click_id=f"{'-' if n % 3 == 0 else ''}awk{n:03d}{'x' * 10}",
                created_at=DAY + timedelta(seconds=n, microseconds=n * 1001),
                referrer_host=value,
                referrer_channel=None if n % 2 else value,
                browser=value,
                os=None,
                bot_name=value if n % 2 else None,
                country=None if n % 4 else "DE",
                is_bot=n % 2 == 1,
                is_preview=n % 5 == 1,
                visitor_hash=("=" if n % 4 == 1 else "") + f"{n:032x}",
            )
        )
    insert_click_rows(session.connection(), rows)
    session.commit()


def _exported(app: Flask, export_format: str) -> str:
    runtime = app.extensions["linktracker"]
    wait_for_export_horizon(runtime.engine)
    export = ClickExport(limit=1000, include_bots=True)
    with runtime.sessions() as session:
        rows = list(export_rows(session, export))
    if export_format == "csv":
        return "".join(csv_chunks(rows))
    return "".join(ndjson_chunks(rows))


@pytest.mark.usefixtures("awkward_clicks")
@pytest.mark.parametrize("cache_max", [4096, 3])
def test_ndjson_and_csv_are_the_bytes_a_dict_per_click_gave(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, cache_max: int
) -> None:
    # cache_max 3: the remembered cells start afresh many times within the page
    monkeypatch.setattr(click_export, "_CACHE_MAX", cache_max)
    records = _reference(session, ClickExport(include_bots=True))
    assert len(records) == len(AWKWARD) + 1
    assert _exported(app, "ndjson") == _old_ndjson(records)
    assert _exported(app, "csv") == _old_csv(records)
    lines = _exported(app, "ndjson").removesuffix("\n").split("\n")  # not at \u2028
    assert [json.loads(line) for line in lines] == records


def test_a_created_at_stored_in_another_shape_is_still_written_in_utc(
    app: Flask, session: Session
) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite stores created_at as text")
    rep = make_employee(session, handle="rep-a")
    link = make_link(session, make_campaign(session, slug="spring"), rep)
    row = make_click(session, link, at=DAY)
    for stored, written in [
        ("2026-03-10 12:00:00", "2026-03-10T12:00:00+00:00"),
        ("2026-03-10 12:00:00.5", "2026-03-10T12:00:00.500000+00:00"),
        ("2026-03-10T14:00:00+02:00", "2026-03-10T12:00:00+00:00"),
        ("2026-03-10 12:00:00.000001", "2026-03-10T12:00:00.000001+00:00"),
    ]:
        session.execute(
            text("UPDATE clicks SET created_at = :stored WHERE click_id = :id"),
            {"stored": stored, "id": row["click_id"]},
        )
        session.commit()
        [line] = _exported(app, "ndjson").splitlines()
        assert json.loads(line)["created_at"] == written
        assert _exported(app, "csv").splitlines()[1].split(",")[1] == written
