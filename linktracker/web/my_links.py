"""My links: an employee's personal short links per campaign and channel, QR codes, figures."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import segno
from flask import Blueprint, Response, flash, redirect, render_template, send_file, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import EVERYONE, MANAGERS
from linktracker.campaigns.models import Campaign
from linktracker.clicks.counts import LinkClickCounts, link_click_counts
from linktracker.employees.models import Employee
from linktracker.errors import NotFound
from linktracker.links.employee_links import list_employee_links, make_employee_links
from linktracker.links.models import Link
from linktracker.links.services import employee_link_for_code
from linktracker.reports.filters import ReportFilters, today_in
from linktracker.reports.results import Figures
from linktracker.reports.services import report_reps
from linktracker.web.context import db, identity, require_roles, runtime, settings
from linktracker.web.forms import CHANNEL_LABELS
from linktracker.web.own_data import own_data

my_links = Blueprint("my_links", __name__, url_prefix="/app/links")
FIGURE_DAYS = 90

SHARE_URLS = {
    "linkedin": ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?url={url}"),
    "x": ("X", "https://x.com/intent/post?url={url}&text={text}"),
    "facebook": ("Facebook", "https://www.facebook.com/sharer/sharer.php?u={url}"),
    "email": ("email", "mailto:?subject={text}&body={text}%0A%0A{url}"),
    "whatsapp": ("WhatsApp", "https://wa.me/?text={text}%20{url}"),
    "xing": ("XING", "https://www.xing.com/spi/shares/new?url={url}"),
}


@dataclass(frozen=True)
class LinkItem:
    channel: str
    label: str
    short_url: str | None
    code: str | None
    figures: LinkClickCounts | None
    share_name: str | None
    share_url: str | None
    problem: str | None


@dataclass(frozen=True)
class CampaignLinks:
    campaign: Campaign
    items: list[LinkItem]


def short_url(code: str) -> str:
    """The public address of a short code."""
    return f"{runtime().config.base_url}/{code}"


def share_url(channel: str, url: str, text: str) -> tuple[str | None, str | None]:
    """The network's share dialog for this channel, with the personal link filled in."""
    if channel not in SHARE_URLS:
        return None, None
    name, template = SHARE_URLS[channel]
    return name, template.format(url=quote(url, safe=""), text=quote(text, safe=""))


def _cards(employee: Employee) -> list[CampaignLinks]:
    """Every running campaign with this employee's link per channel (writes nothing)."""
    program = settings()
    campaigns = list_employee_links(
        db(),
        employee,
        today=today_in(program.reporting_timezone),
        medium=program.utm_medium,
        allowed_domains=program.allowed_domains,
    )
    ids = [c.link.id for entry in campaigns for c in entry.channels if c.link is not None]
    figures = link_click_counts(db(), ids)
    cards = []
    for entry in campaigns:
        items = []
        for channel, link, problem in ((c.channel, c.link, c.problem) for c in entry.channels):
            label = CHANNEL_LABELS.get(channel, channel)
            if link is None:
                items.append(LinkItem(channel, label, None, None, None, None, None, problem))
                continue
            url = short_url(link.code)
            name, share = share_url(channel, url, entry.campaign.name)
            items.append(
                LinkItem(channel, label, url, link.code, figures[link.id], name, share, None)
            )
        cards.append(CampaignLinks(entry.campaign, items))
    return cards


def _employee() -> Employee | None:
    who = identity()
    assert who is not None
    return db().get(Employee, who.employee_id) if who.employee_id else None


@my_links.get("/")
@require_roles(*EVERYONE)
def index() -> str:
    employee = _employee()
    cards = _cards(employee) if employee else []
    missing = any(item.code is None and item.problem is None for c in cards for item in c.items)
    figures = own_figures(employee.handle) if employee else None
    return render_template(
        "links/index.html",
        employee=employee,
        cards=cards,
        missing=missing,
        figures=figures,
        days=FIGURE_DAYS,
    )


@my_links.post("/")
@require_roles(*EVERYONE)
def make_links() -> BaseResponse:
    """Make the employee's links missing on the running campaigns, then show them."""
    employee = _employee()
    if employee is not None:
        program = settings()
        made, problems = make_employee_links(
            db(),
            employee,
            today=today_in(program.reporting_timezone),
            medium=program.utm_medium,
            allowed_domains=program.allowed_domains,
        )
        if made:
            flash(f"{made:,} new link(s) made.", "success")
        for problem in problems:
            flash(problem, "error")
    return redirect(url_for("my_links.index"))


@my_links.get("/my-data.json")
@require_roles(*EVERYONE)
def my_data() -> Response:
    """Download everything held about me (profile, links, clicks, credited records)."""
    return own_data(download=True)


def own_figures(handle: str) -> Figures | None:
    """This employee's clicks, visitors, leads and won deals over the last FIGURE_DAYS days."""
    program = settings()
    timezone = program.reporting_timezone
    today = today_in(timezone)
    filters = ReportFilters(today - timedelta(days=FIGURE_DAYS - 1), today, employee=handle)
    report = report_reps(db(), filters, timezone=timezone, currency=program.default_currency)
    return report.reps[0].figures if report.reps else None


def own_link(code: str) -> Link:
    """The link with this code if the signed-in person may see it (managers: any), else 404."""
    who = identity()
    assert who is not None
    link = employee_link_for_code(db(), code)
    if link is None or (who.role not in MANAGERS and link.employee_id != who.employee_id):
        # The same answer as an unknown code: others' codes cannot be probed.
        raise NotFound("There is no such link among yours.")
    return link


@my_links.get("/<code>/qr.<any(png, svg):kind>")
@require_roles(*EVERYONE)
def qr_code(code: str, kind: str) -> BaseResponse:
    link = own_link(code)
    campaign = db().get(Campaign, link.campaign_id)
    qr = segno.make(short_url(link.code), error="m")
    buffer = io.BytesIO()
    if kind == "png":
        qr.save(buffer, kind="png", scale=10, border=2)
    else:
        qr.save(buffer, kind="svg", scale=10, border=2, xmldecl=False)
    buffer.seek(0)
    slug = campaign.slug if campaign else "link"
    return send_file(
        buffer,
        mimetype="image/png" if kind == "png" else "image/svg+xml",
        as_attachment=True,
        download_name=f"{slug}-{link.channel}-qr.{kind}",
    )
