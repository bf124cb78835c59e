"""The weekly email page: an employee's switch and a preview of last week's digest."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_employee, make_link
from tests.web.clients import SignIn


def test_an_employee_turns_the_digest_off_and_on_on_their_page(
    sign_in: SignIn, session: Session
) -> None:
    bob = make_employee(session, handle="bob", name="Bob Baker", email="bob@example.com")
    make_link(session, make_campaign(session), bob)
    client = sign_in("employee", "bob@example.com")
    page = client.get("/app/digest/")
    assert page.status_code == 200, page.text
    assert 'id="digest-state">on<' in page.text and "Last week's email" in page.text
    assert "Hi Bob Baker," in page.text
    response = client.post("/app/digest/", data={"digest": "off"}, follow_redirects=True)
    assert 'id="digest-state">off<' in response.text
    assert "The weekly digest email is off" in response.text
    response = client.post("/app/digest/", data={"digest": "on"}, follow_redirects=True)
    assert 'id="digest-state">on<' in response.text


def test_an_account_without_employee_profile_has_no_digest(sign_in: SignIn) -> None:
    marketer = sign_in("marketer")
    assert "not linked to an employee profile" in marketer.get("/app/digest/").text
    assert marketer.post("/app/digest/", data={"digest": "off"}).status_code == 404


def test_the_employees_navigation_leads_to_stories_and_the_weekly_email(
    sign_in: SignIn, session: Session
) -> None:
    make_employee(session, email="ann@example.com")
    page = sign_in("employee", "ann@example.com").get("/app/links/").text
    assert 'href="/app/stories/"' in page and 'href="/app/digest/"' in page
