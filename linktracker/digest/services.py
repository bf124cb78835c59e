"""The weekly digest: what goes to whom, sending it once per week, and turning it off.

A week runs Monday to Sunday in the reporting time zone; by default the digest covers the
last full week. Each employee gets a week's digest at most once: a row in digest_sends is
claimed before the message leaves, and a failed send is tried again by the next run.
"""

from __future__ import annotations

import html
import smtplib
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linktracker.campaigns.channels import CHANNELS
from linktracker.campaigns.models import Campaign, PostText
from linktracker.campaigns.post_texts import list_post_texts
from linktracker.db import utcnow
from linktracker.digest.models import DigestSend
from linktracker.digest.smtp import SmtpSettings, connect
from linktracker.employees.models import Employee
from linktracker.errors import NotFound
from linktracker.links.models import Link
from linktracker.links.services import create_campaign_links
from linktracker.reports.filters import ReportFilters
from linktracker.reports.scope import utc_midnight
from linktracker.reports.services import report_reps
from linktracker.settings.services import ProgramSettings

UNSUBSCRIBE_PATH = "/app/digest/unsubscribe/"
_TOKEN_SALT = "digest-unsubscribe"
CHANNEL_NAMES = {"linkedin": "LinkedIn", "x": "X", "email": "Email", "xing": "XING"}


@dataclass(frozen=True)
class DigestConfig:
    """What building and sending a digest needs from the installation."""

    timezone: str
    base_url: str
    medium: str
    allowed_domains: Sequence[str]
    secret: bytes
    sender: str
    show_ranks: bool = True  # the program's "show employees their rank" setting


def digest_config(
    program: ProgramSettings, *, base_url: str, secret: bytes, sender: str
) -> DigestConfig:
    """The digest settings from the program's settings and the server's configuration."""
    return DigestConfig(
        timezone=program.reporting_timezone,
        base_url=base_url,
        medium=program.utm_medium,
        allowed_domains=program.allowed_domains,
        secret=secret,
        sender=sender,
        show_ranks=program.show_ranks,
    )


@dataclass(frozen=True)
class DigestLink:
    channel: str
    url: str | None  # None in a dry run: the link is made when the digest is sent


@dataclass(frozen=True)
class DigestCampaign:
    name: str
    slug: str
    links: tuple[DigestLink, ...]
    post_text: str | None = None  # the marketer's text for every channel (else the first one)


@dataclass(frozen=True)
class Digest:
    employee_id: int
    name: str
    email: str
    week_start: date
    campaigns: tuple[DigestCampaign, ...]
    clicks: int
    leads: int
    rank: int | None  # by clicks among employees with clicks that week; None without clicks
    ranked: int
    links_url: str
    stories_url: str
    unsubscribe_url: str
    show_rank: bool = True

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def subject(self) -> str:
        new = len(self.campaigns)
        what = f"{new} new campaign{'s' if new != 1 else ''}, " if new else ""
        return (
            f"Your advocacy week {self.week_start:%b %d} to {self.week_end:%b %d}: "
            f"{what}{self.clicks:,} click{'s' if self.clicks != 1 else ''}"
        )


@dataclass(frozen=True)
class DigestPlan:
    week_start: date
    digests: tuple[Digest, ...]
    opted_out: int
    already_sent: int


@dataclass
class DigestRun:
    week_start: date
    dry_run: bool
    sent: list[Digest] = field(default_factory=list)
    failed: list[tuple[Digest, str]] = field(default_factory=list)
    would_send: list[Digest] = field(default_factory=list)
    opted_out: int = 0
    already_sent: int = 0


def week_start_of(day: date) -> date:
    """The Monday of the week holding ``day``."""
    return day - timedelta(days=day.weekday())


def last_full_week(today: date) -> date:
    """The Monday of the last week that has ended by ``today``."""
    return week_start_of(today) - timedelta(days=7)


def unsubscribe_token(secret: bytes, employee_id: int) -> str:
    """A signed token naming the employee: the unsubscribe link carries it instead of a login."""
    return URLSafeSerializer(secret, salt=_TOKEN_SALT).dumps(employee_id)


