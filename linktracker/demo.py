"""A realistic demo program: employees, campaigns, links and 90 days of clicks."""

from __future__ import annotations

import csv
import io
import random
import secrets
import tempfile
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.auth.services import create_user
from linktracker.campaigns.post_texts import PostTextInput
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
    ("We are hiring: platform engineers", "https://careers.example.com/jobs/platform", "recruiting"),  # noqa: E501
    ("Customer webinar: Q4 roadmap", "https://events.example.com/webinar/q4-roadmap", "leads"),
)  # fmt: skip
# A campaign that is over: My links folds it away under "Ended campaigns".
ENDED_CAMPAIGN = ("Summer customer event", "https://events.example.com/summer", "awareness")
POST_TEXTS: dict[str, tuple[tuple[str | None, str], ...]] = {
    "Spring product launch": (
        (None, "Our spring release is out: faster reports and a cleaner workflow. Have a look!"),
        (None, "What I am most excited about in our spring launch, in two minutes:"),
        ("x", "Spring launch day! Faster reports, cleaner workflow. #launch"),
        ("linkedin", "Proud of the team behind our spring launch. Here is what changes for "
                     "our customers, and why it matters:"),
    ),
    "Engineering blog: scaling our API": (
        (None, "How our engineers scaled the API tenfold without a rewrite: worth a read."),
    ),
    "We are hiring: platform engineers": (
        (None, "We are hiring platform engineers. Great team, interesting problems. "
               "Know someone? Send them this:"),
        ("x", "We are hiring platform engineers! #hiring #platform"),
    ),
    "Customer webinar: Q4 roadmap": (
        (None, "Join our Q4 roadmap webinar: what is coming, and time for your questions."),
    ),
}  # fmt: skip
# The printed employee sign-in: an active advocate, so every page has figures to show.
DEMO_EMPLOYEE = "advocate01"
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


def load_demo_data(
    session: Session,
    settings: ProgramSettings,
    seed: int = 7,
    *,
    upload_folder: str | None = None,
    email_secret: bytes | None = None,
) -> list[str]:
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
    today = date.today()
    ended = (ENDED_CAMPAIGN, today - timedelta(days=75), today - timedelta(days=20))
    running = [((name, url, goal), None, None) for name, url, goal in CAMPAIGNS]
    for (name, url, goal), starts_on, ends_on in [ended, *running]:
        campaign = create_campaign(
            session, name=name, destination_url=url, goal=goal,
            allowed_domains=settings.allowed_domains, starts_on=starts_on, ends_on=ends_on,
            post_texts=[PostTextInput(c, t) for c, t in POST_TEXTS.get(name, ())],
        )  # fmt: skip
        create_campaign_links(
            session, campaign_slug=campaign.slug, medium=settings.utm_medium,
            allowed_domains=settings.allowed_domains,
        )  # fmt: skip
    secret = secrets.token_bytes(16)
    clicks = _demo_clicks(session, rng, secret=secret)
    clicks += _advocate_clicks(session, rng, secret, f"{DEMO_EMPLOYEE}@example.com")
    lines = [
        f"Demo data: {len(employees)} employees, {len(CAMPAIGNS) + 1} campaigns, {clicks} clicks.",
        _demo_crm(
            session,
            rng,
            settings,
            upload_folder or tempfile.mkdtemp(prefix="linktracker-demo-"),
            email_secret or secrets.token_bytes(32),
        ),
    ]
    lines.append(
        _demo_ats(
            session,
            rng,
            settings,
            upload_folder or tempfile.mkdtemp(prefix="linktracker-demo-"),
            email_secret or secrets.token_bytes(32),
        )
    )
    lines.append(_demo_contributions(session, employees, settings))
    for local, role in DEMO_USERS + ((DEMO_EMPLOYEE, "employee"),):
        password = secrets.token_urlsafe(9)
        create_user(session, f"{local}@example.com", role, password)
        lines.append(f"  sign in as {local}@example.com / {password} ({role})")
    return lines


def _visit(rng: random.Random, channel: str, bot: bool) -> Visitor:
    return Visitor(
        ip=f"203.0.113.{rng.randint(1, 254)}",
        user_agent=rng.choice(BOT_AGENTS if bot else HUMAN_AGENTS),
        referrer=_referrer(channel, rng.random()),
        country=rng.choice(("US", "DE", "GB", "FR", None)),
        method="GET",
        query_string="",
    )


