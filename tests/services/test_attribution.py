"""Attribution: click id, then UTM with a window, else the baseline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linktracker.attribution.services import AttributionSummary, attribute_records
from linktracker.clicks.models import Click
from linktracker.crm.models import CrmRecord
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LINKEDINBOT = (
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
)


def _pk(session: Session, row: dict[str, Any]) -> int:
    return session.scalar(select(Click.id).where(Click.click_id == row["click_id"])) or 0


def _result(session: Session, record: CrmRecord) -> tuple[Any, ...]:
    session.expire_all()
    r = session.get(CrmRecord, record.id)
    assert r is not None
    return (r.attribution_method, r.employee_id, r.campaign_id, r.attributed_click_id,
            r.seconds_from_click)  # fmt: skip


@pytest.fixture
def rep(session: Session) -> Link:
    employee = make_employee(session, handle="rep-a")
    campaign = make_campaign(session, slug="spring")
    return make_link(session, campaign, employee)


def test_click_id_column_credits_the_click_its_rep_and_campaign(
    session: Session, rep: Link
) -> None:
    click = make_click(session, rep, at=T0)
    record = make_crm_record(
        session, click_id=click["click_id"], created_at=T0 + timedelta(hours=1)
    )
    summary = attribute_records(session)
    assert summary == AttributionSummary(records=1, click_id=1, utm=0, utm_without_click=0, none=0)
    assert _result(session, record) == (
        "click_id",
        rep.employee_id,
        rep.campaign_id,
        _pk(session, click),
        3600,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/landing?lt_cid={cid}",
        "https://www.example.com/landing?utm_source=x&lt_cid={cid}&b=2",
        "https://www.example.com/landing?a=1&lt_cid={cid}#form",
    ],
)
def test_click_id_inside_the_landing_url_is_used(session: Session, rep: Link, url: str) -> None:
    click = make_click(session, rep, at=T0)
    record = make_crm_record(session, landing_url=url.format(cid=click["click_id"]),
                             created_at=T0 + timedelta(minutes=5))  # fmt: skip
    attribute_records(session)
    assert _result(session, record)[0:4] == (
        "click_id",
        rep.employee_id,
        rep.campaign_id,
        _pk(session, click),
    )


def test_a_configured_click_id_parameter_name_is_honoured(session: Session, rep: Link) -> None:
    click = make_click(session, rep, at=T0)
    url = f"https://www.example.com/?ref={click['click_id']}"
    record = make_crm_record(session, landing_url=url, created_at=T0)
    attribute_records(session)
    assert _result(session, record)[0] == "none"
    attribute_records(session, click_id_param="ref")
    assert _result(session, record)[0] == "click_id"


@pytest.mark.parametrize("user_agent,method", [(GOOGLEBOT, "GET"), (LINKEDINBOT, "GET"),
                                               (None, "HEAD")])  # fmt: skip
def test_a_bot_or_preview_click_id_falls_through_to_utm_then_none(
    session: Session, rep: Link, user_agent: str | None, method: str
) -> None:
    human = make_click(session, rep, at=T0)
    extra = {"user_agent": user_agent} if user_agent else {}
    robot = make_click(session, rep, at=T0 + timedelta(minutes=1), method=method, **extra)
    with_utm = make_crm_record(session, click_id=robot["click_id"], utm_content="rep-a",
                               created_at=T0 + timedelta(hours=1))  # fmt: skip
    bare = make_crm_record(session, click_id=robot["click_id"], created_at=T0)
    attribute_records(session)
    # The UTM rule credits the rep's last *human* click, never the robot's.
    assert _result(session, with_utm) == (
        "utm",
        rep.employee_id,
        rep.campaign_id,
        _pk(session, human),
        3600,
    )
    assert _result(session, bare) == ("none", None, None, None, None)


def test_unknown_click_id_without_utm_is_unattributed(session: Session, rep: Link) -> None:
    record = make_crm_record(session, click_id="no-such-click", created_at=T0)
    summary = attribute_records(session)
    assert summary.none == 1
    assert _result(session, record) == ("none", None, None, None, None)


def test_utm_handle_matches_case_insensitively_and_ignores_blanks(
    session: Session, rep: Link
) -> None:
    click = make_click(session, rep, at=T0)
    record = make_crm_record(session, utm_content="  REP-A ", utm_campaign=" Spring",
                             created_at=T0 + timedelta(days=1))  # fmt: skip
    attribute_records(session)
    assert _result(session, record) == (
        "utm",
        rep.employee_id,
        rep.campaign_id,
        _pk(session, click),
        86400,
    )


def test_utm_window_edges_are_inclusive_to_the_second(session: Session, rep: Link) -> None:
    click = make_click(session, rep, at=T0)
    exactly = make_crm_record(session, utm_content="rep-a", utm_campaign="spring",
                              created_at=T0 + timedelta(days=30))  # fmt: skip
    too_late = make_crm_record(session, utm_content="rep-a", utm_campaign="spring",
                               created_at=T0 + timedelta(days=30, seconds=1))  # fmt: skip
    same_instant = make_crm_record(session, utm_content="rep-a", created_at=T0)
    before = make_crm_record(session, utm_content="rep-a", created_at=T0 - timedelta(seconds=1))
    summary = attribute_records(session, window_days=30)
    assert _result(session, exactly) == (
        "utm",
        rep.employee_id,
        rep.campaign_id,
        _pk(session, click),
        30 * 86400,
    )
    # Still the rep's lead, without a click, on the campaign the UTM names.
    assert _result(session, too_late) == ("utm", rep.employee_id, rep.campaign_id, None, None)
    assert _result(session, same_instant)[3:] == (_pk(session, click), 0)
    # No campaign named and no click: the campaign stays open.
    assert _result(session, before) == ("utm", rep.employee_id, None, None, None)
    assert summary == AttributionSummary(records=4, click_id=0, utm=4, utm_without_click=2, none=0)


def test_window_setting_is_respected(session: Session, rep: Link) -> None:
    make_click(session, rep, at=T0)
    record = make_crm_record(session, utm_content="rep-a", created_at=T0 + timedelta(days=8))
    attribute_records(session, window_days=7)
    assert _result(session, record)[3] is None
    attribute_records(session, window_days=8)
    assert _result(session, record)[3] is not None


def test_utm_prefers_the_named_campaign_and_the_last_human_click(
    session: Session, rep: Link
) -> None:
    employee = session.get(Employee, rep.employee_id)
    other = make_link(session, make_campaign(session, slug="summer"), employee, channel="x")
    on_spring = make_click(session, rep, at=T0)
    make_click(session, other, at=T0 + timedelta(hours=2))
    make_click(session, rep, at=T0 + timedelta(hours=3), user_agent=GOOGLEBOT)
    named = make_crm_record(session, utm_content="rep-a", utm_campaign="spring",
                            created_at=T0 + timedelta(hours=4))  # fmt: skip
    unknown = make_crm_record(session, utm_content="rep-a", utm_campaign="not-a-campaign",
                              created_at=T0 + timedelta(hours=4))  # fmt: skip
    attribute_records(session)
    assert _result(session, named)[2:] == (rep.campaign_id, _pk(session, on_spring), 4 * 3600)
    # An unknown utm_campaign is treated as absent: the rep's last click on any campaign.
    on_summer = session.scalar(select(Click.id).where(Click.link_id == other.id))
    assert _result(session, unknown)[2:4] == (other.campaign_id, on_summer)


def test_ties_on_click_time_go_to_the_highest_click_row(session: Session, rep: Link) -> None:
    first = make_click(session, rep, at=T0, ip="192.0.2.1")
    second = make_click(session, rep, at=T0, ip="192.0.2.2")
    assert _pk(session, second) > _pk(session, first)
    record = make_crm_record(session, utm_content="rep-a", created_at=T0 + timedelta(hours=1))
    attribute_records(session)
    assert _result(session, record)[3] == _pk(session, second)


def test_unknown_handle_is_unattributed(session: Session, rep: Link) -> None:
    record = make_crm_record(session, utm_content="someone-else", created_at=T0)
    attribute_records(session)
    assert _result(session, record) == ("none", None, None, None, None)


def test_rerunning_is_idempotent_and_follows_new_clicks_and_handles(
    session: Session, rep: Link
) -> None:
    record = make_crm_record(session, utm_content="rep-a", created_at=T0 + timedelta(hours=1))
    first = attribute_records(session)
    assert attribute_records(session) == first
    assert _result(session, record)[3] is None
    click = make_click(session, rep, at=T0)
    attribute_records(session)
    assert _result(session, record)[3] == _pk(session, click)
    session.execute(update(Employee).values(handle="rep-renamed"))
    session.commit()
    attribute_records(session)
    assert _result(session, record) == ("none", None, None, None, None)


def test_only_the_given_records_are_touched(session: Session, rep: Link) -> None:
    click = make_click(session, rep, at=T0)
    chosen = make_crm_record(session, click_id=click["click_id"], created_at=T0)
    left = make_crm_record(session, click_id=click["click_id"], created_at=T0)
    summary = attribute_records(session, record_ids=[chosen.id])
    assert summary.records == 1 and summary.click_id == 1
    assert _result(session, chosen)[0] == "click_id"
    assert _result(session, left)[0] == "none"
    assert attribute_records(session, record_ids=[]).records == 0


def test_negative_window_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="window_days"):
        attribute_records(session, window_days=-1)


def test_a_large_id_list_runs_in_full_but_reports_only_those_records(
    session: Session, rep: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linktracker.attribution.services as attribution

    monkeypatch.setattr(attribution, "_FULL_RUN_ABOVE", 1)
    click = make_click(session, rep, at=T0)
    chosen = [make_crm_record(session, click_id=click["click_id"], created_at=T0) for _ in "ab"]
    other = make_crm_record(session, utm_content="rep-a", created_at=T0)
    summary = attribute_records(session, record_ids=[r.id for r in chosen])
    assert summary == AttributionSummary(records=2, click_id=2, utm=0, utm_without_click=0, none=0)
    assert _result(session, other)[0] == "utm"  # settled by the same (idempotent) full run
