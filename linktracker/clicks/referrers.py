"""Where a click came from, as told by its Referer header: a host, then a channel."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

# Registrable domain (or exact host) -> channel. A host matches itself or any subdomain,
# so "uk.linkedin.com" and "l.facebook.com" need no entry of their own. Android apps send
# "android-app://<package>" as referrer, hence the package names.
_DOMAIN_CHANNELS: Final[dict[str, str]] = {
    # linkedin
    "linkedin.com": "linkedin",
    "linkedin.cn": "linkedin",
    "lnkd.in": "linkedin",
    "com.linkedin.android": "linkedin",
    # x
    "t.co": "x",
    "x.com": "x",
    "twitter.com": "x",
    "com.twitter.android": "x",
    # facebook
    "facebook.com": "facebook",
    "fb.me": "facebook",
    "fb.com": "facebook",
    "fb.watch": "facebook",
    "com.facebook.katana": "facebook",
    "com.facebook.lite": "facebook",
    # instagram
    "instagram.com": "instagram",
    "com.instagram.android": "instagram",
    # email: webmail front ends and mail apps; Outlook's Safe Links rewrites every link
    "mail.google.com": "email",
    "com.google.android.gm": "email",
    "outlook.live.com": "email",
    "outlook.office.com": "email",
    "outlook.office365.com": "email",
    "safelinks.protection.outlook.com": "email",
    "com.microsoft.office.outlook": "email",
    "mail.yahoo.com": "email",
    "mail.aol.com": "email",
    "mail.proton.me": "email",
    "mail.zoho.com": "email",
    "mail.zoho.eu": "email",
    "mail.yandex.ru": "email",
    "e.mail.ru": "email",
    "app.fastmail.com": "email",
    "navigator.gmx.net": "email",
    "navigator.web.de": "email",
    # whatsapp
    "whatsapp.com": "whatsapp",
    "wa.me": "whatsapp",
    "com.whatsapp": "whatsapp",
    # slack (slack-redir.net is the redirector Slack wraps outbound links in)
    "slack.com": "slack",
    "slack-redir.net": "slack",
    "com.slack": "slack",
    # xing
    "xing.com": "xing",
    "com.xing.android": "xing",
    # others a report may want to tell apart, though campaigns cannot enable them
    "teams.microsoft.com": "teams",
    "teams.live.com": "teams",
    "reddit.com": "reddit",
    "redd.it": "reddit",
    "com.reddit.frontpage": "reddit",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "com.google.android.youtube": "youtube",
    "t.me": "telegram",
    "telegram.org": "telegram",
    "threads.net": "threads",
    "threads.com": "threads",
    "bsky.app": "bluesky",
    "tiktok.com": "tiktok",
    "pinterest.com": "pinterest",
    "bing.com": "bing",
    "duckduckgo.com": "duckduckgo",
    "search.yahoo.com": "yahoo",
    "yandex.ru": "yandex",
    "ecosia.org": "ecosia",
    "com.google.android.googlequicksearchbox": "google",
}

# Google search lives on every country domain: google.de, google.co.uk, google.com.au …
_GOOGLE_SEARCH = re.compile(r"google\.(?:com?\.)?[a-z]{2,3}")
# Self-hosted webmail: webmail.example.com, mail.example.org.
_WEBMAIL_LABELS = frozenset({"webmail", "mail", "owa"})
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*")
_SCHEMES = frozenset({"http", "https", "android-app"})
_MAX_HOST = 253


def referrer_host(referrer: str | None) -> str | None:
    """Lower-cased host of a Referer header without port or "www.", or None if there is none."""
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer.strip())
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if not host or parts.scheme not in _SCHEMES:
        return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if len(host) > _MAX_HOST or not _HOST.fullmatch(host):
        return None
    return host


def referrer_channel(host: str | None) -> str | None:
    """Channel slug of a referrer host ("linkedin", "x", "email", …), None when unknown."""
    if not host:
        return None
    # Walk up the labels: "lm.facebook.com", "facebook.com"; at most a handful of lookups.
    domain = host
    while True:
        channel = _DOMAIN_CHANNELS.get(domain)
        if channel is not None:
            return channel
        dot = domain.find(".")
        if dot < 0:
            break
        domain = domain[dot + 1 :]
    if _GOOGLE_SEARCH.fullmatch(host):
        return "google"
    first, _, rest = host.partition(".")
    if first in _WEBMAIL_LABELS and "." in rest:
        return "email"
    return None
