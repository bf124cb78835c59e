"""Outbound webhooks through the API, the CLI and the delivery service, against a real
receiver on loopback; signatures checked with the standardwebhooks package."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook as StandardWebhook

from linktracker import create_app
from linktracker.db import utcnow
from linktracker.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from linktracker.webhooks.services import deliver_due, enqueue_event
from tests.export_horizon import wait_for_export_horizon
from tests.factories import CHROME, make_campaign, make_employee, make_link
from tests.webhook_receiver import Receiver, webhook_receiver

Headers = Callable[..., dict[str, str]]
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def config(config: dict[str, object]) -> dict[str, object]:
    return config | {"WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def _create(client: FlaskClient, headers: Headers, url: str, events: list[str], **more: Any):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/webhooks", json={"url": url, "events": events, **more}, headers=headers()
    )


def _deliver(app: Flask, **kwargs: Any):  # type: ignore[no-untyped-def]
    runtime = app.extensions["linktracker"]
    wait_for_export_horizon(runtime.engine)  # PostgreSQL: clicks still held back by others
    runtime.click_events.queue()  # as each round of the delivery thread and the CLI does
    return deliver_due(runtime.sessions, allow_private=True, timeout=5, **kwargs)


def _verified(secret: str, request: Any) -> dict[str, Any]:
    """The payload, once the independent implementation accepted its signature."""
    return StandardWebhook(secret).verify(request.body, request.headers)  # type: ignore[no-any-return]


def test_an_admin_registers_a_webhook_and_gets_its_signing_secret(
    client: FlaskClient, api_headers: Headers, receiver: Receiver
) -> None:
    response = _create(client, api_headers, receiver.url, ["deal.won", "import.finished"])
    assert response.status_code == 201
    body = response.get_json()
    assert body["url"] == receiver.url
    assert body["events"] == ["deal.won", "import.finished"]
    assert body["secret"].startswith("whsec_")
    listed = client.get("/api/v1/webhooks", headers=api_headers()).get_json()["webhooks"]
    assert [hook["id"] for hook in listed] == [body["id"]]
    assert "secret" not in listed[0]
    listing = client.application.test_cli_runner().invoke(args=["webhooks", "list"])
    assert listing.output == f"{body['id']}\t{receiver.url}\tdeal.won,import.finished\n"
    assert client.delete(f"/api/v1/webhooks/{body['id']}", headers=api_headers()).status_code == 204
    assert client.get("/api/v1/webhooks", headers=api_headers()).get_json()["webhooks"] == []
    gone = client.delete(f"/api/v1/webhooks/{body['id']}", headers=api_headers())
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"events": ["deal.won"]}, "url", "'url' is required."),
        ({"url": "ftp://93.184.216.34/x", "events": ["deal.won"]}, "url", "http:// or https://"),
        ({"url": "https://93.184.216.34/x", "events": []}, "events", "non-empty list"),
        ({"url": "https://93.184.216.34/x", "events": ["deal.lost"]}, "events", "'deal.lost'"),
        (
            {"url": "https://93.184.216.34/x", "events": ["deal.won"], "include_bots": "y"},
            "include_bots",
            "true or false",
        ),
    ],
)
def test_a_webhook_with_bad_fields_is_refused_and_nothing_is_stored(
    client: FlaskClient, api_headers: Headers, session: Session, payload: dict[str, Any],
    field: str, message: str,
) -> None:  # fmt: skip
    response = client.post("/api/v1/webhooks", json=payload, headers=api_headers())
    assert response.status_code == 422
    assert message in response.get_json()["error"]
    assert field in response.get_json()["fields"]
    assert session.scalar(select(func.count()).select_from(Webhook)) == 0


@pytest.mark.parametrize(
    ("url", "shown", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1", "a loopback address"),
        ("http://10.1.2.3/hook", "10.1.2.3", "a private address"),
        ("http://192.168.0.10/hook", "192.168.0.10", "a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254", "a link-local address"),
        ("http://[::1]/hook", "::1", "a loopback address"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1", "a loopback address"),
        ("http://0.0.0.0/hook", "0.0.0.0", "a reserved address"),
        ("http://localhost:9/hook", "localhost (", "a loopback address"),
    ],
)
def test_webhooks_to_loopback_private_and_link_local_addresses_are_refused(
    app: Flask, client: FlaskClient, api_headers: Headers, session: Session,
    url: str, shown: str, reason: str,
) -> None:  # fmt: skip
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    response = _create(client, api_headers, url, ["deal.won"])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert f"The webhook URL points to {shown}" in error
    assert reason in error
    assert "WEBHOOK_ALLOW_PRIVATE=true" in error
    assert session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_a_public_address_is_accepted_without_the_private_setting(
    app: Flask, client: FlaskClient, api_headers: Headers
) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    assert _create(client, api_headers, "https://93.184.216.34/x", ["deal.won"]).status_code == 201


def test_only_admins_manage_webhooks(client: FlaskClient, api_headers: Headers) -> None:
    response = _create(
        client, lambda: api_headers("marketer"), "https://93.184.216.34/", ["deal.won"]
    )
    assert response.status_code == 403


def _import_csv(client: FlaskClient, headers: dict[str, str], data: bytes) -> dict[str, Any]:
    response = client.post(
        "/api/v1/crm/imports",
        data={"file": (io.BytesIO(data), "deals.csv"), "source": "hubspot"},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_a_finished_import_reaches_the_receiver_signed_the_standard_way(
    app: Flask, client: FlaskClient, api_headers: Headers, receiver: Receiver
) -> None:
    secret = _create(client, api_headers, receiver.url, ["import.finished"]).get_json()["secret"]
    summary = _import_csv(client, api_headers(), b"Record ID,Create Date\n1,2026-10-01\n")
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "delivered 1, to retry 0, given up 0"
    [request] = receiver.requests
    assert request.path == "/hooks/lt"
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["webhook-signature"].startswith("v1,")
    event = _verified(secret, request)
    assert event["type"] == "import.finished"
    assert event["data"]["import"]["id"] == summary["id"]
    assert event["data"]["import"]["inserted"] == 1
    # A tampered body fails the same check.
    tampered = type(request)(request.path, request.headers, request.body + b" ", 204)
    with pytest.raises(Exception, match="No matching signature"):
        _verified(secret, tampered)


def test_a_receiver_failing_three_times_gets_the_event_once_across_a_restart(
    app: Flask, config: dict[str, object], client: FlaskClient, api_headers: Headers
) -> None:
    with webhook_receiver(fail_first=3) as receiver:
        created = _create(client, api_headers, receiver.url, ["import.finished"]).get_json()
        _import_csv(client, api_headers(), b"Record ID,Create Date\n1,2026-10-01\n")
        start = utcnow()
        assert _deliver(app, now=start).retrying == 1
        assert _deliver(app, now=start).attempted == 0  # not due yet: backoff
        assert _deliver(app, now=start + timedelta(hours=1)).retrying == 1
        # The server stops; a new one (a new app on the same database) carries on.
        app.extensions["linktracker"].dispose()
        restarted = create_app(config)
        try:
            assert _deliver(restarted, now=start + timedelta(hours=2)).retrying == 1
            assert _deliver(restarted, now=start + timedelta(hours=3)).delivered == 1
            assert _deliver(restarted, now=start + timedelta(hours=4)).attempted == 0
            log = restarted.test_client().get(
                f"/api/v1/webhooks/{created['id']}/deliveries", headers=api_headers()
            )
        finally:
            restarted.extensions["linktracker"].dispose()
    assert [r.answered for r in receiver.requests] == [500, 500, 500, 204]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    for request in receiver.requests:
        assert _verified(created["secret"], request)["type"] == "import.finished"
    [delivery] = log.get_json()["deliveries"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 4
    assert delivery["webhook_message_id"] == receiver.requests[0].headers["webhook-id"]
    assert [a["response_code"] for a in delivery["attempt_log"]] == [500, 500, 500, 204]
    assert delivery["attempt_log"][0]["error"] == "HTTP 500"
    assert delivery["next_attempt_at"] is None


def test_a_delivery_is_given_up_after_a_day_of_failures(
    app: Flask, client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    with webhook_receiver(fail_first=100) as receiver:
        _create(client, api_headers, receiver.url, ["import.finished"])
        _import_csv(client, api_headers(), b"Record ID,Create Date\n1,2026-10-01\n")
        start = utcnow()
        assert _deliver(app, now=start + timedelta(hours=20)).retrying == 1
        assert _deliver(app, now=start + timedelta(hours=25)).failed == 1
        assert _deliver(app, now=start + timedelta(hours=50)).attempted == 0
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 2, 500)


def test_an_address_that_turns_private_is_refused_at_send_time(
    app: Flask, client: FlaskClient, api_headers: Headers, receiver: Receiver, session: Session
) -> None:
    _create(client, api_headers, receiver.url, ["import.finished"])
    _import_csv(client, api_headers(), b"Record ID,Create Date\n1,2026-10-01\n")
    runtime = app.extensions["linktracker"]
    run = deliver_due(runtime.sessions, allow_private=False, timeout=5)
    assert run.retrying == 1
    assert receiver.requests == []
    attempt = session.scalars(select(WebhookAttempt)).one()
    assert attempt.response_code is None
    assert attempt.error is not None
    assert "points to 127.0.0.1, a loopback address" in attempt.error


def _click(client: FlaskClient, code: str, agent: str) -> None:
    assert client.get(f"/{code}", headers={"User-Agent": agent}).status_code == 302


@pytest.mark.parametrize("include_bots", [False, True])
def test_clicks_reach_the_receiver_in_batches_humans_only_unless_asked(
    app: Flask, client: FlaskClient, api_headers: Headers, receiver: Receiver,
    session: Session, include_bots: bool,
) -> None:  # fmt: skip
    employee = make_employee(session)
    campaign = make_campaign(session)
    link = make_link(session, campaign, employee)
    created = _create(
        client, api_headers, receiver.url, ["click.created"], include_bots=include_bots
    ).get_json()
    _click(client, link.code, CHROME)
    _click(client, link.code, BOT)
    _click(client, link.code, CHROME)
    assert app.extensions["linktracker"].recorder.flush()
    _deliver(app)
    clicks = [
        click
        for request in receiver.requests
        for click in _verified(created["secret"], request)["data"]["clicks"]
    ]
    assert len(clicks) == (3 if include_bots else 2)
    assert {c["is_bot"] for c in clicks} == ({False, True} if include_bots else {False})
    assert all(datetime.fromisoformat(c["created_at"]).utcoffset() == timedelta(0) for c in clicks)
    assert {(c["link"], c["campaign"], c["employee"]) for c in clicks} == {
        (link.code, campaign.slug, employee.handle)
    }


def test_attributed_leads_and_won_deals_are_sent_once(
    app: Flask, client: FlaskClient, api_headers: Headers, receiver: Receiver, session: Session
) -> None:
    employee = make_employee(session)
    secret = _create(client, api_headers, receiver.url, ["lead.attributed", "deal.won"]).get_json()[
        "secret"
    ]
    csv = (
        "Record ID,Create Date,Deal Stage,Amount,UTM Content\n"
        f"1,2026-10-01,closedwon,1200,{employee.handle}\n"
        "2,2026-10-02,closedwon,300,\n"
        f"3,2026-10-03,appointmentscheduled,,{employee.handle}\n"
    ).encode()
    _import_csv(client, api_headers(), csv)
    _import_csv(client, api_headers(), csv)  # unchanged: nothing new to tell
    _deliver(app)
    events = sorted(
        (e["type"], e["data"]["record"]["external_id"])
        for e in (_verified(secret, r) for r in receiver.requests)
    )
    assert events == [
        ("deal.won", "1"),
        ("deal.won", "2"),
        ("lead.attributed", "1"),
        ("lead.attributed", "3"),
    ]
    lead = next(
        e for e in (_verified(secret, r) for r in receiver.requests)
        if e["type"] == "lead.attributed" and e["data"]["record"]["external_id"] == "1"
    )  # fmt: skip
    assert lead["data"]["attribution"]["method"] == "utm"
    assert lead["data"]["attribution"]["employee"]["handle"] == employee.handle
    assert lead["data"]["record"]["won"] is True


def test_a_serving_process_delivers_continuously(
    app: Flask, client: FlaskClient, api_headers: Headers, receiver: Receiver, session: Session
) -> None:
    _create(client, api_headers, receiver.url, ["import.finished"])
    runtime = app.extensions["linktracker"]
    runtime.deliverer.poll_seconds = 0.1
    runtime.start_serving()
    enqueue_event(session, "import.finished", {"import": {"id": 1}})
    session.commit()
    [request] = receiver.wait_for(1)
    assert json.loads(request.body)["data"] == {"import": {"id": 1}}


def test_the_delivery_log_page_shows_status_attempts_and_next_retry(
    app: Flask, client: FlaskClient, api_headers: Headers, sign_in: Any
) -> None:
    with webhook_receiver(fail_first=1) as receiver:
        _create(client, api_headers, receiver.url, ["import.finished"])
        _import_csv(client, api_headers(), b"Record ID,Create Date\n1,2026-10-01\n")
        _deliver(app)
    page = sign_in("admin").get("/app/webhooks/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert receiver.url in html
    assert "import.finished" in html
    assert "status-pending" in html
    assert ">500<" in html
