"""Links: idempotent creation, bulk creation, collision-safe codes, vanity slugs."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.errors import Conflict, Forbidden, InvalidInput
from linktracker.links.models import Link
from linktracker.links.services import create_campaign_links, get_or_create_link
from tests.factories import ALLOWED, make_campaign, make_employee


def _link(session: Session, campaign_slug: str, handle: str, channel: str = "linkedin", **kw):  # type: ignore[no-untyped-def]
    return get_or_create_link(
        session, campaign_slug=campaign_slug, employee_handle=handle, channel=channel,
        medium="social", allowed_domains=ALLOWED, **kw,
    )  # fmt: skip


def test_link_destination_carries_the_utm_template(session: Session) -> None:
    campaign = make_campaign(
        session, slug="spring-launch", destination_url="https://www.example.com/p?ref=a#top",
        utm_id="c-42",
    )  # fmt: skip
    employee = make_employee(session, handle="rep-1")
    link = _link(session, campaign.slug, employee.handle).link
    parts = urlsplit(link.destination_url)
    assert parts.fragment == "top"
    assert parse_qs(parts.query) == {
        "ref": ["a"], "utm_source": ["linkedin"], "utm_medium": ["social"],
        "utm_campaign": ["spring-launch"], "utm_content": ["rep-1"], "utm_id": ["c-42"],
    }  # fmt: skip
    assert len(link.code) == 7


def test_asking_again_returns_the_same_link(session: Session) -> None:
    campaign, employee = make_campaign(session), make_employee(session)
    first = _link(session, campaign.slug, employee.handle)
    second = _link(session, campaign.slug, employee.handle)
    assert first.created and not second.created
    assert first.link.id == second.link.id
    assert session.scalar(select(func.count(Link.id))) == 1


def test_first_link_marks_the_employee_joined(session: Session) -> None:
    campaign, employee = make_campaign(session), make_employee(session)
    assert employee.joined_at is None
    _link(session, campaign.slug, employee.handle)
    session.refresh(employee)
    assert employee.joined_at is not None


def test_channel_not_enabled_is_refused(session: Session) -> None:
    campaign = make_campaign(session, channels=["linkedin"])
    employee = make_employee(session)
    with pytest.raises(InvalidInput) as info:
        _link(session, campaign.slug, employee.handle, channel="facebook")
    assert "not enabled" in info.value.message
    assert "channel" in info.value.fields


def test_code_collisions_are_retried(session: Session) -> None:
    campaign = make_campaign(session)
    a, b = make_employee(session), make_employee(session)
    _link(session, campaign.slug, a.handle, make_code=lambda: "SAMECODE")
    codes = iter(["SAMECODE", "SAMECODE", "FRESH01"])
    link = _link(session, campaign.slug, b.handle, make_code=lambda: next(codes)).link
    assert link.code == "FRESH01"


def test_code_collisions_that_never_end_fail_cleanly(session: Session) -> None:
    campaign = make_campaign(session)
    a, b = make_employee(session), make_employee(session)
    _link(session, campaign.slug, a.handle, make_code=lambda: "SAMECODE")
    with pytest.raises(Conflict, match="free short code"):
        _link(session, campaign.slug, b.handle, make_code=lambda: "SAMECODE")
    assert session.scalar(select(func.count(Link.id))) == 1


@pytest.mark.parametrize("slug", ["app", "API", "static", "healthz", "ab", "has space", "-x-"])
def test_vanity_slug_clashing_with_routes_or_invalid_is_refused(
    session: Session, slug: str
) -> None:
    campaign, employee = make_campaign(session), make_employee(session)
    with pytest.raises(InvalidInput):
        _link(session, campaign.slug, employee.handle, vanity=slug, chosen_by="marketer")
    assert session.scalar(select(func.count(Link.id))) == 0


def test_vanity_slug_already_used_is_refused(session: Session) -> None:
    campaign = make_campaign(session)
    a, b = make_employee(session), make_employee(session)
    made = _link(session, campaign.slug, a.handle, vanity="spring-sale", chosen_by="admin")
    assert made.link.code == "spring-sale" and made.link.vanity
    with pytest.raises(Conflict, match="already in use"):
        _link(session, campaign.slug, b.handle, vanity="spring-sale", chosen_by="admin")


@pytest.mark.parametrize("role", ["employee", "sales_ops", None])
def test_only_marketers_and_admins_choose_custom_codes(session: Session, role: str | None) -> None:
    campaign, employee = make_campaign(session), make_employee(session)
    with pytest.raises(Forbidden) as excinfo:
        _link(session, campaign.slug, employee.handle, vanity="pricing", chosen_by=role)
    assert excinfo.value.message == (
        "Custom short codes (such as /pricing) are chosen by marketers and admins only; "
        "leave the code out and your link gets a random one."
    )
    assert session.scalar(select(func.count(Link.id))) == 0
    # The same employee still gets a link, with a random code.
    assert _link(session, campaign.slug, employee.handle, chosen_by=role).link.code != "pricing"


def test_bulk_creation_makes_every_missing_link_once(session: Session) -> None:
    campaign = make_campaign(session, channels=["linkedin", "x"])
    employees = [make_employee(session) for _ in range(5)]
    make_employee(session).active = False
    session.commit()
    _link(session, campaign.slug, employees[0].handle, channel="x")
    result = create_campaign_links(
        session, campaign_slug=campaign.slug, medium="social", allowed_domains=ALLOWED
    )
    assert (result.created, result.existing) == (9, 1)
    again = create_campaign_links(
        session, campaign_slug=campaign.slug, medium="social", allowed_domains=ALLOWED
    )
    assert again.created == 0
    assert session.scalar(select(func.count(Link.id))) == 10


def test_bulk_creation_survives_code_collisions(session: Session) -> None:
    campaign = make_campaign(session, channels=["linkedin"])
    for _ in range(3):
        make_employee(session)
    counter = itertools.count()
    # The first batch collides with itself; the retry gets distinct codes.
    codes = itertools.chain(["DUP", "DUP", "DUP"], (f"C{next(counter):05d}" for _ in iter(int, 1)))
    result = create_campaign_links(
        session, campaign_slug=campaign.slug, medium="social", allowed_domains=ALLOWED,
        make_code=lambda: next(codes),
    )  # fmt: skip
    assert result.created == 3
    assert len(set(session.scalars(select(Link.code)))) == 3


def test_disabled_campaign_makes_no_new_links(session: Session) -> None:
    from linktracker.campaigns.services import set_campaign_active

    campaign, employee = make_campaign(session), make_employee(session)
    set_campaign_active(session, campaign.id, False)
    with pytest.raises(Conflict, match="disabled"):
        _link(session, campaign.slug, employee.handle)


def test_an_employee_s_links_are_those_of_the_campaigns_running_on_the_given_day(
    session: Session,
) -> None:
    from datetime import date

    from linktracker.links.employee_links import list_employee_links, make_employee_links

    me = make_employee(session)
    day = date(2026, 3, 10)
    running = make_campaign(session, channels=["x"], starts_on=day, ends_on=day)
    make_campaign(session, channels=["x"], ends_on=date(2026, 3, 9))
    later = make_campaign(session, channels=["x"], starts_on=date(2026, 3, 11))
    options = {"medium": "social", "allowed_domains": ALLOWED}

    listed = list_employee_links(session, me, today=day, **options)
    assert [(e.campaign.id, e.missing) for e in listed] == [(running.id, ["x"])]
    assert session.scalar(select(func.count()).select_from(Link)) == 0  # listing writes nothing
    assert make_employee_links(session, me, today=day, **options) == (1, [])
    assert make_employee_links(session, me, today=day, **options) == (0, [])
    listed = list_employee_links(session, me, today=day, **options)
    assert [c.link is not None for c in listed[0].channels] == [True]
    next_day = list_employee_links(session, me, today=date(2026, 3, 11), **options)
    assert [e.campaign.id for e in next_day] == [later.id]
