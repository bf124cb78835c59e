"""Post texts: what marketers suggest employees write with their link, per channel or for all.

A campaign holds one or more variants; a variant with a channel is for that channel only, one
without is for every channel that has no variant of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from linktracker.campaigns.channels import CHANNELS
from linktracker.campaigns.models import PostText
from linktracker.limits import column_length, text_problem

MAX_POST_TEXTS = 20
# X counts every link as 23 characters, whatever its length, in a post of at most 280.
X_POST_LIMIT = 280
X_LINK_LENGTH = 23


@dataclass(frozen=True)
class PostTextInput:
    channel: str | None
    text: str


def post_text_errors(
    texts: Sequence[PostTextInput], channels: Sequence[str]
) -> tuple[list[PostTextInput], dict[str, str]]:
    """The variants cleaned (text stripped, channel lowercased) and a message per bad field.

    Field names are ``post_texts`` (the list) and ``post_texts.N.text`` / ``post_texts.N.channel``
    (N counts from 0)."""
    errors: dict[str, str] = {}
    if len(texts) > MAX_POST_TEXTS:
        errors["post_texts"] = f"At most {MAX_POST_TEXTS} post texts (this has {len(texts)})."
        return [], errors
    limit = column_length(PostText, "text")
    cleaned = []
    for n, item in enumerate(texts):
        text = item.text.strip()
        channel = (item.channel or "").strip().lower() or None
        problem = text_problem(text, limit) if text else "Write the text, or remove the variant."
        if problem is None and channel == "x" and len(text) + 1 + X_LINK_LENGTH > X_POST_LIMIT:
            problem = (
                f"An X post holds {X_POST_LIMIT} characters and the link takes "
                f"{X_LINK_LENGTH + 1}: keep the text to {X_POST_LIMIT - X_LINK_LENGTH - 1} "
                f"(this has {len(text)})."
            )
        if problem:
            errors[f"post_texts.{n}.text"] = problem
        if channel is not None and channel not in channels:
            known = channel in CHANNELS
            errors[f"post_texts.{n}.channel"] = (
                f"'{channel}' is not one of this campaign's channels ({', '.join(channels)})."
                if known
                else f"Unknown channel '{channel}'. Choose from {', '.join(CHANNELS)}."
            )
        cleaned.append(PostTextInput(channel, text))
    return cleaned, errors


def replace_post_texts(session: Session, campaign_id: int, texts: Iterable[PostTextInput]) -> None:
    """Make these the campaign's variants, in this order (the caller commits)."""
    session.execute(delete(PostText).where(PostText.campaign_id == campaign_id))
    session.add_all(
        PostText(campaign_id=campaign_id, channel=item.channel, text=item.text, position=n)
        for n, item in enumerate(texts)
    )


def list_post_texts(session: Session, campaign_ids: Iterable[int]) -> dict[int, list[PostText]]:
    """Each campaign's variants in their order (campaigns without any are absent)."""
    ids = list(campaign_ids)
    found: dict[int, list[PostText]] = {}
    if not ids:
        return found
    query = (
        select(PostText)
        .where(PostText.campaign_id.in_(ids))
        .order_by(PostText.campaign_id, PostText.position, PostText.id)
    )
    for post_text in session.scalars(query):
        found.setdefault(post_text.campaign_id, []).append(post_text)
    return found


def texts_for_channel(texts: Sequence[PostText], channel: str) -> list[str]:
    """The variants written for this channel, else those written for every channel."""
    own = [t.text for t in texts if t.channel == channel]
    return own or [t.text for t in texts if t.channel is None]