def read_unsubscribe_token(secret: bytes, token: str) -> int:
    """The employee id a token names, or NotFound for a token this installation did not sign."""
    try:
        value = URLSafeSerializer(secret, salt=_TOKEN_SALT).loads(token)
    except BadSignature:
        value = None
    if not isinstance(value, int):
        raise NotFound("This unsubscribe link is not valid; change the setting on your page.")
    return value


def set_digest_opt_out(session: Session, employee_id: int, opt_out: bool) -> Employee:
    """Turn the weekly digest off (or back on) for this employee."""
    employee = session.get(Employee, employee_id)
    if employee is None or employee.erased_at is not None:
        raise NotFound("There is no such employee.")
    employee.digest_opt_out = opt_out
    session.commit()
    return employee


def _new_campaigns(session: Session, week_start: date, config: DigestConfig) -> list[Campaign]:
    """Active campaigns created during the week that have not ended before it ended."""
    zone = zoneinfo.ZoneInfo(config.timezone)
    start = utc_midnight(week_start, zone)
    end = utc_midnight(week_start + timedelta(days=7), zone)
    week_end = week_start + timedelta(days=6)
    return [
        campaign
        for campaign in session.scalars(
            select(Campaign)
            .where(
                Campaign.active.is_(True),
                Campaign.created_at >= start,
                Campaign.created_at < end,
            )
            .order_by(Campaign.created_at, Campaign.id)
        )
        if campaign.ends_on is None or campaign.ends_on >= week_end
    ]


def plan_digests(
    session: Session,
    week_start: date,
    config: DigestConfig,
    *,
    employee_ids: Sequence[int] | None = None,
    preview: bool = False,
) -> DigestPlan:
    """Who gets the week's digest (and what it says): active employees who did not opt out
    and were not sent this week's digest yet. Reads only; no link is made.

    A ``preview`` (an employee's own page) shows the digest whether or not it is sent."""
    week_start = week_start_of(week_start)
    week = ReportFilters(week_start, week_start + timedelta(days=6))
    reps = report_reps(session, week, timezone=config.timezone).reps
    clicks = {row.employee.handle: row.figures.clicks or 0 for row in reps}
    leads = {row.employee.handle: row.figures.leads for row in reps}
    ranked = sorted((n for n in clicks.values() if n > 0), reverse=True)
    campaigns = _new_campaigns(session, week_start, config)
    people = select(Employee).where(Employee.active.is_(True), Employee.erased_at.is_(None))
    if employee_ids is not None:
        people = people.where(Employee.id.in_(list(employee_ids)))
    done = set(
        session.scalars(
            select(DigestSend.employee_id).where(
                DigestSend.week == week_start, DigestSend.status.in_(("sent", "sending"))
            )
        )
    )
    links = _links(session, [c.id for c in campaigns])
    texts = list_post_texts(session, [c.id for c in campaigns])
    digests, opted_out, already = [], 0, 0
    base = config.base_url.rstrip("/")
    for employee in session.scalars(people.order_by(Employee.id)):
        if employee.digest_opt_out and not preview:
            opted_out += 1
            continue
        if employee.id in done and not preview:
            already += 1
            continue
        n = clicks.get(employee.handle, 0)
        digests.append(
            Digest(
                employee_id=employee.id,
                name=employee.name,
                email=employee.email,
                week_start=week_start,
                campaigns=tuple(
                    DigestCampaign(
                        c.name,
                        c.slug,
                        tuple(
                            DigestLink(
                                channel, _short(base, links.get((c.id, employee.id, channel)))
                            )
                            for channel in c.channels
                        ),
                        _post_text(texts.get(c.id, [])),
                    )
                    for c in campaigns
                ),
                clicks=n,
                leads=leads.get(employee.handle, 0),
                rank=1 + sum(1 for other in ranked if other > n) if n > 0 else None,
                ranked=len(ranked),
                links_url=f"{base}/app/links/",
                stories_url=f"{base}/app/stories/",
                unsubscribe_url=f"{base}{UNSUBSCRIBE_PATH}"
                f"{unsubscribe_token(config.secret, employee.id)}",
                show_rank=config.show_ranks,
            )
        )
    return DigestPlan(week_start, tuple(digests), opted_out, already)


