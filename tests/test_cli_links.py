"""`linktracker links …`: a campaign's links made, one link disabled and enabled again."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.links.models import Link
from tests.factories import make_campaign, make_employee, make_link


def _links(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Link)) or 0


def test_links_generate_makes_every_missing_link_once(app: Flask, session: Session) -> None:
    campaign = make_campaign(session, channels=["linkedin", "email"])
    make_employee(session)
    make_employee(session)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["links", "generate", campaign.slug])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "created 4, already there 0"
    again = runner.invoke(args=["links", "generate", campaign.slug])
    assert again.output.strip() == "created 0, already there 4"
    assert _links(session) == 4


def test_links_generate_names_an_unknown_campaign_and_makes_nothing(
    app: Flask, session: Session
) -> None:
    make_employee(session)
    result = app.test_cli_runner().invoke(args=["links", "generate", "no-such-campaign"])
    assert result.exit_code == 1
    assert "No campaign with slug 'no-such-campaign'" in result.output
    assert _links(session) == 0


def test_links_disable_and_enable(app: Flask, session: Session) -> None:
    link = make_link(session)
    runner = app.test_cli_runner()
    disabled = runner.invoke(args=["links", "disable", link.code])
    assert disabled.exit_code == 0 and disabled.output.strip().endswith(f"/{link.code} disabled")
    assert app.test_client().get(f"/{link.code}").status_code == 410
    enabled = runner.invoke(args=["links", "enable", link.code])
    assert enabled.exit_code == 0 and enabled.output.strip().endswith(f"/{link.code} enabled")
    session.expire_all()
    assert session.get(Link, link.id).disabled is False
    unknown = runner.invoke(args=["links", "disable", "NOPE123"])
    assert unknown.exit_code == 1 and "No link with code 'NOPE123'." in unknown.output
