"""`linktracker digest send`: the weekly email, delivered to a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.attribution.services import attribute_records
from linktracker.digest.models import DigestSend
from linktracker.digest.services import week_start_of
from linktracker.digest.smtp import parse_smtp_url
from linktracker.errors import InvalidInput
from linktracker.links.models import Link
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link
from tests.smtp_server import Received, Tls, certificate_authority, free_port, smtp_server

THIS_WEEK = week_start_of(datetime.now(UTC).date()).isoformat()


@pytest.fixture
def mail(app: Flask) -> Iterator[Received]:
    with smtp_server() as (url, received):
        app.config["SMTP_URL"] = url
        yield received


@pytest.fixture
def program(session: Session) -> dict[str, str]:
    """Three employees (one opted out), a campaign made this week, clicks and a lead."""
    ann = make_employee(session, handle="ann", name="Ann Archer", email="ann@example.com")
    bob = make_employee(session, handle="bob", name="Bob Baker", email="bob@example.com")
    out = make_employee(session, handle="out", name="Opted Out", email="out@example.com")
    out.digest_opt_out = True
    session.commit()
    old = make_campaign(session, name="Old news", slug="old-news")
    old.created_at = datetime.now(UTC) - timedelta(days=30)
    session.commit()
    make_link(session, old, ann)
    launch = make_campaign(session, name="Autumn launch", slug="autumn", channels=["linkedin", "x"])
    ann_link = make_link(session, launch, ann)
    bob_link = make_link(session, launch, bob)
    now = datetime.now(UTC)
    click = make_click(session, ann_link, at=now)
    make_click(session, ann_link, at=now, ip="192.0.2.2")
    make_click(session, ann_link, at=now, ip="192.0.2.3")
    make_click(session, bob_link, at=now, ip="192.0.2.4")
    make_crm_record(session, click_id=click["click_id"], created_at=now)
    attribute_records(session)
    return {"ann": ann_link.code, "bob": bob_link.code}


def _send(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(args=["digest", "send", "--week", THIS_WEEK, *args])
    return result.exit_code, result.output


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _html(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def test_the_digest_arrives_with_each_employees_links_figures_and_rank(
    runner: FlaskCliRunner, mail: Received, program: dict[str, str], session: Session
) -> None:
    code, output = _send(runner)
    assert code == 0, output
    assert mail.recipients == ["ann@example.com", "bob@example.com"]
    assert f"week of {THIS_WEEK}: sent 2, failed 0, opted out 1, already sent 0" in output
    (ann,) = mail.to("ann@example.com")
    assert ann["To"] == "Ann Archer <ann@example.com>"
    assert ann["From"] == "linktracker <linktracker@localhost>"
    assert (
        ann["Subject"].startswith("Your advocacy week ")
        and "1 new campaign, 3 clicks" in (ann["Subject"])
    )
    text = _text(ann)
    assert "3 clicks on your links, 1 lead credited to you." in text
    assert "You ranked #1 of 2 active advocates by clicks." in text
    assert "Autumn launch" in text and "Old news" not in text
    assert f"LinkedIn: http://lt.test/{program['ann']}" in text
    x_code = session.scalar(select(Link.code).where(Link.channel == "x", Link.employee_id.in_(
        select(Link.employee_id).where(Link.code == program["ann"]))))  # fmt: skip
    assert f"X: http://lt.test/{x_code}" in text  # made for the digest, so every channel has one
    assert f'href="http://lt.test/{program["ann"]}"' in _html(ann)
    (bob,) = mail.to("bob@example.com")
    assert "1 click on your links, 0 leads credited to you." in _text(bob)
    assert "You ranked #2 of 2" in _text(bob)
    assert f"http://lt.test/{program['bob']}" in _text(bob)
    assert program["ann"] not in _text(bob)
    assert (
        str(bob["List-Unsubscribe"]).strip().startswith("<http://lt.test/app/digest/unsubscribe/")
    )
    assert bob["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sends = session.execute(select(DigestSend.status, func.count()).group_by(DigestSend.status))
    assert dict(sends.all()) == {"sent": 2}


def test_a_week_is_sent_once(
    runner: FlaskCliRunner, mail: Received, program: dict[str, str]
) -> None:
    assert _send(runner)[0] == 0
    code, output = _send(runner)
    assert code == 0
    assert "sent 0, failed 0, opted out 1, already sent 2" in output
    assert len(mail.messages) == 2


def test_a_dry_run_says_who_would_get_what_and_sends_and_records_nothing(
    runner: FlaskCliRunner, mail: Received, program: dict[str, str], session: Session
) -> None:
    code, output = _send(runner, "--dry-run")
    assert code == 0, output
    assert "ann@example.com: 3 click(s), 1 lead(s), rank #1 of 2; 1 new campaign(s)" in output
    assert f"  Autumn launch · LinkedIn: http://lt.test/{program['ann']}" in output
    assert "  Autumn launch · X: (link made when sent)" in output
    assert "out@example.com" not in output
    assert f"dry run, week of {THIS_WEEK}: would send 2, opted out 1, already sent 0" in output
    assert mail.messages == []
    assert session.scalar(select(func.count()).select_from(DigestSend)) == 0
    assert session.scalar(select(func.count()).select_from(Link).where(Link.channel == "x")) == 0


def test_a_refused_recipient_is_reported_the_rest_are_sent_and_the_next_run_retries_it(
    runner: FlaskCliRunner, mail: Received, program: dict[str, str], session: Session
) -> None:
    mail.refuse.add("ann@example.com")
    code, output = _send(runner)
    assert code == 1
    assert "FAILED ann@example.com: recipient refused: 550 5.1.1 No such mailbox here" in output
    assert "sent 1, failed 1" in output
    assert "1 digest(s) could not be sent" in output
    assert mail.recipients == ["bob@example.com"]
    error = session.scalar(select(DigestSend.error).where(DigestSend.status == "failed"))
    assert error is not None and "550" in error
    mail.refuse.clear()
    code, output = _send(runner)
    assert code == 0, output
    assert "sent 1, failed 0, opted out 1, already sent 1" in output
    assert mail.recipients == ["ann@example.com", "bob@example.com"]


def test_an_unreachable_server_fails_every_digest_and_loses_none(
    app: Flask, runner: FlaskCliRunner, program: dict[str, str], session: Session
) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    code, output = _send(runner)
    assert code == 1
    assert "FAILED ann@example.com: ConnectionRefusedError" in output
    assert "FAILED bob@example.com: not tried, connecting to the server failed: Connection" in (
        output
    )
    assert session.scalar(select(func.count()).select_from(DigestSend)) == 1  # ann's failure
    with smtp_server() as (url, received):
        app.config["SMTP_URL"] = url
        assert _send(runner)[0] == 0
    assert received.recipients == ["ann@example.com", "bob@example.com"]


def test_sending_without_smtp_url_is_refused_before_anything_is_recorded(
    runner: FlaskCliRunner, program: dict[str, str], session: Session
) -> None:
    code, output = _send(runner)
    assert code == 1
    assert "SMTP_URL is not set" in output
    assert session.scalar(select(func.count()).select_from(DigestSend)) == 0


def test_the_server_login_comes_from_the_url(
    app: Flask, runner: FlaskCliRunner, program: dict[str, str]
) -> None:
    with smtp_server(password="p@ss:/word") as (url, received):
        app.config["SMTP_URL"] = url.replace("smtp://", "smtp://digest:p%40ss%3A%2Fword@")
        code, output = _send(runner)
    assert code == 0, output
    assert received.logins == ["digest"]  # one connection for both messages
    assert received.recipients == ["ann@example.com", "bob@example.com"]


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_the_digest_is_sent_encrypted_with_starttls_or_implicit_tls(
    app: Flask, runner: FlaskCliRunner, program: dict[str, str], tls: Tls,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    ca = certificate_authority()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with smtp_server(password="secret", tls=tls, ca=ca) as (url, received):
        assert url.startswith("smtps://" if tls == "tls" else "smtp://")
        query = "?starttls=true" if tls == "starttls" else ""
        app.config["SMTP_URL"] = url.replace("://", "://digest:secret@") + query
        code, output = _send(runner)
    assert code == 0, output
    assert received.logins == ["digest"]
    assert received.recipients == ["ann@example.com", "bob@example.com"]


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_a_server_certificate_nobody_vouches_for_is_refused_and_nothing_is_sent(
    app: Flask, runner: FlaskCliRunner, program: dict[str, str], tls: Tls, session: Session
) -> None:
    with smtp_server(password="secret", tls=tls) as (url, received):
        query = "?starttls=true" if tls == "starttls" else ""
        app.config["SMTP_URL"] = url.replace("://", "://digest:secret@") + query
        code, output = _send(runner)
    assert code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in output or "certificate verify failed" in output
    assert received.messages == [] and received.logins == []
    # Every digest is still owed: the next run with a trusted server sends them.
    sent = select(func.count()).select_from(DigestSend).where(DigestSend.status == "sent")
    assert session.scalar(sent) == 0


def test_without_starttls_a_server_that_requires_it_refuses_the_login(
    app: Flask, runner: FlaskCliRunner, program: dict[str, str]
) -> None:
    with smtp_server(password="secret", tls="starttls") as (url, received):
        app.config["SMTP_URL"] = url.replace("://", "://digest:secret@")
        code, output = _send(runner)
    assert code == 1
    assert "FAILED ann@example.com: SMTPNotSupportedError: SMTP AUTH extension not supported" in (
        output
    )
    assert "FAILED bob@example.com: not tried, connecting to the server failed: SMTPNot" in output
    assert received.messages == [] and received.logins == []


def test_the_unsubscribe_link_turns_the_digest_off(
    runner: FlaskCliRunner, client: FlaskClient, mail: Received, program: dict[str, str],
    session: Session,
) -> None:  # fmt: skip
    _send(runner)
    (bob,) = mail.to("bob@example.com")
    link = str(bob["List-Unsubscribe"]).strip().strip("<>").removeprefix("http://lt.test")
    page = client.get(link)
    assert page.status_code == 200 and "Unsubscribe from the weekly digest?" in page.text
    done = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    next_week = (week_start_of(datetime.now(UTC).date()) + timedelta(days=7)).isoformat()
    result = runner.invoke(args=["digest", "send", "--week", next_week])
    assert "sent 1, failed 0, opted out 2" in result.output
    assert mail.recipients == ["ann@example.com", "ann@example.com", "bob@example.com"]
    forged = client.post(link[:-3] + "abc")
    assert forged.status_code == 404


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.test", ("mail.test", 25, "none", None, None)),
        ("smtp://u:p%40x@mail.test:587?starttls=true", ("mail.test", 587, "starttls", "u", "p@x")),
        ("smtps://u:p@mail.test", ("mail.test", 465, "tls", "u", "p")),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.security, s.username, s.password) == expected
    assert "p@x" not in s.describe() and "p" not in s.describe().split("@")[0][2:]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "SMTP_URL is not set"),
        ("http://mail.test", "must start with smtp:// or smtps://"),
        ("smtp://mail.test:99999", "invalid port"),
        ("smtp://", "names no host"),
        ("smtps://mail.test?starttls=true", "already speaks TLS"),
    ],
)
def test_bad_smtp_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_smtp_url(url)


def test_the_digest_carries_the_post_text_and_leaves_out_ranks_the_program_hides(
    app: Flask, runner: FlaskCliRunner, mail: Received, program: dict[str, str], session: Session
) -> None:
    from linktracker.campaigns.post_texts import PostTextInput
    from linktracker.campaigns.services import set_post_texts
    from linktracker.settings.services import save_settings

    set_post_texts(
        session,
        "autumn",
        [PostTextInput("x", "Short for X"), PostTextInput(None, "Our autumn launch is here.")],
    )
    save_settings(session, {"show_ranks": "off"})
    code, output = _send(runner)
    assert code == 0, output
    (ann,) = mail.to("ann@example.com")
    text = _text(ann).replace("\r\n", "\n")
    assert "Autumn launch\n  Our autumn launch is here.\n" in text
    assert "Our autumn launch is here." in _html(ann)
    assert "ranked" not in text and "ranked" not in _html(ann)
