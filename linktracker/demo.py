"""A realistic demo program: employees, campaigns, links and 90 days of clicks."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.auth.services import create_user
from linktracker.campaigns.services import create_campaign
from linktracker.clicks.services import click_row, insert_click_rows
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.employees.services import create_employee
from linktracker.links.models import Link
from linktracker.links.services import LinkTarget, create_campaign_links
from linktracker.settings.services import ProgramSettings

TEAMS = ("Sales", "Marketing", "Engineering", "Recruiting", "Customer Success")
CAMPAIGNS = (
    ("Spring product launch", "https://www.example.com/launch?ref=advocacy", "leads"),
    ("Engineering blog: scaling our API", "https://blog.example.com/scaling-api", "awareness"),
    ("We are hiring: platform engineers", "https://careers.example.com/jobs/platform", "recruiting"),
    ("Customer webinar: Q4 roadmap", "https://events.example.com/webinar/q4-roadmap", "leads"),
)  # fmt: skip
HUMAN_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
BOT_AGENTS = (
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "python-requests/2.31.0",
)
REFERRERS = {
    "linkedin": "https://www.linkedin.com/feed/",
    "x": "https://t.co/abc123",
    "facebook": "https://l.facebook.com/",
    "email": "https://mail.google.com/",
}
DEMO_USERS = (("admin", "admin"), ("marketer", "marketer"), ("salesops", "sales_ops"))


def load_demo_data(session: Session, settings: ProgramSettings, seed: int = 7) -> list[str]:
    """Fill an empty database with a demo program; return lines describing what was made."""
    rng = random.Random(seed)
    employees = [
        create_employee(
            session,
            name=f"Advocate {n:02d}",
            email=f"advocate{n:02d}@example.com",
            team=TEAMS[n % len(TEAMS)],
            connections=rng.randint(150, 4000),
        )
        for n in range(1, 51)
    ]
    for name, url, goal in CAMPAIGNS:
        campaign = create_campaign(
            session, name=name, destination_url=url, goal=goal,
            allowed_domains=settings.allowed_domains,
        )  # fmt: skip
        create_campaign_links(
            session, campaign_slug=campaign.slug, medium=settings.utm_medium,
            allowed_domains=settings.allowed_domains,
        )  # fmt: skip
    clicks = _demo_clicks(session, rng, secret=secrets.token_bytes(16))
    lines = [
        f"Demo data: {len(employees)} employees, {len(CAMPAIGNS)} campaigns, {clicks} clicks.",
    ]
    for local, role in DEMO_USERS + (("advocate01", "employee"),):
        password = secrets.token_urlsafe(9)
        create_user(session, f"{local}@example.com", role, password)
        lines.append(f"  sign in as {local}@example.com / {password} ({role})")
    return lines


def _demo_clicks(session: Session, rng: random.Random, secret: bytes) -> int:
    now = utcnow()
    links = list(session.scalars(select(Link)))
    active = {e.id for e in session.scalars(select(Employee)) if rng.random() < 0.7}
    rows = []
    for link in links:
        if link.employee_id not in active or rng.random() < 0.3:
            continue
        target = LinkTarget(
            link.id, link.employee_id, link.campaign_id, link.channel,
            link.destination_url, False, None,
        )  # fmt: skip
        for _ in range(rng.randint(1, 40)):
            bot = rng.random() < 0.12
            visitor = Visitor(
                ip=f"203.0.113.{rng.randint(1, 254)}",
                user_agent=rng.choice(BOT_AGENTS if bot else HUMAN_AGENTS),
                referrer=REFERRERS.get(link.channel) if rng.random() < 0.8 else None,
                country=rng.choice(("US", "DE", "GB", "FR", None)),
                method="GET",
                query_string="",
            )
            when = now - timedelta(days=rng.uniform(0, 90))
            rows.append(
                click_row(target, visitor, secret=secret, now=when, click_id=new_click_id())
            )
    with session.begin_nested():
        insert_click_rows(session.connection(), rows)
    session.commit()
    return len(rows)
