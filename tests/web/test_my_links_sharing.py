"""My links, share first: post texts beside each link, share dialogs, groups, QR on screen."""

from __future__ import annotations

import html
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session

from linktracker.campaigns.post_texts import PostTextInput
from linktracker.campaigns.services import set_post_texts
from tests.factories import make_campaign, make_employee, make_link
from tests.web.clients import SignIn, text

CHANNELS = ["linkedin", "x", "facebook", "email", "whatsapp", "slack"]


def _share_urls(body: str) -> dict[str, str]:
    """network -> the first share dialog address on the page."""
    found: dict[str, str] = {}
    for chunk in body.split('href="')[1:]:
        url = html.unescape(chunk.split('"', 1)[0])
        for host, name in (("x.com", "x"), ("linkedin.com", "linkedin"), ("wa.me", "whatsapp"),
                           ("facebook.com", "facebook"), ("mailto:", "email")):  # fmt: skip
            if host in url:
                found.setdefault(name, url)
    return found


def test_each_link_shows_its_channel_s_post_text_with_copy_text_and_link(
    session: Session, sign_in: SignIn
) -> None:
    me = make_employee(session, email="me@example.com")
    campaign = make_campaign(session, name="Launch", channels=CHANNELS)
    set_post_texts(session, campaign.slug, [
        PostTextInput(None, "Our launch is live."),
        PostTextInput("x", "Launch day! #launch"),
        PostTextInput("x", "Second X idea"),
    ])  # fmt: skip
    links = {c: make_link(session, campaign, me, channel=c) for c in CHANNELS}
    body = text(sign_in("employee", "me@example.com").get("/app/links/"))

    x_url = f"http://lt.test/{links['x'].code}"
    li_url = f"http://lt.test/{links['linkedin'].code}"
    assert f'data-copy="Launch day! #launch\n\n{x_url}"' in body
    assert f'data-copy="Our launch is live.\n\n{li_url}"' in body
    assert "Second X idea" in body and "1 more text to choose from" in body
    shares = _share_urls(body)
    assert parse_qs(urlsplit(shares["x"]).query) == {"text": ["Launch day! #launch"],
                                                     "url": [x_url]}  # fmt: skip
    whatsapp = f"Our launch is live. http://lt.test/{links['whatsapp'].code}"
    assert parse_qs(urlsplit(shares["whatsapp"]).query)["text"] == [whatsapp]
    mail = parse_qs(urlsplit(shares["email"]).query)
    assert mail["subject"] == ["Launch"] and mail["body"][0].startswith("Our launch is live.")
    # LinkedIn's and Facebook's dialogs take the link alone: the page says so and copies first.
    assert parse_qs(urlsplit(shares["linkedin"]).query) == {"url": [li_url]}
    assert "LinkedIn takes only the link" in body and "Facebook takes only the link" in body
    assert f'data-copy-first="Our launch is live.\n\n{li_url}"' in body
    assert "Slack has no share link: copy the text and link" in body


def test_running_campaigns_come_first_and_ended_ones_are_folded_away(
    session: Session, sign_in: SignIn
) -> None:
    me = make_employee(session, email="me@example.com")
    today = date.today()
    older = make_campaign(session, name="Older running")
    newer = make_campaign(session, name="Newest running")
    ended = make_campaign(session, name="Summer event", starts_on=today - timedelta(days=60),
                          ends_on=today - timedelta(days=30))  # fmt: skip
    untouched = make_campaign(session, name="Past, never shared", ends_on=today - timedelta(days=9))
    for campaign in (older, newer, ended):
        make_link(session, campaign, me)
    body = text(sign_in("employee", "me@example.com").get("/app/links/"))
    running, _, folded = body.partition('data-group="ended"')
    assert running.index("Newest running") < running.index("Older running")
    assert "Summer event" in folded and "Summer event" not in running
    assert '<details class="link-group" data-group="ended">' in body  # closed by default
    assert untouched.name not in body
    assert 'id="link-search"' in body


def test_the_qr_code_is_shown_in_the_page_and_still_downloads(
    session: Session, sign_in: SignIn
) -> None:
    me = make_employee(session, email="me@example.com")
    link = make_link(session, employee=me)
    client = sign_in("employee", "me@example.com")
    body = text(client.get("/app/links/"))
    assert (
        f'data-dialog="qr-{link.code}"' in body
        and f'<dialog class="qr-dialog" id="qr-{link.code}"' in body
    )
    shown = client.get(f"/app/links/{link.code}/qr.svg?view=1")
    assert shown.status_code == 200 and "attachment" not in shown.headers.get(
        "Content-Disposition", ""
    )
    saved = client.get(f"/app/links/{link.code}/qr.svg")
    assert saved.headers["Content-Disposition"].startswith("attachment")


def test_figures_have_a_formula_help_that_works_without_hover(
    session: Session, sign_in: SignIn
) -> None:
    make_employee(session, email="me@example.com")
    body = text(sign_in("employee", "me@example.com").get("/app/links/"))
    assert '<details class="formula-help">' in body
    assert '<span class="visually-hidden">How Clicks is counted</span></summary>' in body
    assert "bots and link previews are not counted</p>" in body