def _target(link: Link) -> LinkTarget:
    return LinkTarget(
        link.id, link.employee_id, link.campaign_id, link.channel,
        link.destination_url, False, None,
    )  # fmt: skip


def _advocate_clicks(session: Session, rng: random.Random, secret: bytes, email: str) -> int:
    """Recent human clicks on every link of the printed employee: an active advocate."""
    now = utcnow()
    employee = session.scalar(select(Employee).where(Employee.email == email))
    assert employee is not None
    rows = [
        click_row(
            _target(link),
            _visit(rng, link.channel, bot=False),
            secret=secret,
            now=now - timedelta(days=rng.uniform(0.1, 25)),
            click_id=new_click_id(),
        )
        for link in session.scalars(select(Link).where(Link.employee_id == employee.id))
        for _ in range(rng.randint(4, 12))
    ]
    with session.begin_nested():
        insert_click_rows(session.connection(), rows)
    session.commit()
    return len(rows)


def _demo_clicks(session: Session, rng: random.Random, secret: bytes) -> int:
    now = utcnow()
    links = list(session.scalars(select(Link)))
    active = {e.id for e in session.scalars(select(Employee)) if rng.random() < 0.7}
    rows = []
    for link in links:
        if link.employee_id not in active or rng.random() < 0.3:
            continue
        target = _target(link)
        for _ in range(rng.randint(1, 40)):
            visitor = _visit(rng, link.channel, bot=rng.random() < 0.12)
            when = now - timedelta(days=rng.uniform(0, 90))
            rows.append(
                click_row(target, visitor, secret=secret, now=when, click_id=new_click_id())
            )
    with session.begin_nested():
        insert_click_rows(session.connection(), rows)
    session.commit()
    return len(rows)


# (url, title, note, review): stories employees suggested; None waits for a review.
DEMO_STORIES = (
    ("https://blog.example.com/customer-story-acme", "How Acme cut onboarding to a day",
     "Prospects keep asking for proof like this.", "approve"),
    ("https://www.example.com/pricing-2027", "New pricing page", None, "reject"),
    ("https://blog.example.com/engineering-on-call", "What on-call looks like here",
     "Great for the hiring campaign.", None),
    ("https://events.example.com/meetup-berlin", "Berlin meetup in January", None, None),
    ("https://news.example.org/award-2026", "We won the 2026 workplace award",
     "An outside article: more credible than our own posts.", None),
)  # fmt: skip


def _demo_contributions(
    session: Session, employees: list[Employee], settings: ProgramSettings
) -> str:
    """Story suggestions: one approved into a campaign, one rejected, the rest pending."""
    from linktracker.contributions.services import review_contribution, submit_contribution

    for n, (url, title, note, decision) in enumerate(DEMO_STORIES):
        story = submit_contribution(
            session, employee_id=employees[n % 3].id, url=url, title=title, note=note
        )
        if decision is not None:
            review_contribution(
                session, story.id, decision=decision, reviewer_user_id=None,
                note=None if decision == "approve" else "We are not sharing prices publicly yet.",
                allowed_domains=settings.allowed_domains, medium=settings.utm_medium,
            )  # fmt: skip
    pending = sum(1 for story in DEMO_STORIES if story[3] is None)
    return f"Stories: {len(DEMO_STORIES)} suggested ({pending} waiting for review)."


def _referrer(channel: str, roll: float) -> str | None:
    """Mostly the link's own network; some links travel on (a Slack channel, a newsletter);
    a fifth of visitors send no referrer (apps, private messages)."""
    if roll < 0.7:
        return REFERRERS.get(channel)
    if roll < 0.8:
        return "https://app.slack.com/client" if roll < 0.75 else "https://news.example.org/"
    return None


DEMO_STAGES = (
    ("Appointment scheduled", 0.25),
    ("Qualified to buy", 0.2),
    ("Contract sent", 0.15),
    ("Closed won", 0.25),
    ("Closed lost", 0.15),
)
DEMO_CRM_HEADER = (
    "Record ID", "Deal Name", "Deal Stage", "Create Date", "Close Date", "Deal owner", "Amount",
    "Currency", "Pipeline", "Original Source", "First Page Seen", "UTM Content", "UTM Campaign",
    "Email",
)  # fmt: skip