def _post_text(variants: Sequence[PostText]) -> str | None:
    every = [v.text for v in variants if v.channel is None] or [v.text for v in variants]
    return every[0] if every else None


def _links(session: Session, campaign_ids: list[int]) -> dict[tuple[int, int, str], str]:
    if not campaign_ids:
        return {}
    return {
        (campaign_id, employee_id, channel): code
        for campaign_id, employee_id, channel, code in session.execute(
            select(Link.campaign_id, Link.employee_id, Link.channel, Link.code).where(
                Link.campaign_id.in_(campaign_ids), Link.disabled.is_(False)
            )
        )
    }


def _short(base: str, code: str | None) -> str | None:
    return f"{base}/{code}" if code else None


def send_digests(
    session: Session,
    week_start: date,
    config: DigestConfig,
    smtp: SmtpSettings | None,
    *,
    dry_run: bool = False,
) -> DigestRun:
    """Send the week's digest to everyone who should get it; one failure never stops the rest.

    A dry run makes nothing, records nothing and sends nothing: it says who would get what."""
    week_start = week_start_of(week_start)
    if not dry_run:
        assert smtp is not None, "sending needs SMTP settings"
        # The share links of the week's new campaigns, made for everyone before they are listed.
        for campaign in _new_campaigns(session, week_start, config):
            create_campaign_links(
                session,
                campaign_slug=campaign.slug,
                medium=config.medium,
                allowed_domains=config.allowed_domains,
            )
    plan = plan_digests(session, week_start, config)
    run = DigestRun(week_start, dry_run, opted_out=plan.opted_out, already_sent=plan.already_sent)
    if dry_run:
        run.would_send = list(plan.digests)
        return run
    assert smtp is not None
    server: smtplib.SMTP | None = None
    unreachable: str | None = None
    try:
        for digest in plan.digests:
            if unreachable is not None:
                # Not claimed: the next run sends it. Waiting out a dead server per recipient
                # would only make this run slow.
                run.failed.append(
                    (digest, f"not tried, connecting to the server failed: {unreachable}")
                )
                continue
            if not _claim(session, digest.employee_id, week_start):
                run.already_sent += 1
                continue
            try:
                if server is None:
                    try:
                        server = connect(smtp)
                    except (smtplib.SMTPException, OSError) as exc:
                        unreachable = _reason(exc)
                        raise
                server.send_message(build_message(digest, config))
            except (smtplib.SMTPException, OSError) as exc:
                reason = _reason(exc)
                _record(session, digest.employee_id, week_start, "failed", reason)
                run.failed.append((digest, reason))
                if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                    _drop(server)  # the connection may be gone: open a new one next
                    server = None
            else:
                _record(session, digest.employee_id, week_start, "sent", None)
                run.sent.append(digest)
    finally:
        _drop(server, quit=True)
    return run


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [
            f"{code} {message.decode(errors='replace') if isinstance(message, bytes) else message}"
            for code, message in exc.recipients.values()
        ]
        return "recipient refused: " + "; ".join(codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _drop(server: smtplib.SMTP | None, *, quit: bool = False) -> None:
    if server is None:
        return
    try:
        if quit:
            server.quit()
        else:
            server.close()
    except (smtplib.SMTPException, OSError):
        server.close()


def _claim(session: Session, employee_id: int, week: date) -> bool:
    """Take this employee's week for this run: a new row, or a failed one retried."""
    session.add(DigestSend(employee_id=employee_id, week=week, status="sending"))
    try:
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
    retried = session.execute(  # type: ignore[attr-defined]
        update(DigestSend)
        .where(
            DigestSend.employee_id == employee_id,
            DigestSend.week == week,
            DigestSend.status == "failed",
        )
        .values(status="sending", error=None, attempted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(retried)


def _record(session: Session, employee_id: int, week: date, status: str, error: str | None) -> None:
    session.execute(
        update(DigestSend)
        .where(DigestSend.employee_id == employee_id, DigestSend.week == week)
        .values(status=status, error=error, attempted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def channel_name(channel: str) -> str:
    """How a channel is written in the email."""
    return CHANNEL_NAMES.get(channel, channel.capitalize() if channel in CHANNELS else channel)


def digest_text(digest: Digest) -> str:
    """The plain-text body."""
    lines = [
        f"Hi {digest.name},",
        "",
        f"Your week ({digest.week_start.isoformat()} to {digest.week_end.isoformat()}):",
        f"  {digest.clicks:,} click{'s' if digest.clicks != 1 else ''} on your links, "
        f"{digest.leads:,} lead{'s' if digest.leads != 1 else ''} credited to you.",
        *([f"  {_rank_text(digest)}"] if digest.show_rank else []),
        "",
    ]
    if digest.campaigns:
        lines.append("New campaigns to share:")
        for campaign in digest.campaigns:
            lines += ["", campaign.name]
            if campaign.post_text:
                lines += [f"  {line}" for line in campaign.post_text.splitlines()]
            lines += [
                f"  {channel_name(link.channel)}: {link.url or '(your link is made when sent)'}"
                for link in campaign.links
            ]
    else:
        lines.append("No new campaigns this week; your links to the running ones are on My links.")
    lines += [
        "",
        f"Your links and figures: {digest.links_url}",
        f"Seen something worth sharing? Suggest a story: {digest.stories_url}",
        "",
        "You get this email once a week.",
        f"Unsubscribe: {digest.unsubscribe_url}",
    ]
    return "\n".join(lines) + "\n"


def _rank_text(digest: Digest) -> str:
    if digest.rank is None:
        return "No clicks this week, so no rank: share a link to get on the board."
    return f"You ranked #{digest.rank} of {digest.ranked} active advocates by clicks."


def digest_html(digest: Digest) -> str:
    """The HTML body (the same content as the text body)."""
    e = html.escape
    parts = [
        f"<p>Hi {e(digest.name)},</p>",
        f"<h2>Your week ({digest.week_start.isoformat()} to {digest.week_end.isoformat()})</h2>",
        f"<p><strong>{digest.clicks:,}</strong> click{'s' if digest.clicks != 1 else ''} on "
        f"your links, <strong>{digest.leads:,}</strong> "
        f"lead{'s' if digest.leads != 1 else ''} credited to you."
        + (f"<br>{e(_rank_text(digest))}" if digest.show_rank else "")
        + "</p>",
    ]
    if digest.campaigns:
        parts.append("<h2>New campaigns to share</h2>")
        for campaign in digest.campaigns:
            items = "".join(
                f'<li>{e(channel_name(link.channel))}: <a href="{e(url)}">{e(url)}</a></li>'
                if (url := link.url)
                else f"<li>{e(channel_name(link.channel))}: your link is made when sent</li>"
                for link in campaign.links
            )
            text = (
                f'<p style="white-space:pre-line">{e(campaign.post_text)}</p>'
                if campaign.post_text
                else ""
            )
            parts.append(f"<h3>{e(campaign.name)}</h3>{text or ''}<ul>{items}</ul>")
    else:
        parts.append(
            "<p>No new campaigns this week; your links to the running ones are on My links.</p>"
        )
    parts += [
        f'<p><a href="{e(digest.links_url)}">Your links and figures</a> · '
        f'<a href="{e(digest.stories_url)}">Suggest a story</a></p>',
        f'<p style="color:#667085;font-size:12px">You get this email once a week. '
        f'<a href="{e(digest.unsubscribe_url)}">Unsubscribe</a></p>',
    ]
    return "<!doctype html><html><body>" + "\n".join(parts) + "</body></html>"


def build_message(digest: Digest, config: DigestConfig) -> EmailMessage:
    """The digest as an email: text and HTML, with one-click unsubscribe headers."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = formataddr((digest.name, digest.email))
    message["Subject"] = digest.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=urlsplit(config.base_url).hostname or None)
    message["List-Unsubscribe"] = f"<{digest.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(digest_text(digest))
    message.add_alternative(digest_html(digest), subtype="html")
    return message
