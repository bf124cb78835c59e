"""Creating, editing and retiring campaigns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linktracker.campaigns.channels import CHANNELS
from linktracker.campaigns.models import GOALS, Campaign
from linktracker.campaigns.post_texts import PostTextInput, post_text_errors, replace_post_texts
from linktracker.db import get_or_not_found
from linktracker.errors import Conflict, InvalidInput, NotFound
from linktracker.limits import nul_errors, text_errors
from linktracker.urls.destinations import check_destination
from linktracker.urls.query import normalise_utm_value

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
DEFAULT_CHANNELS = ("linkedin", "x", "facebook", "email")


def slugify(name: str) -> str:
    """A URL- and UTM-safe slug from a campaign name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "campaign"


def create_campaign(
    session: Session,
    *,
    name: str,
    destination_url: str,
    allowed_domains: Sequence[str],
    slug: str | None = None,
    channels: Iterable[str] | None = None,
    goal: str = "leads",
    utm_medium: str | None = None,
    utm_id: str | None = None,
    utm_term: str | None = None,
    utm_lowercase: bool = True,
    starts_on: date | None = None,
    ends_on: date | None = None,
    post_texts: Sequence[PostTextInput] = (),
    commit: bool = True,
) -> Campaign:
    """Create a campaign after validating destination, slug, channels, dates and post texts.

    With ``commit=False`` the campaign is only flushed: the caller commits it together with
    its own changes (an approved story contribution and the campaign made from it)."""
    campaign = Campaign(active=True)
    texts = _apply(
        campaign,
        name=name,
        destination_url=destination_url,
        allowed_domains=allowed_domains,
        slug=slug if slug else slugify(name),
        channels=channels,
        goal=goal,
        utm=(utm_medium, utm_id, utm_term),
        utm_lowercase=utm_lowercase,
        dates=(starts_on, ends_on),
        post_texts=post_texts,
    )
    if session.scalar(select(Campaign.id).where(Campaign.slug == campaign.slug)):
        raise Conflict(
            f"A campaign with slug '{campaign.slug}' already exists.", {"slug": "Taken."}
        )
    session.add(campaign)
    try:
        session.flush()
        replace_post_texts(session, campaign.id, texts or ())
        if commit:
            session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"A campaign with slug '{campaign.slug}' already exists.") from exc
    return campaign


def update_campaign(
    session: Session,
    campaign_id: int,
    *,
    name: str,
    destination_url: str,
    allowed_domains: Sequence[str],
    channels: Iterable[str] | None,
    goal: str,
    utm_medium: str | None,
    utm_id: str | None,
    utm_term: str | None,
    utm_lowercase: bool,
    starts_on: date | None,
    ends_on: date | None,
    post_texts: Sequence[PostTextInput] | None = None,
) -> Campaign:
    """Edit a campaign (post texts None: left as they are); links keep their destination."""
    campaign = get_campaign_by_id(session, campaign_id)
    texts = _apply(
        campaign,
        name=name,
        destination_url=destination_url,
        allowed_domains=allowed_domains,
        slug=campaign.slug,
        channels=channels,
        goal=goal,
        utm=(utm_medium, utm_id, utm_term),
        utm_lowercase=utm_lowercase,
        dates=(starts_on, ends_on),
        post_texts=post_texts,
    )
    if texts is not None:
        replace_post_texts(session, campaign.id, texts)
    session.commit()
    return campaign


def _apply(
    campaign: Campaign,
    *,
    name: str,
    destination_url: str,
    allowed_domains: Sequence[str],
    slug: str,
    channels: Iterable[str] | None,
    goal: str,
    utm: tuple[str | None, str | None, str | None],
    utm_lowercase: bool,
    dates: tuple[date | None, date | None],
    post_texts: Sequence[PostTextInput] | None,
) -> list[PostTextInput] | None:
    """Validate every field (and the post texts) at once, then set the campaign's columns."""
    channels = None if channels is None else list(channels)
    medium, utm_id, term = (_clean(v) for v in utm)
    errors = text_errors(
        Campaign,
        {
            "name": name.strip(),
            "slug": slug,
            "destination_url": destination_url,
            "goal": goal,
            "utm_medium": medium,
            "utm_id": utm_id,
            "utm_term": term,
        },
    )
    errors.update(nul_errors({"channels": "".join(channels or ())}))
    if not name.strip():
        errors.setdefault("name", "Name is required.")
    if not SLUG_RE.fullmatch(slug):
        errors.setdefault("slug", "Slug may contain only lowercase letters, digits and '-'.")
    if "destination_url" not in errors:
        try:
            destination_url = check_destination(destination_url, allowed_domains)
        except InvalidInput as exc:
            errors["destination_url"] = exc.fields.get("destination_url", exc.message)
    chosen = list(dict.fromkeys(c.strip().lower() for c in (channels or DEFAULT_CHANNELS)))
    unknown = [c for c in chosen if c not in CHANNELS]
    if (unknown or not chosen) and "channels" not in errors:
        errors["channels"] = (
            f"Unknown channel(s): {', '.join(unknown)}. " if unknown else "Pick a channel. "
        ) + f"Choose from {', '.join(CHANNELS)}."
    if goal not in GOALS and "goal" not in errors:
        errors["goal"] = f"Goal must be one of {', '.join(GOALS)}."
    if dates[0] and dates[1] and dates[1] < dates[0]:
        errors["ends_on"] = "The end date is before the start date."
    texts = None
    if post_texts is not None:
        texts, text_problems = post_text_errors(post_texts, chosen)
        errors.update(text_problems)
    if errors:
        raise InvalidInput("The campaign could not be saved.", errors)
    campaign.name = name.strip()
    campaign.slug = slug
    campaign.destination_url = destination_url
    campaign.channels = chosen
    campaign.goal = goal
    campaign.utm_medium = normalise_utm_value(medium, lowercase=utm_lowercase) if medium else None
    campaign.utm_id = utm_id
    campaign.utm_term = term
    campaign.utm_lowercase = utm_lowercase
    campaign.starts_on, campaign.ends_on = dates
    return texts


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def get_campaign(session: Session, slug: str) -> Campaign:
    """The campaign with this slug, or NotFound."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise NotFound(f"No campaign with slug '{slug}'.", {"campaign": "Unknown campaign."})
    return campaign


def get_campaign_by_id(session: Session, campaign_id: int) -> Campaign:
    """The campaign with this id, or NotFound."""
    return get_or_not_found(session, Campaign, campaign_id, "campaign")


def set_campaign_active(session: Session, campaign_id: int, active: bool) -> Campaign:
    """Retire (or revive) a campaign; its links stop (or resume) redirecting."""
    campaign = get_campaign_by_id(session, campaign_id)
    campaign.active = active
    session.commit()
    return campaign


def list_campaigns(session: Session, *, active_only: bool = False) -> list[Campaign]:
    """Campaigns, newest first."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if active_only:
        query = query.where(Campaign.active.is_(True))
    return list(session.scalars(query))


def set_post_texts(session: Session, slug: str, post_texts: Sequence[PostTextInput]) -> Campaign:
    """Replace a campaign's post texts (an empty list removes them all)."""
    campaign = get_campaign(session, slug)
    texts, errors = post_text_errors(post_texts, list(campaign.channels))
    if errors:
        raise InvalidInput("The post texts could not be saved.", errors)
    replace_post_texts(session, campaign.id, texts)
    session.commit()
    return campaign