def _demo_crm(
    session: Session,
    rng: random.Random,
    settings: ProgramSettings,
    upload_folder: str,
    email_secret: bytes,
) -> str:
    """A HubSpot-style deals export imported like an upload: clicks, UTM and baseline deals."""
    from linktracker.attribution.services import attribute_records
    from linktracker.crm.services import ImportContext, ImportOptions, upload_and_import

    context = ImportContext(
        upload_folder,
        email_secret,
        window_days=settings.attribution_window_days,
        attribute=attribute_records,
    )
    summary = upload_and_import(
        session,
        io.BytesIO(_demo_deals_csv(session, rng, settings.click_id_param)),
        context,
        ImportOptions(click_id_param=settings.click_id_param),
        filename="hubspot-deals-demo.csv",
        source="hubspot",
    )
    return f"CRM: {summary.inserted} HubSpot deals imported (import {summary.id})."


def _demo_deals_csv(session: Session, rng: random.Random, click_id_param: str) -> bytes:
    """The demo deals as a HubSpot export: deals from clicks, from UTM tags, and a baseline."""
    from linktracker.campaigns.models import Campaign
    from linktracker.clicks.models import HUMAN_CLICK, Click

    now = utcnow()
    clicks = session.execute(
        select(Click.click_id, Click.created_at, Link.destination_url)
        .join(Link, Link.id == Click.link_id)
        .where(HUMAN_CLICK)
        .order_by(Click.id)
    ).all()
    handles = [
        (handle, slug)
        for handle, slug in session.execute(
            select(Employee.handle, Campaign.slug)
            .join(Link, Link.employee_id == Employee.id)
            .join(Campaign, Campaign.id == Link.campaign_id)
            .distinct()
            .order_by(Employee.handle, Campaign.slug)
        )
    ]
    rows: list[list[str]] = []

    def add(
        created: datetime, landing: str, handle: str = "", slug: str = "", stage: str = ""
    ) -> None:
        rows.append(_demo_deal(rng, len(rows) + 1, now, created, landing, handle, slug, stage))

    # The printed employee's recent clicks became leads, one of them a won deal.
    advocate = session.execute(
        select(Click.click_id, Click.created_at, Link.destination_url)
        .join(Link, Link.id == Click.link_id)
        .join(Employee, Employee.id == Link.employee_id)
        .where(HUMAN_CLICK, Employee.email == f"{DEMO_EMPLOYEE}@example.com")
        .where(Click.created_at.between(now - timedelta(days=25), now - timedelta(days=6)))
        .order_by(Click.id)
    ).all()
    for n, (click_id, at, destination) in enumerate(advocate[:4]):
        separator = "&" if "?" in destination else "?"
        add(at + timedelta(minutes=30), f"{destination}{separator}{click_id_param}={click_id}",
            stage="Closed won" if n == 0 else "Qualified to buy")  # fmt: skip

    # Deals whose landing-page form captured the click id of a demo click.
    for click_id, at, destination in rng.sample(clicks, min(len(clicks), 120)):
        separator = "&" if "?" in destination else "?"
        add(at + timedelta(minutes=rng.uniform(2, 600)),
            f"{destination}{separator}{click_id_param}={click_id}")  # fmt: skip
    # Deals that only kept the UTM parameters (utm_content is the employee handle).
    for handle, slug in rng.sample(handles, min(len(handles), 60)):
        add(now - timedelta(days=rng.uniform(1, 85)), "", handle, slug)
    # The non-advocacy baseline.
    for _ in range(220):
        add(now - timedelta(days=rng.uniform(1, 90)), "https://www.example.com/pricing")
    rows.sort(key=lambda row: row[3])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([list(DEMO_CRM_HEADER), *rows])
    return buffer.getvalue().encode("utf-8-sig")


