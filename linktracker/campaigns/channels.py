"""The channels a link is shared on: what a campaign may enable and a referrer is sorted into."""

from __future__ import annotations

CHANNELS: tuple[str, ...] = (
    "linkedin",
    "x",
    "facebook",
    "instagram",
    "email",
    "whatsapp",
    "slack",
    "xing",
    "other",
)
