"""The UTM parameters a campaign gives one employee's link on one channel."""

from __future__ import annotations

from linktracker.campaigns.models import Campaign
from linktracker.urls.iri import encode_destination
from linktracker.urls.query import merge_utm


def utm_parameters(campaign: Campaign, handle: str, channel: str, medium: str) -> dict[str, str]:
    """The UTM parameters of one employee's link on one channel (the default UTM template)."""
    params = {
        "utm_source": channel,
        "utm_medium": campaign.utm_medium or medium,
        "utm_campaign": campaign.slug,
        "utm_content": handle,
    }
    if campaign.utm_term:
        params["utm_term"] = campaign.utm_term
    if campaign.utm_id:
        params["utm_id"] = campaign.utm_id
    return params


def destination_for(campaign: Campaign, handle: str, channel: str, medium: str) -> str:
    """The campaign URL with this employee's UTM parameters merged in."""
    params = utm_parameters(campaign, handle, channel, medium)
    merged = merge_utm(campaign.destination_url, params, normalise=campaign.utm_lowercase)
    return encode_destination(merged)
