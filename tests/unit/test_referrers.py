"""Referer header -> host -> channel."""

from __future__ import annotations

import pytest

from linktracker.campaigns.channels import CHANNELS
from linktracker.clicks.referrers import referrer_channel, referrer_host


@pytest.mark.parametrize(
    ("referrer", "host", "channel"),
    [
        # linkedin
        ("https://www.linkedin.com/feed/", "linkedin.com", "linkedin"),
        ("https://uk.linkedin.com/posts/jane-doe_activity-1", "uk.linkedin.com", "linkedin"),
        ("https://lnkd.in/eAbC123", "lnkd.in", "linkedin"),
        ("android-app://com.linkedin.android/", "com.linkedin.android", "linkedin"),
        # x
        ("https://t.co/AbCdEf", "t.co", "x"),
        ("https://x.com/someone/status/1", "x.com", "x"),
        ("https://mobile.twitter.com/", "mobile.twitter.com", "x"),
        ("https://TWITTER.com:443/home", "twitter.com", "x"),
        # facebook
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com", "l.facebook.com", "facebook"),
        ("https://lm.facebook.com/", "lm.facebook.com", "facebook"),
        ("https://m.facebook.com/", "m.facebook.com", "facebook"),
        ("http://fb.me/abc", "fb.me", "facebook"),
        # instagram
        ("https://l.instagram.com/?u=https%3A%2F%2Fexample.com", "l.instagram.com", "instagram"),
        ("https://www.instagram.com/", "instagram.com", "instagram"),
        # email
        ("https://mail.google.com/", "mail.google.com", "email"),
        ("https://outlook.live.com/mail/0/", "outlook.live.com", "email"),
        ("https://outlook.office.com/mail/", "outlook.office.com", "email"),
        ("https://outlook.office365.com/owa/", "outlook.office365.com", "email"),
        (
            "https://eur01.safelinks.protection.outlook.com/?url=x",
            "eur01.safelinks.protection.outlook.com",
            "email",
        ),
        ("https://mail.yahoo.com/d/folders/1", "mail.yahoo.com", "email"),
        ("https://webmail.example.org/?_task=mail", "webmail.example.org", "email"),
        ("android-app://com.google.android.gm", "com.google.android.gm", "email"),
        # messaging
        ("https://web.whatsapp.com/", "web.whatsapp.com", "whatsapp"),
        ("https://wa.me/15551234567", "wa.me", "whatsapp"),
        ("https://app.slack.com/client/T0/C0", "app.slack.com", "slack"),
        ("https://acme.slack.com/archives/C0", "acme.slack.com", "slack"),
        ("https://slack-redir.net/link?url=x", "slack-redir.net", "slack"),
        # other networks and search
        ("https://www.xing.com/news", "xing.com", "xing"),
        ("https://www.reddit.com/r/python/", "reddit.com", "reddit"),
        ("https://out.reddit.com/t3_x", "out.reddit.com", "reddit"),
        ("https://www.youtube.com/watch?v=x", "youtube.com", "youtube"),
        ("https://www.google.com/", "google.com", "google"),
        ("https://www.google.co.uk/", "google.co.uk", "google"),
        ("https://www.google.de/search?q=x", "google.de", "google"),
        ("https://www.bing.com/search?q=x", "bing.com", "bing"),
        ("https://teams.microsoft.com/", "teams.microsoft.com", "teams"),
        # unknown hosts keep their host but have no channel
        ("https://example.com/blog/post", "example.com", None),
        ("https://docs.google.com/document/d/1", "docs.google.com", None),
        ("https://notlinkedin.com/", "notlinkedin.com", None),
        ("https://linkedin.com.evil.example/", "linkedin.com.evil.example", None),
        ("https://mail.ru/", "mail.ru", None),
        ("http://127.0.0.1:5000/admin", "127.0.0.1", None),
        ("https://intranet./", "intranet", None),
        # no referrer or garbage
        (None, None, None),
        ("", None, None),
        ("   ", None, None),
        ("not a url", None, None),
        ("linkedin.com/feed", None, None),
        ("about:blank", None, None),
        ("file:///C:/Users/me/page.html", None, None),
        ("javascript:alert(1)", None, None),
        ("https://[::1", None, None),
        ("https://exa mple.com/", None, None),
        ("https:///path-only", None, None),
    ],
)
def test_referrer_host_and_channel(
    referrer: str | None, host: str | None, channel: str | None
) -> None:
    assert referrer_host(referrer) == host
    assert referrer_channel(host) == channel


@pytest.mark.parametrize("host", [None, "", "localhost", "com", "co.uk"])
def test_hosts_without_a_known_domain_have_no_channel(host: str | None) -> None:
    assert referrer_channel(host) is None


def test_campaign_channels_are_lowercase_slugs_with_other_last() -> None:
    assert CHANNELS == (
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
    assert all(c.isascii() and c == c.lower() and c.isidentifier() for c in CHANNELS)


def test_every_campaign_channel_but_other_has_a_referrer_host() -> None:
    hosts = {
        "linkedin": "linkedin.com",
        "x": "t.co",
        "facebook": "facebook.com",
        "instagram": "instagram.com",
        "email": "mail.google.com",
        "whatsapp": "wa.me",
        "slack": "slack.com",
        "xing": "xing.com",
    }
    assert set(hosts) == set(CHANNELS) - {"other"}
    for channel, host in hosts.items():
        assert referrer_channel(host) == channel
