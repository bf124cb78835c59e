"""A hand-computed program of clicks for the click breakdowns (service, API and page tests).

Reporting time zone Asia/Kolkata (UTC+05:30, no DST): local hours start at half past a UTC
hour, so hour, weekday and day keys prove the zone arithmetic. The range is 2026-03-02 (a
Monday) to 2026-03-04, local: UTC 2026-03-01 18:30 to 2026-03-04 18:30.

Links: ann's linkedin link on "spring" (L1), ann's x link on "autumn" (L2), bob's email link
on "spring" (L3). Clicks (UTC -> local):
  1  03-02 03:00 -> Mon 08:30  L1 Chrome/Windows  ip .1  linkedin.com/feed  DE
  2  03-02 03:20 -> Mon 08:50  L1 Chrome/Windows  ip .1  lnkd.in           DE  (same visitor as 1)
  3  03-02 19:00 -> Tue 00:30  L1 iPhone          ip .2  app.slack.com     US  (shared in Slack)
  4  03-03 10:00 -> Tue 15:30  L2 Chrome/Windows  ip .1  t.co              DE  (new UTC day)
  5  03-03 10:10 -> Tue 15:40  L3 iPhone          ip .3  (no referrer)     -
  6  03-04 18:29 -> Wed 23:59  L3 Chrome/Windows  ip .4  (no referrer)     FR
  bots: 03-03 11:00 Googlebot (L1), 03-03 11:05 LinkedInBot preview (L1), 03-02 05:00 a HEAD
  request from Chrome (L1: a preview without a bot name)
  outside the range: 03-01 18:00 (Sun 23:30) and 03-04 18:31 (Thu 00:01), Chrome, L1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from linktracker.clicks.services import click_row, insert_click_rows
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.links.models import Link
from linktracker.links.services import LinkTarget
from linktracker.reports.filters import ReportFilters
from tests.factories import CHROME, make_campaign, make_employee, make_link

TIMEZONE = "Asia/Kolkata"
FILTERS = ReportFilters(date(2026, 3, 2), date(2026, 3, 4))
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LINKEDINBOT = (
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
)

# by -> rows (key, clicks, unique_visitors) in the order the report gives them.
EXPECTED: dict[str, list[tuple[Any, int, int]]] = {
    "referrer_host": [
        (None, 2, 2),
        ("app.slack.com", 1, 1),
        ("linkedin.com", 1, 1),
        ("lnkd.in", 1, 1),
        ("t.co", 1, 1),
    ],
    "referrer_channel": [("linkedin", 2, 1), (None, 2, 2), ("slack", 1, 1), ("x", 1, 1)],
    "link_channel": [("linkedin", 3, 2), ("email", 2, 2), ("x", 1, 1)],
    "country": [("DE", 3, 2), ("FR", 1, 1), ("US", 1, 1), (None, 1, 1)],
    "device": [("desktop", 4, 3), ("mobile", 2, 2)],
    "browser": [("Chrome", 4, 3), ("Mobile Safari", 2, 2)],
    "os": [("Windows", 4, 3), ("iOS", 2, 2)],
    "hour": [(8, 2, 1), (15, 2, 2), (0, 1, 1), (23, 1, 1)],
    "weekday": [(1, 3, 3), (0, 2, 1), (2, 1, 1)],
    "day": [("2026-03-03", 3, 3), ("2026-03-02", 2, 1), ("2026-03-04", 1, 1)],
    "bot_name": [("Googlebot", 1, 1), ("LinkedInBot", 1, 1), (None, 1, 1)],
}
TOTAL = {"clicks": 6, "unique_visitors": 5}
BOT_TOTAL = {"clicks": 3, "unique_visitors": 3}
BOTS, PREVIEWS = 1, 2


@dataclass(frozen=True)
class Program:
    ann: Any
    bob: Any
    spring: Any
    autumn: Any
    links: tuple[Link, Link, Link]


def at(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def click(
    link: Link,
    when: datetime,
    agent: str,
    ip: str,
    referrer: str | None = None,
    country: str | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    """The click row the redirect would store for this request."""
    target = LinkTarget(link.id, link.employee_id, link.campaign_id, link.channel,
                        link.destination_url, False, None)  # fmt: skip
    visitor = Visitor(f"198.51.100.{ip}", agent, referrer, country, method, "")
    return click_row(target, visitor, secret=b"test-secret", now=when, click_id=new_click_id())


def build(session: Session) -> Program:
    """The program above, clicks stored."""
    ann = make_employee(session, handle="ann", team="North")
    bob = make_employee(session, handle="bob", team="South")
    spring = make_campaign(session, slug="spring")
    autumn = make_campaign(session, slug="autumn")
    l1 = make_link(session, spring, ann, "linkedin")
    l2 = make_link(session, autumn, ann, "x")
    l3 = make_link(session, spring, bob, "email")
    rows = [
        click(l1, at(3, 2, 3, 0), CHROME, "1", "https://www.linkedin.com/feed/", "DE"),
        click(l1, at(3, 2, 3, 20), CHROME, "1", "https://lnkd.in/abc", "DE"),
        click(l1, at(3, 2, 19, 0), IPHONE, "2", "https://app.slack.com/client", "US"),
        click(l2, at(3, 3, 10, 0), CHROME, "1", "https://t.co/xyz", "DE"),
        click(l3, at(3, 3, 10, 10), IPHONE, "3"),
        click(l3, at(3, 4, 18, 29), CHROME, "4", None, "FR"),
        click(l1, at(3, 3, 11, 0), GOOGLEBOT, "50"),
        click(l1, at(3, 3, 11, 5), LINKEDINBOT, "51"),
        click(l1, at(3, 2, 5, 0), CHROME, "52", method="HEAD"),
        click(l1, at(3, 1, 18, 0), CHROME, "9", None, "DE"),
        click(l1, at(3, 4, 18, 31), CHROME, "9", None, "DE"),
    ]
    insert_click_rows(session.connection(), rows)
    session.commit()
    return Program(ann, bob, spring, autumn, (l1, l2, l3))
