"""Campaigns for marketers: list, create and edit with a UTM preview, generate links, retire."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import MANAGERS
from linktracker.campaigns.post_texts import PostTextInput, list_post_texts
from linktracker.campaigns.services import (
    create_campaign,
    get_campaign_by_id,
    list_campaigns,
    set_campaign_active,
    slugify,
    update_campaign,
)
from linktracker.clicks.counts import CampaignLinkCount, campaign_link_counts, campaign_links
from linktracker.employees.services import list_employees
from linktracker.errors import DomainError, InvalidInput
from linktracker.links.preview import Preview, build_preview
from linktracker.links.services import (
    create_campaign_links,
    get_or_create_link,
)
from linktracker.reports.all_time import all_time
from linktracker.reports.filters import today_in
from linktracker.reports.records import list_records
from linktracker.reports.services import report_campaigns
from linktracker.web.audience_pages import audience_section, report_csv_url
from linktracker.web.context import db, identity, require_roles, runtime, settings
from linktracker.web.forms import (
    CHANNEL_LABELS,
    CampaignForm,
    form_values,
    render_form,
    show_errors,
)
from linktracker.web.reports_pages import read_filters, records_query, records_state

campaigns = Blueprint("campaigns", __name__, url_prefix="/app/campaigns")
FIELDS = (
    "name",
    "destination_url",
    "channels",
    "goal",
    "utm_medium",
    "utm_id",
    "utm_term",
    "utm_lowercase",
    "starts_on",
    "ends_on",
)


def _preview(values: dict[str, Any], slug: str) -> Preview:
    """The final URL preview of a campaign form, with this installation's settings."""
    program = settings()
    return build_preview(
        db(),
        values,
        slug,
        click_id_param=program.click_id_param,
        allowed_domains=program.allowed_domains,
        medium=program.utm_medium,
        labels=CHANNEL_LABELS,
    )


def _form_post_texts() -> list[PostTextInput]:
    """The form's post-text rows; a row left blank is no variant."""
    channels = request.form.getlist("post_text_channel")
    texts = request.form.getlist("post_text")
    return [
        PostTextInput(channel or None, text_)
        for channel, text_ in zip(channels, texts, strict=False)
        if text_.strip()
    ]


def _show_errors(form: CampaignForm, exc: DomainError) -> tuple[str, dict[str, str]]:
    """The general message and the post-text rows' messages (shown beside their row)."""
    rows = {k: v for k, v in exc.fields.items() if k.startswith("post_texts")}
    rest = {k: v for k, v in exc.fields.items() if k not in rows}
    return show_errors(form, type(exc)(exc.message, rest)), rows


def _render(
    form: CampaignForm,
    campaign: Any,
    texts: list[PostTextInput],
    preview: Preview | None = None,
    error: str | None = None,
    text_errors: dict[str, str] | None = None,
) -> BaseResponse:
    return render_form(
        "campaigns/form.html",
        form=form,
        campaign=campaign,
        preview=preview,
        error=error,
        post_texts=texts,
        text_errors=text_errors or {},
        channel_labels=CHANNEL_LABELS,
    )


@campaigns.get("/")
@require_roles(*MANAGERS)
def index() -> str:
    """Every campaign with its links, and its figures over the range picked (default 30 days)."""
    state = read_filters()
    program = settings()
    zone = program.reporting_timezone
    whole = request.args.get("range") == "all"
    if whole:
        today = today_in(zone)
        state = replace(state, filters=all_time(db(), state.filters, timezone=zone, today=today))
    report = report_campaigns(db(), state.filters, timezone=zone, currency=program.default_currency)
    figures = {row.campaign.slug: row.figures for row in report.campaigns if row.campaign}
    counts = campaign_link_counts(db())
    rows = [
        (c, counts.get(c.id, CampaignLinkCount(0, 0, 0)), figures.get(c.slug))
        for c in list_campaigns(db())
    ]
    return render_template("campaigns/index.html", rows=rows, state=state, all_time=whole)


@campaigns.route("/new", methods=["GET", "POST"])
@require_roles(*MANAGERS)
def new() -> str | BaseResponse:
    form = CampaignForm()
    if not form.is_submitted():
        form.utm_lowercase.data = runtime().config.utm_lowercase
    preview, error = None, None
    text_errors: dict[str, str] = {}
    texts = _form_post_texts()
    if form.is_submitted():
        values = form_values(form, *FIELDS)
        if "preview" in request.form:
            preview = _preview(values, form.slug.data or slugify(form.name.data or ""))
        elif form.validate():
            try:
                campaign = create_campaign(
                    db(),
                    slug=(form.slug.data or "").strip() or None,
                    allowed_domains=settings().allowed_domains,
                    post_texts=texts,
                    **values,
                )
            except DomainError as exc:
                db().rollback()
                error, text_errors = _show_errors(form, exc)
            else:
                flash(f"Campaign “{campaign.name}” created. Generate links when ready.", "success")
                return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return _render(form, None, texts, preview, error, text_errors)


