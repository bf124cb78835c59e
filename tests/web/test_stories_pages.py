"""Suggest a story (employees) and the review queue (marketers) through the web pages."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.contributions.models import Contribution
from tests.factories import make_employee
from tests.web.clients import SignIn

STORY = {"url": "https://blog.example.com/launch", "title": "Launch recap", "note": "Good one"}


def test_an_employee_suggests_a_story_and_sees_it_pending(
    sign_in: SignIn, session: Session
) -> None:
    make_employee(session, handle="ann", name="Ann", email="ann@example.com")
    client = sign_in("employee", "ann@example.com")
    page = client.get("/app/stories/")
    assert page.status_code == 200 and "Suggest this story" in page.text
    response = client.post("/app/stories/", data=STORY, follow_redirects=True)
    assert "waiting for a marketer&#39;s review" in response.text
    assert "Launch recap" in response.text and "Waiting for review." in response.text
    assert "Review queue" not in response.text


def test_a_bad_address_is_shown_next_to_its_field_with_what_was_typed(
    sign_in: SignIn, session: Session
) -> None:
    make_employee(session, email="ann@example.com")
    client = sign_in("employee", "ann@example.com")
    response = client.post("/app/stories/", data=STORY | {"url": "ftp://files.example.com/x"})
    assert response.status_code == 422
    assert "The address must start with http:// or https://." in response.text
    assert 'value="Launch recap"' in response.text
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_an_account_without_employee_profile_is_told_why_it_cannot_suggest(
    sign_in: SignIn,
) -> None:
    client = sign_in("sales_ops")
    assert "not linked to an employee profile" in client.get("/app/stories/").text
    response = client.post("/app/stories/", data=STORY)
    assert response.status_code == 403


def test_a_marketer_approves_into_a_campaign_and_rejects_with_a_note(
    sign_in: SignIn, session: Session
) -> None:
    make_employee(session, handle="ann", name="Ann", email="ann@example.com")
    ann = sign_in("employee", "ann@example.com")
    ann.post("/app/stories/", data=STORY)
    ann.post("/app/stories/", data={"url": "https://www.example.com/old", "title": "Old"})
    marketer = sign_in("marketer")
    assert "Review queue (2 pending)" in marketer.get("/app/stories/").text
    queue = marketer.get("/app/stories/review")
    assert queue.status_code == 200 and "Launch recap" in queue.text and "Good one" in queue.text
    launch, old = (
        session.scalar(select(Contribution.id).where(Contribution.title == title))
        for title in ("Launch recap", "Old")
    )
    approved = marketer.post(f"/app/stories/{launch}/review", data={"decision": "approve"},
                             follow_redirects=True)  # fmt: skip
    assert "Approved: campaign &#39;Launch recap&#39; made, with 4 personal link(s)" in (
        approved.text
    )
    rejected = marketer.post(f"/app/stories/{old}/review",
                             data={"decision": "reject", "note": "Too old to share"},
                             follow_redirects=True)  # fmt: skip
    assert "Rejected the suggestion of Ann" in rejected.text
    assert "Nothing here" in rejected.text  # the pending tab is empty now
    done = marketer.get("/app/stories/review?status=").text
    assert "launch-recap" in done and "Too old to share" in done
    mine = ann.get("/app/stories/").text
    assert "Now the campaign “Launch recap”" in mine and "Too old to share" in mine
    assert session.scalar(select(Campaign.slug)) == "launch-recap"


def test_a_failed_review_is_flashed_and_changes_nothing(sign_in: SignIn, session: Session) -> None:
    make_employee(session, email="ann@example.com")
    sign_in("employee", "ann@example.com").post(
        "/app/stories/", data={"url": "https://news.test/award"}
    )
    story = session.scalar(select(Contribution.id))
    marketer = sign_in("admin")
    response = marketer.post(f"/app/stories/{story}/review", data={"decision": "approve"},
                             follow_redirects=True)  # fmt: skip
    assert "allow &#39;news.test&#39; (Settings" in response.text
    assert session.scalar(select(Contribution.status)) == "pending"
    assert marketer.get("/app/stories/review?status=maybe").status_code == 400


def test_the_dashboard_counts_contributions_and_ranks_contributors(
    sign_in: SignIn, session: Session
) -> None:
    make_employee(session, handle="ann", name="Ann Archer", email="ann@example.com")
    ann = sign_in("employee", "ann@example.com")
    ann.post("/app/stories/", data=STORY)
    ann.post("/app/stories/", data={"url": "https://www.example.com/b"})
    marketer = sign_in("marketer")
    story = session.scalar(select(Contribution.id).where(Contribution.title == "Launch recap"))
    marketer.post(f"/app/stories/{story}/review", data={"decision": "approve"})
    page = marketer.get("/app/reports/").text
    section = page[page.index('id="story-contributions"') : page.index('id="top-title"')]
    figures = re.findall(r'<p class="stat-value">([^<]+)</p>', section)
    assert figures == ["2", "1", "1"]
    assert "By approved contributions" in page and "Ann Archer" in page


def test_my_data_holds_my_suggestions_and_what_became_of_them(
    sign_in: SignIn, session: Session
) -> None:
    make_employee(session, email="ann@example.com")
    make_employee(session, email="bob@example.com")
    ann = sign_in("employee", "ann@example.com")
    ann.post("/app/stories/", data=STORY)
    sign_in("employee", "bob@example.com").post("/app/stories/", data={"url": STORY["url"]})
    story = session.scalar(select(Contribution.id).where(Contribution.title == "Launch recap"))
    sign_in("marketer").post(f"/app/stories/{story}/review",
                             data={"decision": "reject", "note": "Not now"})  # fmt: skip
    data = ann.get("/app/links/my-data.json").get_json()
    (mine,) = data["contributions"]
    assert (mine["url"], mine["title"], mine["note"]) == (STORY["url"], "Launch recap", "Good one")
    assert (mine["status"], mine["review_note"], mine["campaign"]) == ("rejected", "Not now", None)
