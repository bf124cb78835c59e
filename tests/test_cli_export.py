"""`linktracker export clicks`: the whole table through pages, to a file or standard output."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from linktracker.cli import export as export_cli
from linktracker.clicks import export as click_export
from linktracker.clicks.services import insert_click_rows
from tests.export_horizon import wait_for_export_horizon
from tests.factories import make_campaign, make_click, make_employee, make_link

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _clicks(session: Session, count: int) -> list[dict[str, Any]]:
    """`count` clicks on one link, one made through the factory and the rest as copies."""
    link = make_link(session, make_campaign(session, slug="spring"), make_employee(session))
    first = make_click(session, link, at=DAY)
    rows = [
        dict(first, click_id=f"{first['click_id'][:7]}{i:016d}", created_at=DAY + timedelta(i))
        for i in range(count - 1)
    ]
    insert_click_rows(session.connection(), rows)
    session.commit()
    wait_for_export_horizon(session.get_bind())
    return [first, *rows]


def test_export_writes_every_click_once_across_pages_to_a_file(
    app: Flask, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(click_export, "MAX_LIMIT", 7)  # several pages from a few clicks
    made = _clicks(session, 30)
    target = tmp_path / "clicks.ndjson"
    result = app.test_cli_runner().invoke(args=["export", "clicks", "--output", str(target)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [line["click_id"] for line in lines] == [row["click_id"] for row in made]
    last = made[-1]["click_id"]
    assert f"Exported 30 click(s) to {target}. Last click id: {last}" in result.stderr
    assert list(tmp_path.iterdir()) == [target]  # no partial file left beside it


def test_export_continues_after_a_click_and_filters_like_the_api(
    app: Flask, session: Session
) -> None:
    made = _clicks(session, 5)
    link = make_link(session, make_campaign(session, slug="autumn"), make_employee(session))
    bot = make_click(session, link, at=DAY, user_agent=GOOGLEBOT)
    wait_for_export_horizon(session.get_bind())
    runner = app.test_cli_runner()
    after = runner.invoke(args=["export", "clicks", "--after", made[1]["click_id"]])
    assert after.exit_code == 0, after.output
    ids = [json.loads(line)["click_id"] for line in after.stdout.splitlines()]
    assert ids == [row["click_id"] for row in made[2:]]
    bots = runner.invoke(args=["export", "clicks", "--campaign", "autumn", "--include-bots"])
    assert [json.loads(line)["click_id"] for line in bots.stdout.splitlines()] == [bot["click_id"]]
    people = runner.invoke(args=["export", "clicks", "--campaign", "autumn"])
    assert people.stdout == ""
    assert "No clicks to export (to standard output)." in people.stderr
    days = runner.invoke(args=["export", "clicks", "--from", "2026-03-11", "--to", "2026-03-12"])
    assert [json.loads(line)["click_id"] for line in days.stdout.splitlines()] == [
        made[2]["click_id"],
        made[3]["click_id"],
    ]


def test_csv_export_has_one_header_for_all_pages(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(click_export, "MAX_LIMIT", 2)
    made = _clicks(session, 5)
    result = app.test_cli_runner().invoke(args=["export", "clicks", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == list(click_export.FIELDS)
    assert [row[0] for row in table[1:]] == [row["click_id"] for row in made]


def test_progress_shows_on_stderr_during_a_long_export(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(click_export, "MAX_LIMIT", 2)
    monkeypatch.setattr(export_cli, "PROGRESS_SECONDS", 0.0)
    _clicks(session, 5)
    result = app.test_cli_runner().invoke(args=["export", "clicks"])
    assert "2 clicks exported" in result.stderr
    assert "4 clicks exported" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--after", "no-such-click"], "after: No click has the id 'no-such-click'"),
        (["--from", "2026-02-30"], "from: Use a date as YYYY-MM-DD."),
        (["--campaign", "nope"], "campaign: No campaign with slug 'nope'."),
        (["--employee", "nobody"], "employee: No employee with handle 'nobody'."),
    ],
)
def test_bad_options_end_the_command_before_any_file_is_written(
    app: Flask, session: Session, tmp_path: Path, args: list[str], message: str
) -> None:
    _clicks(session, 2)
    target = tmp_path / "clicks.ndjson"
    result = app.test_cli_runner().invoke(args=["export", "clicks", "--output", str(target), *args])
    assert result.exit_code == 1
    assert "The click export's parameters are invalid." in result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_export_failing_midway_leaves_no_file(
    app: Flask, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(click_export, "MAX_LIMIT", 2)
    _clicks(session, 5)
    real = click_export.export_chunks
    pages = iter(range(100))

    def failing(*args: Any, **kwargs: Any) -> Any:
        if next(pages) == 1:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(click_export, "export_chunks", failing)
    target = tmp_path / "clicks.ndjson"
    target.write_text("yesterday's export\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["export", "clicks", "--output", str(target)])
    assert result.exit_code == 1
    assert isinstance(result.exception, OSError)
    assert target.read_text(encoding="utf-8") == "yesterday's export\n"
    assert list(tmp_path.iterdir()) == [target]
