"""Bot, preview and device classification, measured on real user agents (tests/data)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from crawlerdetect import CrawlerDetect
from hypothesis import given, settings
from hypothesis import strategies as st

from linktracker.clicks.bots import EMPTY_USER_AGENT, MAX_USER_AGENT, classify_user_agent
from tests.support import TEST_DATA

USER_AGENTS = TEST_DATA / "user_agents"

# Families of uap-core's test set that people browse with (exact spellings of the file).
MAINSTREAM_FAMILIES = frozenset(
    {
        "Chrome",
        "Chrome Mobile",
        "Chrome Mobile WebView",
        "Chrome Mobile iOS",
        "Firefox",
        "Firefox Beta",
        "Firefox Mobile",
        "Firefox iOS",
        "Safari",
        "Mobile Safari",
        "Mobile Safari UI/WKWebView",
        "Edge",
        "Edge Mobile",
        "Opera",
        "Opera GX",
        "Opera Mini",
        "Opera Mobile",
        "Opera Tablet",
        "Opera Touch",
        "Samsung Internet",
        "Brave",
        "Yandex Browser",
        "UC Browser",
        "IE",
        "IE Mobile",
    }
)

Report = Callable[[str], None]
Cases = list[dict[str, Any]]


def _load_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ~10x faster
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


@pytest.fixture(scope="module")
def crawlers() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(
        (USER_AGENTS / "crawler-user-agents.json").read_text(encoding="utf-8")
    )
    return entries


@pytest.fixture(scope="module")
def crawler_instances(crawlers: list[dict[str, Any]]) -> list[str]:
    return [ua for entry in crawlers for ua in entry.get("instances", [])]


@pytest.fixture(scope="module")
def uap_ua_cases() -> Cases:
    cases: Cases = _load_yaml(USER_AGENTS / "uap_test_ua.yaml")["test_cases"]
    return cases


@pytest.fixture(scope="module")
def uap_device_cases() -> Cases:
    cases: Cases = _load_yaml(USER_AGENTS / "uap_test_device.yaml")["test_cases"]
    return cases


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Iterator[Report]:
    """Print measured rates even when pytest captures output."""

    def emit(line: str) -> None:
        with capsys.disabled():
            print(f"\n  [bots] {line}", end="")

    yield emit
    with capsys.disabled():
        print()


def _rate(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.2%}"


def test_crawler_instances_are_flagged_as_bots(
    crawler_instances: list[str], report: Report
) -> None:
    total = len(crawler_instances)
    detector = CrawlerDetect()
    library_only = sum(detector.is_crawler(ua) for ua in crawler_instances)
    missed = [ua for ua in crawler_instances if not classify_user_agent(ua).is_bot]
    flagged = total - len(missed)

    report(f"crawler instances flagged by crawlerdetect alone: {_rate(library_only, total)}")
    report(f"crawler instances flagged by classify_user_agent: {_rate(flagged, total)}")
    for ua in missed[:8]:
        report(f"  missed e.g. {ua[:110]}")
    assert flagged / total >= 0.97


def test_mainstream_browsers_are_not_flagged(uap_ua_cases: Cases, report: Report) -> None:
    families = {case["family"] for case in uap_ua_cases}
    assert families >= MAINSTREAM_FAMILIES, "uap-core renamed a family this test relies on"
    browsers = [c["user_agent_string"] for c in uap_ua_cases if c["family"] in MAINSTREAM_FAMILIES]
    verdicts = [classify_user_agent(ua) for ua in browsers]
    bots = [ua for ua, v in zip(browsers, verdicts, strict=True) if v.is_bot]
    previews = sum(v.is_preview for v in verdicts)

    report(f"mainstream browser entries flagged as bots: {_rate(len(bots), len(browsers))}")
    report(f"mainstream browser entries flagged as previews: {_rate(previews, len(browsers))}")
    for ua in bots:
        report(f"  flagged: {ua[:110]}")
    assert len(bots) / len(browsers) <= 0.01
    assert previews / len(browsers) <= 0.01


def test_uap_spiders_are_flagged_and_devices_are_not(
    uap_device_cases: Cases, report: Report
) -> None:
    spiders = [c["user_agent_string"] for c in uap_device_cases if c["family"] == "Spider"]
    # Every 4th device keeps this under a few seconds; the sample is deterministic.
    devices = [c["user_agent_string"] for c in uap_device_cases if c["family"] != "Spider"][::4]
    spiders_flagged = sum(classify_user_agent(ua).is_bot for ua in spiders)
    devices_flagged = sum(classify_user_agent(ua).is_bot for ua in devices)

    report(f"uap-core device set, Spider entries flagged: {_rate(spiders_flagged, len(spiders))}")
    report(f"uap-core device set, other entries flagged: {_rate(devices_flagged, len(devices))}")
    assert spiders_flagged / len(spiders) >= 0.97
    assert devices_flagged / len(devices) <= 0.02


# (readable name, substring that picks that fetcher's instances out of crawler-user-agents)
PREVIEW_FETCHERS = [
    ("LinkedInBot", "LinkedInBot"),
    ("Twitterbot", "Twitterbot/"),  # not "TelegramBot (like TwitterBot)"
    ("facebookexternalhit", "facebookexternalhit"),
    ("Facebot", "Facebot/"),
    ("Slackbot-LinkExpanding", "Slackbot-LinkExpanding"),
    ("WhatsApp", "WhatsApp"),
    ("Discordbot", "Discordbot"),
    ("TelegramBot", "TelegramBot"),
    ("SkypeUriPreview", "SkypeUriPreview"),
    ("Applebot", "Applebot"),
    ("redditbot", "redditbot"),
    ("Pinterestbot", "Pinterestbot"),
    ("Embedly", "Embedly"),
    ("Iframely", "Iframely"),
    ("vkShare", "vkShare"),
    ("Mastodon", "Mastodon/"),
    ("Google-PageRenderer", "Google-PageRenderer"),
    ("bitlybot", "bitlybot"),
    ("BingPreview", "BingPreview"),
    ("MicrosoftPreview", "MicrosoftPreview"),
]


@pytest.mark.parametrize(("name", "marker"), PREVIEW_FETCHERS, ids=[n for n, _ in PREVIEW_FETCHERS])
def test_preview_fetchers_are_flagged_as_previews(
    name: str, marker: str, crawler_instances: list[str]
) -> None:
    instances = [ua for ua in crawler_instances if marker.lower() in ua.lower()]
    assert instances, f"no real {name} user agent in crawler-user-agents.json"
    for ua in instances:
        verdict = classify_user_agent(ua)
        assert (verdict.is_bot, verdict.is_preview, verdict.bot_name) == (True, True, name), ua


def test_social_preview_tag_coverage(crawlers: list[dict[str, Any]], report: Report) -> None:
    tagged = [
        ua
        for entry in crawlers
        if "social-preview" in entry.get("tags", [])
        for ua in entry.get("instances", [])
    ]
    previews = sum(classify_user_agent(ua).is_preview for ua in tagged)
    bots = sum(classify_user_agent(ua).is_bot for ua in tagged)
    report(f"'social-preview' instances flagged as previews: {_rate(previews, len(tagged))}")
    report(f"'social-preview' instances flagged as bots: {_rate(bots, len(tagged))}")
    # The tag also covers AI crawlers, image proxies and in-app browsers (MetaIAB); the
    # first two count as bots but not as previews, the last as a person.
    assert previews / len(tagged) >= 0.7


# Real user agents of people, including the in-app browsers a shared link opens in.
PEOPLE = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome",
        "Windows",
        "desktop",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        "Safari",
        "Mac OS X",
        "desktop",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Firefox",
        "Ubuntu",
        "desktop",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Edge",
        "Windows",
        "desktop",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mobile Safari",
        "iOS",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Chrome Mobile",
        "Android",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        "Samsung Internet",
        "Android",
        "mobile",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        "Mobile Safari",
        "iOS",
        "tablet",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome",
        "Android",
        "tablet",
    ),
    (  # LinkedIn's iOS in-app browser
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.8962",
        None,
        "iOS",
        "mobile",
    ),
    (  # Facebook's Android in-app browser
        "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP2A.240705.004; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 "
        "[FB_IAB/FB4A;FBAV/474.0.0.52.74;]",
        None,
        "Android",
        "mobile",
    ),
    (  # Instagram's iOS in-app browser
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Instagram 339.0.3.12.91 (iPhone15,3; iOS 17_5; en_US)",
        None,
        "iOS",
        "mobile",
    ),
    (  # X's Android in-app browser
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 "
        "TwitterAndroid",
        None,
        "Android",
        "mobile",
    ),
]


@pytest.mark.parametrize(("ua", "browser", "os_family", "device"), PEOPLE)
def test_people_are_not_bots_and_get_a_device_type(
    ua: str, browser: str | None, os_family: str, device: str
) -> None:
    verdict = classify_user_agent(ua)
    assert not verdict.is_bot
    assert not verdict.is_preview
    assert verdict.bot_name is None
    assert verdict.os == os_family
    assert verdict.device_type == device
    if browser is not None:  # in-app browsers get whatever family uap-core gives them
        assert verdict.browser == browser
    else:
        assert verdict.browser


@pytest.mark.parametrize(
    ("ua", "name"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"),
        ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "YandexBot"),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot"),
        ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "AhrefsBot"),
        ("Barkrowler/0.9 (+https://babbar.tech/crawler)", "Barkrowler"),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32.3", "python-requests"),
        ("Mozilla/5.0 (compatible; Mappy/1.0; +http://mappydata.net/bot/)", "Mappy"),
        ("Mozilla/5.0 (compatible; Goodreads; +https://www.goodreads.com)", "Goodreads"),
        ("Mozilla/5.0 (compatible; Uptimia; www.uptimia.com)", "Uptimia"),
        ("HeadlessChrome/120.0.0.0", "HeadlessChrome"),
    ],
)
def test_generic_bots_are_named_after_their_product(ua: str, name: str) -> None:
    verdict = classify_user_agent(ua)
    assert (verdict.is_bot, verdict.is_preview, verdict.device_type) == (True, False, "bot")
    assert verdict.bot_name == name


@pytest.mark.parametrize("ua", ["", "   ", "\t"])
def test_an_empty_user_agent_is_a_bot(ua: str) -> None:
    verdict = classify_user_agent(ua)
    assert verdict.is_bot
    assert not verdict.is_preview
    assert verdict.bot_name == EMPTY_USER_AGENT
    assert verdict.device_type == "bot"


def test_results_are_cached() -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:129.0) Gecko/20100101 Firefox/129.0 cache-test"
    assert classify_user_agent(ua) is classify_user_agent(ua)


def test_absurdly_long_user_agents_share_one_cache_entry() -> None:
    head = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + "A" * MAX_USER_AGENT
    assert classify_user_agent(head + "one") is classify_user_agent(head + "two")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_consistent_verdict(ua: str) -> None:
    verdict = classify_user_agent(ua)
    assert verdict.device_type in {"mobile", "tablet", "desktop", "bot", "other"}
    assert verdict.is_bot == (verdict.device_type == "bot")
    assert verdict.is_bot == (verdict.bot_name is not None)
    assert not verdict.is_preview or verdict.is_bot
    assert len(verdict.bot_name or "") <= 120
    assert len(verdict.browser or "") <= 80
