"""click.created events come from the stored clicks: a replayed click has one, a crash between
a click and its event loses none, and the workers' rounds share one cursor."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.clicks.spool import replay_spool
from linktracker.webhooks.models import Webhook
from linktracker.webhooks.services import create_webhook, deliver_due
from tests.export_horizon import wait_for_export_horizon
from tests.factories import CHROME, make_link
from tests.reliability.clicks import spool_line
from tests.webhook_receiver import Receiver, webhook_receiver


@pytest.fixture
def config(config: dict[str, object]) -> dict[str, object]:
    return config | {"WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def _subscribe(session: Session, url: str) -> None:
    create_webhook(session, url=url, events=["click.created"], allow_private=True)


def _round(app: Flask) -> None:
    """One delivery round, as the serving process's thread and `webhooks deliver` run it."""
    runtime = app.extensions["linktracker"]
    wait_for_export_horizon(runtime.engine)
    runtime.click_events.queue()
    deliver_due(runtime.sessions, allow_private=True, timeout=5)


def _sent(receiver: Receiver) -> list[str]:
    return sorted(
        click["click_id"]
        for request in receiver.requests
        for click in json.loads(request.body)["data"]["clicks"]
    )


def test_a_replayed_spool_click_produces_click_created(
    app: Flask, session: Session, engine: Engine, receiver: Receiver, tmp_path: Path
) -> None:
    link = make_link(session)
    _subscribe(session, receiver.url)
    # A process spooled two clicks during an outage and was killed; a replay stores them.
    (tmp_path / "clicks-1-1.jsonl").write_text(
        spool_line(link, "spooled-0") + spool_line(link, "spooled-1")
    )
    assert replay_spool(engine, tmp_path).inserted == 2
    _round(app)
    assert _sent(receiver) == ["spooled-0", "spooled-1"]
    _round(app)  # nothing twice
    assert _sent(receiver) == ["spooled-0", "spooled-1"]


def test_stored_clicks_get_their_events_after_a_crash_before_any_round(
    app: Flask, config: dict[str, object], session: Session, receiver: Receiver
) -> None:
    link = make_link(session)
    _subscribe(session, receiver.url)
    runtime = app.extensions["linktracker"]
    runtime.deliverer.poll_seconds = 3600  # its first round runs now, the next one never
    runtime.start_serving()
    deadline = time.monotonic() + 10
    while session.scalar(select(Webhook.click_after_id)) is None:  # its first round is done
        assert time.monotonic() < deadline
        session.rollback()
        time.sleep(0.02)
    client = app.test_client()
    for _ in range(3):
        assert client.get(f"/{link.code}", headers={"User-Agent": CHROME}).status_code == 302
    assert runtime.recorder.flush()
    # The process dies here, its clicks stored, before its delivery thread's next round (it
    # is never stopped: a hard crash). Another process's round sends their events.
    restarted = create_app(config)
    try:
        _round(restarted)
    finally:
        restarted.extensions["linktracker"].dispose()
    assert len(_sent(receiver)) == 3


def test_every_worker_shares_the_cursor_and_sends_each_click_once(
    app: Flask, config: dict[str, object], session: Session, engine: Engine,
    receiver: Receiver, tmp_path: Path,
) -> None:  # fmt: skip
    link = make_link(session)
    _subscribe(session, receiver.url)
    lines = "".join(spool_line(link, f"c-{n:04}") for n in range(1200))
    (tmp_path / "clicks-1-1.jsonl").write_text(lines)
    replay_spool(engine, tmp_path)
    other = create_app(config)  # a second worker
    try:
        wait_for_export_horizon(engine)
        # The first worker's round covers every click; the second finds nothing left.
        first = app.extensions["linktracker"].click_events.queue()
        second = other.extensions["linktracker"].click_events.queue()
        assert (first, second) == (1200, 0)
        _round(other)
    finally:
        other.extensions["linktracker"].dispose()
    assert _sent(receiver) == [f"c-{n:04}" for n in range(1200)]
    sizes = sorted(len(json.loads(r.body)["data"]["clicks"]) for r in receiver.requests)
    assert sizes == [200, 1000]  # up to 1,000 clicks an event


def test_the_deliver_command_sends_the_events_of_clicks_stored_since(
    app: Flask, session: Session, engine: Engine, receiver: Receiver, tmp_path: Path
) -> None:
    link = make_link(session)
    _subscribe(session, receiver.url)
    (tmp_path / "clicks-1-1.jsonl").write_text(spool_line(link, "by-cron"))
    replay_spool(engine, tmp_path)
    wait_for_export_horizon(engine)
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert "delivered 1," in result.output
    assert _sent(receiver) == ["by-cron"]
