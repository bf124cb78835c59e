"""My links: an employee's personal short links per campaign and channel, QR codes, figures."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import segno
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import EVERYONE, MANAGERS
from linktracker.campaigns.models import Campaign, PostText
from linktracker.campaigns.post_texts import list_post_texts, texts_for_channel
from linktracker.clicks.counts import LinkClickCounts, link_click_counts
from linktracker.employees.models import Employee
from linktracker.errors import NotFound
from linktracker.links.employee_links import (
    ChannelLink,
    EmployeeCampaign,
    ended_employee_links,
    list_employee_links,
    make_employee_links,
)
from linktracker.links.models import Link
from linktracker.links.services import employee_link_for_code
from linktracker.reports.filters import today_in
from linktracker.reports.own import OwnFigures, report_own_figures
from linktracker.web.context import db, identity, require_roles, runtime, settings
from linktracker.web.forms import CHANNEL_LABELS
from linktracker.web.own_data import own_data

my_links = Blueprint("my_links", __name__, url_prefix="/app/links")
FIGURE_DAYS = 90

# channel -> (network, share dialog, takes the text). LinkedIn, Facebook and XING share
# dialogs take only the address (they read the page's own title and image): the text is
# copied first, for pasting into the post.
SHARE_URLS = {
    "linkedin": ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?url={url}", False),
    "x": ("X", "https://x.com/intent/post?text={text}&url={url}", True),
    "facebook": ("Facebook", "https://www.facebook.com/sharer/sharer.php?u={url}", False),
    "email": ("email", "mailto:?subject={subject}&body={text}%0A%0A{url}", True),
    "whatsapp": ("WhatsApp", "https://wa.me/?text={text}%20{url}", True),
    "xing": ("XING", "https://www.xing.com/spi/shares/new?url={url}", False),
}


@dataclass(frozen=True)
class Variant:
    """One post text with the link: what "Copy text + link" copies and the share dialog."""

    text: str
    copy: str
    share_url: str | None


@dataclass(frozen=True)
class LinkItem:
    channel: str
    label: str
    short_url: str | None
    code: str | None
    figures: LinkClickCounts | None
    share_name: str | None
    share_takes_text: bool
    variants: tuple[Variant, ...]
    problem: str | None

    @property
    def share_url(self) -> str | None:
        return self.variants[0].share_url if self.variants else None


@dataclass(frozen=True)
class CampaignLinks:
    campaign: Campaign
    items: list[LinkItem]
    running: bool = True


def short_url(code: str) -> str:
    """The public address of a short code."""
    return f"{runtime().config.base_url}/{code}"


def share_url(channel: str, url: str, text: str, subject: str) -> str | None:
    """The network's share dialog for this channel, with the link (and text, if it takes one)."""
    if channel not in SHARE_URLS:
        return None
    _name, template, _takes_text = SHARE_URLS[channel]
    return template.format(
        url=quote(url, safe=""), text=quote(text, safe=""), subject=quote(subject, safe="")
    )


def _variants(channel: str, url: str, texts: list[str], subject: str) -> tuple[Variant, ...]:
    """Each post text with the link; without any, the campaign's name stands in for sharing."""
    if not texts:
        return (Variant("", url, share_url(channel, url, subject, subject)),)
    return tuple(
        Variant(text, f"{text}\n\n{url}", share_url(channel, url, text, subject)) for text in texts
    )


def _item(
    entry: EmployeeCampaign, channel: ChannelLink, texts: list[PostText], counts: Any
) -> LinkItem:
    label = CHANNEL_LABELS.get(channel.channel, channel.channel)
    link = channel.link
    if link is None:
        return LinkItem(channel.channel, label, None, None, None, None, False, (), channel.problem)
    url = short_url(link.code)
    name, _template, takes_text = SHARE_URLS.get(channel.channel, (None, "", False))
    variants = _variants(
        channel.channel, url, texts_for_channel(texts, channel.channel), entry.campaign.name
    )
    return LinkItem(
        channel.channel, label, url, link.code, counts[link.id], name, takes_text, variants, None
    )


def _cards(employee: Employee) -> tuple[list[CampaignLinks], list[CampaignLinks]]:
    """Running campaigns with this employee's link per channel, and the ended ones with links
    (writes nothing)."""
    program = settings()
    today = today_in(program.reporting_timezone)
    running = list_employee_links(
        db(),
        employee,
        today=today,
        medium=program.utm_medium,
        allowed_domains=program.allowed_domains,
    )
    ended = ended_employee_links(db(), employee, today)
    every = running + ended
    ids = [c.link.id for entry in every for c in entry.channels if c.link is not None]
    counts = link_click_counts(db(), ids)
    texts = list_post_texts(db(), [entry.campaign.id for entry in every])
    return [
        CampaignLinks(
            e.campaign, [_item(e, c, texts.get(e.campaign.id, []), counts) for c in e.channels]
        )
        for e in running
    ], [
        CampaignLinks(
            e.campaign,
            [_item(e, c, texts.get(e.campaign.id, []), counts) for c in e.channels],
            running=False,
        )
        for e in ended
    ]


def _employee() -> Employee | None:
    who = identity()
    assert who is not None
    return db().get(Employee, who.employee_id) if who.employee_id else None


@my_links.get("/")
@require_roles(*EVERYONE)
def index() -> str:
    employee = _employee()
    cards, ended = _cards(employee) if employee else ([], [])
    missing = any(item.code is None and item.problem is None for c in cards for item in c.items)
    figures = own_figures(employee.handle) if employee else None
    return render_template(
        "links/index.html",
        employee=employee,
        cards=cards,
        ended=ended,
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


def own_figures(handle: str) -> OwnFigures:
    """This employee's clicks, visitors, leads and won deals over the last FIGURE_DAYS days."""
    program = settings()
    return report_own_figures(
        db(),
        handle,
        today=today_in(program.reporting_timezone),
        days=FIGURE_DAYS,
        timezone=program.reporting_timezone,
        currency=program.default_currency,
    )


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
        # ?view=1: shown in the page (or a tab without JavaScript), not saved.
        as_attachment=request.args.get("view") != "1",
        download_name=f"{slug}-{link.channel}-qr.{kind}",
    )