@campaigns.get("/<int:campaign_id>")
@require_roles(*MANAGERS)
def detail(campaign_id: int) -> tuple[str, int]:
    campaign = get_campaign_by_id(db(), campaign_id)
    counts = campaign_link_counts(db()).get(campaign.id, CampaignLinkCount(0, 0, 0))
    values = {name: getattr(campaign, name) for name in FIELDS}
    preview = _preview(values, campaign.slug)
    state = read_filters()
    asked = records_query()
    program = settings()
    page = list_records(
        db(),
        replace(state.filters, campaign=campaign.slug, channel=None, team=None),
        asked,
        timezone=program.reporting_timezone,
        currency=program.default_currency,
    )
    query = {"from": state.query["from"], "to": state.query["to"]}
    filters = replace(state.filters, campaign=campaign.slug)
    return render_template(
        "campaigns/detail.html",
        page=page,
        records_state=records_state(replace(state, query=query), asked),
        campaign=campaign,
        counts=counts,
        preview=preview,
        base_url=runtime().config.base_url,
        links=campaign_links(db(), campaign.id),
        employees=[e for e in list_employees(db()) if e.active],
        channel_labels=CHANNEL_LABELS,
        post_texts=list_post_texts(db(), [campaign.id]).get(campaign.id, []),
        state=state,
        range_query=query,
        **audience_section(filters, report_csv_url({**query, "campaign": campaign.slug})),
    ), (422 if state.errors else 200)


@campaigns.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@require_roles(*MANAGERS)
def edit(campaign_id: int) -> str | BaseResponse:
    campaign = get_campaign_by_id(db(), campaign_id)
    form = CampaignForm(obj=campaign)
    preview, error = None, None
    text_errors: dict[str, str] = {}
    saved = list_post_texts(db(), [campaign.id]).get(campaign.id, [])
    texts = [PostTextInput(t.channel, t.text) for t in saved]
    if form.is_submitted():
        texts = _form_post_texts()
        values = form_values(form, *FIELDS)
        if "preview" in request.form:
            preview = _preview(values, campaign.slug)
        elif form.validate():
            try:
                update_campaign(
                    db(),
                    campaign.id,
                    allowed_domains=settings().allowed_domains,
                    post_texts=texts,
                    **values,
                )
            except DomainError as exc:
                db().rollback()
                error, text_errors = _show_errors(form, exc)
            else:
                flash("Campaign saved. Links made earlier keep their destination.", "success")
                return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return _render(form, campaign, texts, preview, error, text_errors)


@campaigns.post("/<int:campaign_id>/links")
@require_roles(*MANAGERS)
def generate_links(campaign_id: int) -> BaseResponse:
    campaign = get_campaign_by_id(db(), campaign_id)
    try:
        result = create_campaign_links(
            db(),
            campaign_slug=campaign.slug,
            medium=settings().utm_medium,
            allowed_domains=settings().allowed_domains,
        )
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(
            f"{result.created:,} new link(s) made; {result.existing:,} existed already.",
            "success",
        )
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


@campaigns.post("/<int:campaign_id>/custom-link")
@require_roles(*MANAGERS)
def custom_link(campaign_id: int) -> BaseResponse:
    campaign = get_campaign_by_id(db(), campaign_id)
    who = identity()
    assert who is not None
    code = request.form.get("code", "").strip()
    channel = request.form.get("channel", "")
    try:
        if not code:
            raise InvalidInput("Enter the custom short code.", {"code": "Required."})
        result = get_or_create_link(
            db(),
            campaign_slug=campaign.slug,
            employee_handle=request.form.get("employee", "").strip(),
            channel=channel,
            medium=settings().utm_medium,
            allowed_domains=settings().allowed_domains,
            vanity=code,
            chosen_by=who.role,
        )
    except DomainError as exc:
        db().rollback()
        flash(exc.message, "error")
    else:
        url = f"{runtime().config.base_url}/{result.link.code}"
        if result.created:
            flash(f"Custom link {url} made.", "success")
        else:
            flash(
                f"This employee already has a link on this channel ({url}); "
                "a custom code can only be given to a new link.",
                "error",
            )
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


@campaigns.post("/<int:campaign_id>/active")
@require_roles(*MANAGERS)
def set_active(campaign_id: int) -> BaseResponse:
    active = request.form.get("active") == "1"
    campaign = set_campaign_active(db(), campaign_id, active)
    runtime().links.forget()
    state = "enabled: its links redirect again" if active else "disabled: its links answer 410"
    flash(f"Campaign “{campaign.name}” {state}.", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))