def _demo_deal(
    rng: random.Random,
    n: int,
    now: datetime,
    created: datetime,
    landing: str,
    handle: str,
    slug: str,
    stage: str = "",
) -> list[str]:
    """Deal number ``n`` of the demo export: a stage (random unless given), amount, owner."""
    if stage:
        closed = created + timedelta(days=3) if stage.startswith("Closed") else None
    else:
        stage = rng.choices([s for s, _ in DEMO_STAGES], [w for _, w in DEMO_STAGES])[0]
        closed = (
            created + timedelta(days=rng.uniform(3, 60)) if stage.startswith("Closed") else None
        )
    if closed is not None and closed > now:
        stage, closed = "Contract sent", None
    amount = f"{rng.uniform(2_000, 60_000):.2f}" if rng.random() < 0.8 else ""
    source = "SOCIAL_MEDIA" if handle or "lt_cid" in landing else rng.choice(
        ("ORGANIC_SEARCH", "PAID_SEARCH", "DIRECT_TRAFFIC", "REFERRALS")
    )  # fmt: skip
    return [
        str(9_100_000_000 + n), f"Demo deal {n:04d}", stage,
        created.strftime("%Y-%m-%d %H:%M"), closed.strftime("%Y-%m-%d %H:%M") if closed else "",
        rng.choice(("Sales rep 1", "Sales rep 2", "Sales rep 3")), amount,
        "EUR" if rng.random() < 0.3 else "USD", "Sales Pipeline",
        source, landing, handle, slug, f"buyer{n}@customer{n % 97}.test",
    ]  # fmt: skip


DEMO_ATS_HEADER = (
    "Application ID", "Email Addresses", "Job Name", "Applied On", "Current Stage", "Status",
    "Source", "Referrer", "Hired Date", "Landing URL",
)  # fmt: skip
DEMO_JOBS = ("Platform Engineer", "Site Reliability Engineer", "Engineering Manager")


def _demo_ats(
    session: Session,
    rng: random.Random,
    settings: ProgramSettings,
    upload_folder: str,
    email_secret: bytes,
) -> str:
    """A Greenhouse-style applications export imported like an upload: from job-link clicks,
    employee referrals (by email and by name) and every other source."""
    from linktracker.campaigns.models import Campaign
    from linktracker.clicks.models import HUMAN_CLICK, Click
    from linktracker.crm.services import ImportContext, ImportOptions
    from linktracker.recruiting.imports import upload_and_import_ats

    now = utcnow()
    clicks = session.execute(
        select(Click.click_id, Click.created_at, Link.destination_url)
        .join(Link, Link.id == Click.link_id)
        .join(Campaign, Campaign.id == Click.campaign_id)
        .where(HUMAN_CLICK, Campaign.goal == "recruiting")
        .order_by(Click.id)
    ).all()
    people = session.execute(select(Employee.email, Employee.name).order_by(Employee.id)).all()
    rows: list[list[str]] = []

    def add(applied: datetime, source: str, referrer: str = "", landing: str = "") -> None:
        n = len(rows) + 1
        hired = rng.random() < 0.15
        stage = "Offer" if hired else rng.choice(("Application Review", "Phone Screen", "Onsite"))
        hired_at = applied + timedelta(days=rng.uniform(12, 45)) if hired else None
        if hired_at is not None and hired_at > now:
            hired, hired_at, stage = False, None, "Onsite"
        rows.append([
            str(80_000 + n), f"candidate{n:04d}@example.net", rng.choice(DEMO_JOBS),
            f"{applied:%m/%d/%Y}", stage, "Hired" if hired else "Active", source, referrer,
            f"{hired_at:%m/%d/%Y}" if hired_at else "", landing,
        ])  # fmt: skip

    param = settings.click_id_param
    for click_id, at, destination in rng.sample(clicks, min(len(clicks), 40)):
        separator = "&" if "?" in destination else "?"
        add(at + timedelta(hours=rng.uniform(1, 48)), "Jobs page on your website",
            landing=f"{destination}{separator}{param}={click_id}")  # fmt: skip
    for email, name in rng.sample(people, min(len(people), 15)):
        add(now - timedelta(days=rng.uniform(1, 80)), "Referral",
            referrer=email if rng.random() < 0.5 else name)  # fmt: skip
    sources = ("LinkedIn (Prospecting)", "Indeed", "Jobs page on your website")
    for _ in range(90):
        add(now - timedelta(days=rng.uniform(1, 90)), rng.choice(sources))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([list(DEMO_ATS_HEADER), *rows])
    result = upload_and_import_ats(
        session,
        io.BytesIO(buffer.getvalue().encode("utf-8-sig")),
        ImportContext(upload_folder, email_secret, window_days=settings.attribution_window_days),
        ImportOptions(click_id_param=param, dayfirst=False),
        filename="greenhouse-applications-demo.csv",
        source="greenhouse",
    )
    summary = result.summary
    return f"ATS: {summary.inserted} Greenhouse applications imported (import {summary.id})."
