"""/api/v1/contributions: suggest, list, review (approve → campaign and links, reject)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.contributions.models import Contribution
from linktracker.links.models import Link
from tests.factories import make_employee

Headers = Callable[..., dict[str, str]]
STORY = {
    "url": "https://blog.example.com/how-we-ship",
    "title": "How we ship",
    "note": "Customers ask about this every week.",
}


@pytest.fixture
def people(session: Session) -> None:
    make_employee(session, handle="ann", name="Ann", email="ann@example.com")
    make_employee(session, handle="bob", name="Bob", email="bob@example.com")


def _suggest(client: FlaskClient, headers: dict[str, str], **body: str) -> dict[str, object]:
    response = client.post("/api/v1/contributions", json=STORY | body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[return-value]


def test_an_employee_suggests_a_story(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    body = _suggest(client, api_headers("employee", "ann@example.com"))
    assert set(body) >= {"id", "url", "title", "note", "status", "employee", "created_at"}
    assert (body["url"], body["title"], body["note"]) == (STORY["url"], "How we ship",
                                                          STORY["note"])  # fmt: skip
    assert (body["status"], body["employee"], body["campaign"]) == ("pending", "ann", None)


def test_a_suggestion_needs_only_a_url_and_is_normalised(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    response = client.post(
        "/api/v1/contributions",
        json={"url": "  https://Blog.Example.com/a b  "},
        headers=api_headers("employee", "ann@example.com"),
    )
    assert response.status_code == 201
    assert response.json["url"] == "https://blog.example.com/a%20b"
    assert (response.json["title"], response.json["note"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "url", "'url' is required."),
        ({"url": "javascript:alert(1)"}, "url", "The address must start with http:// or https://."),
        ({"url": "https://a\u202eb.example.com/"}, "url", "invisible or text-direction"),
        ({"url": "https://x.example.com", "title": "t" * 201}, "title", "At most 200 characters"),
        ({"url": "https://x.example.com", "note": "a\x00b"}, "note", "NUL"),
        ({"url": 5}, "url", "'url' must be a string."),
    ],
)
def test_a_bad_suggestion_is_refused_with_its_field_and_nothing_is_stored(
    client: FlaskClient,
    api_headers: Headers,
    people: None,
    session: Session,
    body: dict[str, object],
    field: str,
    message: str,
) -> None:
    response = client.post(
        "/api/v1/contributions", json=body, headers=api_headers("employee", "ann@example.com")
    )
    assert response.status_code == 422
    assert field in response.json["fields"]
    assert message in response.json["error"] + response.json["fields"][field]
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_a_suggestion_off_the_allowed_domains_is_taken_for_review(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    body = _suggest(client, api_headers("employee", "ann@example.com"), url="https://news.test/a")
    assert body["status"] == "pending"


def test_an_account_without_employee_profile_may_not_suggest(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    response = client.post("/api/v1/contributions", json=STORY, headers=api_headers("marketer"))
    assert response.status_code == 403
    assert "employee profile" in response.json["error"]
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_employees_list_their_own_and_managers_list_all(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    ann, bob = (
        api_headers("employee", "ann@example.com"),
        api_headers("employee", "bob@example.com"),
    )
    _suggest(client, ann)
    _suggest(client, bob, title="Bob's")
    mine = client.get("/api/v1/contributions", headers=ann).json["contributions"]
    assert [c["employee"] for c in mine] == ["ann"]
    everyone = client.get("/api/v1/contributions", headers=api_headers("marketer"))
    assert [c["employee"] for c in everyone.json["contributions"]] == ["bob", "ann"]
    none = client.get("/api/v1/contributions", headers=api_headers("sales_ops"))
    assert none.json == {"contributions": []}


def test_the_list_filters_by_status_and_refuses_an_unknown_one(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    ann, marketer = api_headers("employee", "ann@example.com"), api_headers("marketer")
    first = _suggest(client, ann)
    _suggest(client, ann, title="Second")
    client.post(f"/api/v1/contributions/{first['id']}/review", json={"decision": "reject"},
                headers=marketer)  # fmt: skip
    pending = client.get("/api/v1/contributions?status=pending", headers=marketer).json
    assert [c["title"] for c in pending["contributions"]] == ["Second"]
    rejected = client.get("/api/v1/contributions?status=rejected", headers=ann).json
    assert [c["title"] for c in rejected["contributions"]] == ["How we ship"]
    bad = client.get("/api/v1/contributions?status=maybe", headers=marketer)
    assert bad.status_code == 422
    assert bad.json["fields"] == {"status": "Use one of pending, approved, rejected."}


def test_approving_makes_a_campaign_with_links_for_the_employees(
    client: FlaskClient, api_headers: Headers, people: None, session: Session
) -> None:
    story = _suggest(client, api_headers("employee", "ann@example.com"))
    response = client.post(
        f"/api/v1/contributions/{story['id']}/review",
        json={"decision": "approve", "note": "Great find"},
        headers=api_headers("marketer"),
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["status"], body["campaign"], body["review_note"]) == (
        "approved",
        "how-we-ship",
        "Great find",
    )
    assert body["links_created"] == 2 * 4  # two employees x the default channels
    campaign = session.scalar(select(Campaign).where(Campaign.slug == "how-we-ship"))
    assert campaign is not None
    assert (campaign.name, campaign.destination_url, campaign.goal) == (
        "How we ship",
        STORY["url"],
        "awareness",
    )
    links = session.scalars(select(Link).where(Link.campaign_id == campaign.id)).all()
    assert len(links) == 8
    assert all("utm_campaign=how-we-ship" in link.destination_url for link in links)
    own = client.get("/api/v1/contributions", headers=api_headers("employee", "ann@example.com"))
    assert own.json["contributions"][0]["campaign"] == "how-we-ship"
    # The story's title is the post text beside its links.
    made = client.get("/api/v1/campaigns/how-we-ship", headers=api_headers("marketer"))
    assert made.json["post_texts"] == [{"channel": None, "text": "How we ship"}]


def test_an_approved_title_already_used_as_a_slug_gets_a_numbered_slug(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    ann, marketer = api_headers("employee", "ann@example.com"), api_headers("marketer")
    slugs = []
    for _ in range(2):
        story = _suggest(client, ann)
        review = client.post(f"/api/v1/contributions/{story['id']}/review",
                             json={"decision": "approve"}, headers=marketer)  # fmt: skip
        slugs.append(review.json["campaign"])
    assert slugs == ["how-we-ship", "how-we-ship-2"]


def test_approving_twice_is_a_clear_conflict_and_makes_no_second_campaign(
    client: FlaskClient, api_headers: Headers, people: None, session: Session
) -> None:
    story = _suggest(client, api_headers("employee", "ann@example.com"))
    url = f"/api/v1/contributions/{story['id']}/review"
    first = client.post(url, json={"decision": "approve"}, headers=api_headers("marketer"))
    assert first.status_code == 200
    again = client.post(url, json={"decision": "approve"}, headers=api_headers("admin"))
    assert again.status_code == 409
    today = datetime.now(UTC).date().isoformat()
    assert again.json["error"] == (
        f"Suggestion {story['id']} was already approved on {today} (campaign 'how-we-ship'); "
        "a review is final."
    )
    reject = client.post(url, json={"decision": "reject"}, headers=api_headers("admin"))
    assert reject.status_code == 409
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_approving_a_story_off_the_allowed_domains_says_which_domain_to_allow(
    client: FlaskClient, api_headers: Headers, people: None, session: Session
) -> None:
    story = _suggest(client, api_headers("employee", "ann@example.com"),
                     url="https://news.test/our-award")  # fmt: skip
    url = f"/api/v1/contributions/{story['id']}/review"
    response = client.post(url, json={"decision": "approve"}, headers=api_headers("marketer"))
    assert response.status_code == 422
    assert response.json["error"].startswith(
        "The story's address is not on an allowed domain: allow 'news.test' (Settings, "
        "allowed destination domains) to approve it."
    )
    assert response.json["fields"] == {"url": "Allow 'news.test' in the allowed domains first."}
    # Nothing half-written: still pending, no campaign, no link.
    assert session.scalar(select(Contribution.status)) == "pending"
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert session.scalar(select(func.count()).select_from(Link)) == 0


def test_rejecting_keeps_the_note_for_the_contributor_and_makes_nothing(
    client: FlaskClient, api_headers: Headers, people: None, session: Session
) -> None:
    story = _suggest(client, api_headers("employee", "ann@example.com"))
    response = client.post(
        f"/api/v1/contributions/{story['id']}/review",
        json={"decision": "reject", "note": "We covered this last month."},
        headers=api_headers("admin"),
    )
    assert response.status_code == 200
    assert (response.json["status"], response.json["campaign"]) == ("rejected", None)
    assert "links_created" not in response.json
    own = client.get("/api/v1/contributions", headers=api_headers("employee", "ann@example.com"))
    assert own.json["contributions"][0]["review_note"] == "We covered this last month."
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"decision": "maybe"}, 422, "Decide 'approve' or 'reject'."),
        ({}, 422, "'decision' is required."),
        ({"decision": "reject", "note": "n" * 2001}, 422, "The review could not be saved."),
    ],
)
def test_a_bad_review_is_refused_and_the_suggestion_stays_pending(
    client: FlaskClient,
    api_headers: Headers,
    people: None,
    session: Session,
    body: dict[str, str],
    status: int,
    message: str,
) -> None:
    story = _suggest(client, api_headers("employee", "ann@example.com"))
    response = client.post(f"/api/v1/contributions/{story['id']}/review", json=body,
                           headers=api_headers("marketer"))  # fmt: skip
    assert (response.status_code, response.json["error"]) == (status, message)
    assert session.scalar(select(Contribution.status)) == "pending"


def test_reviewing_is_for_managers_and_an_unknown_id_is_not_found(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    ann = api_headers("employee", "ann@example.com")
    story = _suggest(client, ann)
    url = f"/api/v1/contributions/{story['id']}/review"
    for role in ("employee", "sales_ops"):
        headers = ann if role == "employee" else api_headers(role)
        response = client.post(url, json={"decision": "approve"}, headers=headers)
        assert response.status_code == 403
    missing = client.post("/api/v1/contributions/999999/review", json={"decision": "approve"},
                          headers=api_headers("marketer"))  # fmt: skip
    assert (missing.status_code, missing.json["error"]) == (404, "No contribution with id 999999.")


def test_the_program_report_counts_contributions_and_ranks_contributors(
    client: FlaskClient, api_headers: Headers, people: None
) -> None:
    ann, bob = (
        api_headers("employee", "ann@example.com"),
        api_headers("employee", "bob@example.com"),
    )
    marketer = api_headers("marketer")
    for headers, decision in ((ann, "approve"), (ann, "approve"), (bob, "reject"), (bob, None)):
        story = _suggest(client, headers)
        if decision:
            client.post(f"/api/v1/contributions/{story['id']}/review",
                        json={"decision": decision}, headers=marketer)  # fmt: skip
    today = datetime.now(UTC).date().isoformat()
    report = client.get(f"/api/v1/reports/program?from={today}&to={today}", headers=marketer).json
    assert report["contributions"] == {"submitted": 4, "approved": 2, "contributors": 2}
    ranking = {r["metric"]: r for r in report["top_contributors"]}["approved_contributions"]
    assert [(c["employee"]["handle"], c["value"]) for c in ranking["contributors"]] == [("ann", 2)]
    old = client.get("/api/v1/reports/program?from=2020-01-01&to=2020-01-31", headers=marketer)
    assert old.json["contributions"] == {"submitted": 0, "approved": 0, "contributors": 0}
    csv = client.get(f"/api/v1/reports/program?from={today}&to={today}&format=csv",
                     headers=marketer).get_data(as_text=True)  # fmt: skip
    assert "contributions_submitted,4," in csv and "top_by_approved_contributions_1,ann (2)," in csv


def test_a_story_without_title_is_named_by_its_address(
    client: FlaskClient, api_headers: Headers, people: None, session: Session
) -> None:
    story = _suggest(client, api_headers("employee", "ann@example.com"), title="",
                     url="https://news.example.com/2026/award")  # fmt: skip
    url = f"/api/v1/contributions/{story['id']}/review"
    response = client.post(url, json={"decision": "approve"}, headers=api_headers("marketer"))
    assert response.json["campaign"] == "news-example-com"
    name = session.scalar(select(Campaign.name).where(Campaign.slug == "news-example-com"))
    assert name == "https://news.example.com/2026/award"


def test_the_team_filter_counts_that_teams_contributions_only(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    make_employee(session, handle="ann", email="ann@example.com", team="Sales")
    make_employee(session, handle="eve", email="eve@example.com", team="Engineering")
    _suggest(client, api_headers("employee", "ann@example.com"))
    _suggest(client, api_headers("employee", "eve@example.com"))
    today = datetime.now(UTC).date().isoformat()
    report = client.get(f"/api/v1/reports/program?from={today}&to={today}&team=Engineering",
                        headers=api_headers("marketer")).json  # fmt: skip
    assert report["contributions"] == {"submitted": 1, "approved": 0, "contributors": 1}
