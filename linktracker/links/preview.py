"""The final URL each channel's link of a campaign being edited will redirect to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.employees.services import list_employees
from linktracker.errors import InvalidInput
from linktracker.links.utm import destination_for
from linktracker.urls.destinations import check_destination
from linktracker.urls.query import redirect_preview

SAMPLE_HANDLE = "a-sample01"


@dataclass(frozen=True)
class PreviewUrl:
    """One channel's final URL, cut where the redirect puts the click id."""

    channel: str
    before: str
    click_id: str
    after: str


@dataclass(frozen=True)
class Preview:
    employee: str
    handle: str
    urls: list[PreviewUrl]
    click_id_param: str
    error: str | None = None


def build_preview(
    session: Session,
    values: Mapping[str, Any],
    slug: str,
    *,
    click_id_param: str,
    allowed_domains: Sequence[str],
    medium: str,
    labels: Mapping[str, str],
) -> Preview:
    """The exact destination each channel's link will redirect to, for a sample employee.

    ``values`` are the campaign's fields as entered (nothing is stored); ``labels`` name the
    channels as the page shows them.
    """
    sample = next(iter(list_employees(session)), None)
    name, handle = (sample.name, sample.handle) if sample else ("a sample employee", SAMPLE_HANDLE)
    try:
        destination = check_destination(values["destination_url"] or "", allowed_domains)
    except InvalidInput as exc:
        error = exc.fields.get("destination_url", exc.message)
        return Preview(name, handle, [], click_id_param, error)
    draft = Campaign(
        slug=slug,
        destination_url=destination,
        utm_medium=(values.get("utm_medium") or "").lower() or None,
        utm_id=values.get("utm_id") or None,
        utm_term=values.get("utm_term") or None,
        utm_lowercase=bool(values.get("utm_lowercase")),
    )
    urls = [
        PreviewUrl(
            labels.get(c, c),
            *redirect_preview(destination_for(draft, handle, c, medium), click_id_param),
        )
        for c in values.get("channels") or []
    ]
    return Preview(name, handle, urls, click_id_param)
