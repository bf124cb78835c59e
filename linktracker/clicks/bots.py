"""Who sent a request: a person's browser, a crawler, or a link-preview fetcher.

Crawlers are recognised by crawlerdetect (a maintained pattern list), browsers, operating
systems and devices by user-agents (ua-parser's maintained regexes). Two structural rules
fill the gaps those lists leave, see `_looks_automated`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import user_agents
from crawlerdetect import CrawlerDetect

# Past this length a user agent is padding or an attack; cutting it keeps cache keys small.
MAX_USER_AGENT = 512
# Column widths of clicks.browser / os / bot_name.
_MAX_FAMILY = 80
_MAX_BOT_NAME = 120

EMPTY_USER_AGENT = "(empty user agent)"

# Fetchers that load a link to draw a preview card when it is posted or messaged, not when
# a person opens it. Lower-cased substring -> readable name; None means "name it after the
# user agent's own product token" (for generic markers shared by many small unfurlers).
PREVIEW_FETCHERS: Final[dict[str, str | None]] = {
    "linkedinbot": "LinkedInBot",
    "twitterbot": "Twitterbot",
    "facebookexternalhit": "facebookexternalhit",
    "facebot": "Facebot",
    "meta-externalhit": "Meta-ExternalHit",
    "meta-externalfetcher": "meta-externalfetcher",
    "slackbot-linkexpanding": "Slackbot-LinkExpanding",
    "slackbot": "Slackbot",
    "slack-imgproxy": "Slack-ImgProxy",
    "whatsapp": "WhatsApp",
    "discordbot": "Discordbot",
    "telegrambot": "TelegramBot",
    "skypeuripreview": "SkypeUriPreview",
    "microsoftpreview": "MicrosoftPreview",
    "applebot": "Applebot",
    "redditbot": "redditbot",
    "pinterestbot": "Pinterestbot",
    "pinterest.com/bot": "Pinterestbot",
    "embedly": "Embedly",
    "iframely": "Iframely",
    "vkshare": "vkShare",
    "odklbot": "OdklBot",
    "xing bot": "XING Bot",
    "mastodon/": "Mastodon",
    "pleroma": "Pleroma",
    "akkoma": "Akkoma",
    "misskey/": "Misskey",
    "gotosocial": "GoToSocial",
    "cardyb": "Bluesky Cardyb",
    "google-pagerenderer": "Google-PageRenderer",
    "google web preview": "Google Web Preview",
    "bingpreview": "BingPreview",
    "yahoo link preview": "Yahoo Link Preview",
    "bitlybot": "bitlybot",
    "mattermost-bot": "Mattermost-Bot",
    "groupmebot": "GroupMeBot",
    "keybasebot": "KeybaseBot",
    "summalybot": "SummalyBot",
    "lemmy/": "Lemmy",
    "friendica": "Friendica",
    "flipboardproxy": "FlipboardProxy",
    "evernoterichlinkbot": "EvernoteRichLinkBot",
    "mediumbot-metatagfetcher": "Mediumbot-MetaTagFetcher",
    "dingtalkbot-linkservice": "DingTalkBot-LinkService",
    "gg peekbot": "GG PeekBot",
    "opengraph.io": "OpenGraph.io",
    "everyonesocialbot": "EveryoneSocialBot",
    "quora-bot": "Quora-Bot",
    "matrix-org/synapse": "Synapse",
    "steamchaturllookup": "SteamChatURLLookup",
    "snap url preview": "Snap URL Preview",
    "linkpreview": None,
    "link preview": None,
    "urlpreview": None,
    "url preview": None,
    "previewbot": None,
    "unfurl": None,
    "onebox": None,
}

# Longest first, so "Slackbot-LinkExpanding" wins over "Slackbot" at the same position.
_PREVIEW_RE = re.compile(
    "|".join(re.escape(token) for token in sorted(PREVIEW_FETCHERS, key=len, reverse=True)),
    re.IGNORECASE,
)

# Browsers never advertise a URL or a contact address in their user agent; crawlers,
# monitors and HTTP libraries routinely do ("+https://example.com/bot", "admin@example.com").
_CONTACT_RE = re.compile(r"https?://|\bwww\.|[\w.+-]+@[\w-]+\.[a-z]{2,}", re.IGNORECASE)

# What crawlerdetect may report as its match that names no one in particular.
_GENERIC_MATCH = re.compile(
    r"(?:ro)?bot|crawl(?:er)?|spider|scan(?:ner)?|fetch(?:er)?|http|monitor(?:ing)?|checker"
    r"|search(?:bot)?",
    re.IGNORECASE,
)
_TOKEN_CHARS = re.compile(r"[\w.-]+")
_DOMAIN = re.compile(r"[\w.-]+\.[a-z]{2,6}")
_COMPATIBLE_NAME = re.compile(r"compatible;\s*([A-Za-z][\w .-]*?)\s*(?:[/;)+]|$)")
_LEADING_NAME = re.compile(r"\s*([A-Za-z][\w.-]*(?: [A-Za-z][\w-]*)?)")


@dataclass(frozen=True, slots=True)
class UaVerdict:
    browser: str | None
    os: str | None
    device_type: str  # mobile, tablet, desktop, bot or other
    is_bot: bool
    bot_name: str | None
    is_preview: bool


_EMPTY = UaVerdict(None, None, "bot", True, EMPTY_USER_AGENT, False)


def classify_user_agent(user_agent: str) -> UaVerdict:
    """Browser, OS, device type and bot/preview flags of a user-agent string (memoised)."""
    return _classify(user_agent[:MAX_USER_AGENT].strip())


@lru_cache(maxsize=8192)
def _classify(user_agent: str) -> UaVerdict:
    if not user_agent:
        return _EMPTY
    preview = _PREVIEW_RE.search(user_agent)
    if preview:
        name = PREVIEW_FETCHERS[preview.group(0).lower()] or _product_name(user_agent)
        return _bot(name or _name_around(user_agent, preview.start(), preview.end()), True)
    # A fresh detector per call: CrawlerDetect keeps the last match on the instance, which
    # threads would share; construction is cheap next to the regex it runs.
    detector = CrawlerDetect()
    if detector.is_crawler(user_agent):
        return _bot(_crawler_name(user_agent, detector.get_matches()), False)
    parsed = user_agents.parse(user_agent)
    browser = _family(parsed.browser.family)
    if parsed.is_bot or _looks_automated(user_agent, browser, parsed.device.family):
        return _bot(_product_name(user_agent) or browser or user_agent, False)
    return UaVerdict(
        browser=browser,
        os=_family(parsed.os.family),
        device_type=_device_type(parsed),
        is_bot=False,
        bot_name=None,
        is_preview=False,
    )


def _looks_automated(user_agent: str, browser: str | None, device: str | None) -> bool:
    # Supplement to the two libraries for the crawlers they miss, without flagging a
    # mainstream browser (tests/unit/test_bots.py checks both).
    # 1. ua-parser recognises neither a browser nor a device: people click links in browsers
    #    and in-app web views on phones and computers, which uap-core knows; scripts and
    #    services it does not. (Browser alone is not enough: old feature phones have no
    #    browser family but do have a device.)
    # 2. a URL or e-mail address in the user agent, the usual "+https://…/bot" contact note.
    if browser is None and device in (None, "Other"):
        return True
    return _CONTACT_RE.search(user_agent) is not None


def _device_type(parsed: user_agents.parsers.UserAgent) -> str:
    if parsed.is_tablet:
        return "tablet"
    if parsed.is_mobile:
        return "mobile"
    if parsed.is_pc:
        return "desktop"
    return "other"


def _family(family: str | None) -> str | None:
    return family[:_MAX_FAMILY] if family and family != "Other" else None


def _bot(name: str, is_preview: bool) -> UaVerdict:
    return UaVerdict(None, None, "bot", True, name[:_MAX_BOT_NAME], is_preview)


def _crawler_name(user_agent: str, match: str | None) -> str:
    # crawlerdetect reports the part of its pattern that matched ("Yandex" of "YandexBot/3.0",
    # "owler" of "Barkrowler"): widen it to the whole product token, unless it is generic.
    if match:
        start = user_agent.lower().find(match.lower())
        if start >= 0:
            token = _name_around(user_agent, start, start + len(match))
            if not _GENERIC_MATCH.fullmatch(token) and not _DOMAIN.fullmatch(token):
                return token
    return _product_name(user_agent) or (match or user_agent).strip(" /;()") or user_agent


def _name_around(user_agent: str, start: int, end: int) -> str:
    for token in _TOKEN_CHARS.finditer(user_agent):
        if token.start() <= start < token.end():
            return user_agent[token.start() : max(end, token.end())].strip(" /;()")
    return user_agent[start:end].strip(" /;()")


def _product_name(user_agent: str) -> str | None:
    # "Mozilla/5.0 (compatible; Name/1.0; +https://…)" names itself after "compatible;";
    # anything not pretending to be Mozilla names itself first ("curl/8.0", "Catchpoint").
    compatible = _COMPATIBLE_NAME.search(user_agent)
    if compatible and not compatible.group(1).upper().startswith("MSIE"):
        return compatible.group(1)
    if not user_agent.startswith("Mozilla/"):
        leading = _LEADING_NAME.match(user_agent)
        if leading:
            return leading.group(1)
    return None
