"""Open-redirect protection: which destination URLs a short link may point to."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from linktracker.errors import InvalidInput
from linktracker.urls.destinations import check_destination, parse_allowed_domains

ALLOWED = parse_allowed_domains("example.com, *.example.org bücher.de 10.0.0.1 [::1]")
SHOWN = "example.com, *.example.org, xn--bcher-kva.de, 10.0.0.1, [::1]"

MUST_START = "Destination must start with http:// or https://."
USERINFO = (
    "Destination must not contain a user name or password before the host ('…@'): "
    "browsers would go to the host after the '@'."
)
BACKSLASH = (
    "Destination must not contain backslashes (\\) before the path: browsers read them as '/'."
)


def control(where: str) -> str:
    return f"Destination must not contain tabs, line breaks or control characters ({where})."


def invisible(where: str) -> str:
    return (
        f"Destination must not contain invisible or text-direction characters ({where}): "
        "they can disguise where a link really goes."
    )


NO_HOST = "Destination has no host."


def not_allowed(host: str) -> str:
    return f"Destination host {host} is not in the allowed domains ({SHOWN})."


ACCEPTED = [
    ("https://example.com", "https://example.com"),
    ("http://example.com/path?q=1#frag", "http://example.com/path?q=1#frag"),
    ("HTTPS://Example.COM/Path?Q=A", "https://example.com/Path?Q=A"),
    ("https://example.com./p", "https://example.com/p"),
    ("https://example.com:8443/p", "https://example.com:8443/p"),
    ("https://example.com:/p", "https://example.com/p"),
    ("https://www.example.org/jobs", "https://www.example.org/jobs"),
    ("https://a.b.example.org", "https://a.b.example.org"),
    ("https://WWW.Example.Org", "https://www.example.org"),
    ("https://bücher.de/", "https://xn--bcher-kva.de/"),
    ("https://BÜCHER.de/", "https://xn--bcher-kva.de/"),
    ("https://xn--bcher-kva.de/", "https://xn--bcher-kva.de/"),
    ("https://ｅｘａｍｐｌｅ.com/", "https://example.com/"),
    ("  https://example.com/x \n", "https://example.com/x"),
    ("https://example.com#@evil.com", "https://example.com#@evil.com"),
    ("https://example.com?next=https://evil.com", "https://example.com?next=https://evil.com"),
    # browsers read '\' in the path as '/'
    ("https://example.com/a\\b", "https://example.com/a/b"),
    ("https://example.com/%2e%2e/evil.com", "https://example.com/%2e%2e/evil.com"),
    ("https://10.0.0.1/", "https://10.0.0.1/"),
    ("http://[::1]:8080/", "http://[::1]:8080/"),
    ("http://[0:0::1]/", "http://[::1]/"),
    # IRIs become URIs: UTF-8 percent-encoding of path, query and fragment
    (
        "https://example.com/angebote/sommer-€-rabatt",
        "https://example.com/angebote/sommer-%E2%82%AC-rabatt",
    ),
    ("https://example.com/über-uns", "https://example.com/%C3%BCber-uns"),
    ("https://example.com/%C3%BCber-uns", "https://example.com/%C3%BCber-uns"),
    ("https://example.com/%c3%bcber-uns", "https://example.com/%c3%bcber-uns"),
    ("https://example.com/s?q=🎉&x=1", "https://example.com/s?q=%F0%9F%8E%89&x=1"),
    ("https://example.com/s?q=%F0%9F%8E%89", "https://example.com/s?q=%F0%9F%8E%89"),
    ("https://example.com/#über", "https://example.com/#%C3%BCber"),
    ("https://bücher.de/über?ü=ü#ü", "https://xn--bcher-kva.de/%C3%BCber?%C3%BC=%C3%BC#%C3%BC"),
    ("https://ｅｘａｍｐｌｅ.com/ä", "https://example.com/%C3%A4"),
    ("https://example.com/a\u3000b", "https://example.com/a%E3%80%80b"),
    # a raw space as a browser sends it; '+' keeps its meaning in a query
    ("https://example.com/a b?q=a b&r=a+b#c d", "https://example.com/a%20b?q=a%20b&r=a+b#c%20d"),
    # a '%' that starts no escape is itself encoded, escapes are never encoded twice
    ("https://example.com/50%?off=50%&x=%zz", "https://example.com/50%25?off=50%25&x=%25zz"),
    ("https://example.com/a%2Fb?x=%26", "https://example.com/a%2Fb?x=%26"),
    # characters RFC 3986 does not allow unescaped
    ('https://example.com/"<>`{}|^[]', "https://example.com/%22%3C%3E%60%7B%7D%7C%5E%5B%5D"),
    ("https://example.com/?q=[1]#a#b", "https://example.com/?q=%5B1%5D#a%23b"),
]


@pytest.mark.parametrize(("url", "expected"), ACCEPTED)
def test_accepted_destinations(url: str, expected: str) -> None:
    assert check_destination(url, ALLOWED) == expected


REFUSED = [
    # userinfo: the browser goes to the host after the '@'
    ("https://allowed.com@evil.com", USERINFO),
    ("https://example.com@evil.com", USERINFO),
    ("https://user:pw@example.com/", USERINFO),
    ("https://example.com%40evil.com@example.com", USERINFO),
    # the allowed name appears elsewhere than in the host
    ("https://evil.com/example.com", not_allowed("'evil.com'")),
    ("https://example.com.evil.com", not_allowed("'example.com.evil.com'")),
    ("https://evil.com?example.com", not_allowed("'evil.com'")),
    ("https://evil.com#example.com", not_allowed("'evil.com'")),
    ("https://notexample.com", not_allowed("'notexample.com'")),
    ("https://evilexample.org", not_allowed("'evilexample.org'")),
    ("https://EVIL.com", not_allowed("'evil.com'")),
    # wildcards match subdomains only
    (
        "https://example.org",
        not_allowed("'example.org'")
        + " '*.example.org' matches subdomains only; add 'example.org' to allow the domain itself.",
    ),
    # other schemes and scheme-relative URLs
    ("javascript:alert(1)", MUST_START),
    ("JavaScript:alert(document.cookie)//https://example.com", MUST_START),
    ("data:text/html,<script>alert(1)</script>", MUST_START),
    ("ftp://example.com/file", MUST_START),
    ("file:///etc/passwd", MUST_START),
    ("mailto:someone@example.com", MUST_START),
    ("//evil.com", MUST_START),
    ("///evil.com", MUST_START),
    ("example.com", MUST_START),
    ("https:evil.com", MUST_START),
    ("https:/evil.com", MUST_START),
    # backslashes, which browsers read as '/'
    ("https:\\\\evil.com", BACKSLASH),
    ("https:/\\evil.com", BACKSLASH),
    ("https:\\/evil.com", BACKSLASH),
    ("https://example.com\\@evil.com", BACKSLASH),
    ("https://evil.com\\.example.com", BACKSLASH),
    ("https://evil.com\\example.com", BACKSLASH),
    # missing host
    ("https://", NO_HOST),
    ("https:///evil.com", NO_HOST),
    ("https://:443/", NO_HOST),
    ("https://?x=example.com", NO_HOST),
    # spaces in the host, control characters anywhere
    ("https://exa mple.com", "Destination host 'exa mple.com' is not a valid host name."),
    ("https://example.com /x", "Destination host 'example.com ' is not a valid host name."),
    ("https://example.com\t@evil.com", control("U+0009 at character 20")),
    ("https://exa\tmple.com", control("U+0009 at character 12")),
    ("https://example.com/\nSet-Cookie: x", control("U+000A at character 21")),
    ("https://example.com/\x00", control("U+0000 at character 21")),
    ("https://example.com/a\x85b", control("U+0085 at character 22")),
    ("https://example.com/a\u2028b", control("U+2028 (LINE SEPARATOR) at character 22")),
    # invisible and text-direction characters anywhere
    (
        "https://example.com/\u202egnp.exe",
        invisible("U+202E (RIGHT-TO-LEFT OVERRIDE) at character 21"),
    ),
    ("https://example.com/?q=a\u200bb", invisible("U+200B (ZERO WIDTH SPACE) at character 25")),
    ("https://example.com/#\u2066x", invisible("U+2066 (LEFT-TO-RIGHT ISOLATE) at character 22")),
    ("https://example.com/\ufeff", invisible("U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 21")),
    ("https://example.com/so\u00adft", invisible("U+00AD (SOFT HYPHEN) at character 23")),
    (
        "https://exam\u200dple.com",
        invisible("U+200D (ZERO WIDTH JOINER) at character 13"),
    ),
    (
        "https://example.com/\ud800",
        "Destination contains an invalid character (U+D800 at character 21).",
    ),
    # unicode look-alikes compare as punycode
    ("https://exаmple.com", not_allowed("'exаmple.com' (xn--exmple-4nf.com)")),
    ("https://www.exаmple.org", not_allowed("'www.exаmple.org' (www.xn--exmple-4nf.org)")),
    # 'ß' is converted as browsers do today (UTS #46 non-transitional), not to 'ss'
    ("https://straße.de", not_allowed("'straße.de' (xn--strae-oqa.de)")),
    (
        "https://bücher..de/",
        "Destination host 'bücher..de' is not a valid internationalised host name.",
    ),
    # percent-encoded host bytes, which browsers decode
    (
        "https://ex%61mple.com",
        "Destination host 'ex%61mple.com' must not contain percent signs (%): "
        "browsers decode them.",
    ),
    (
        "https://evil.com%2f.example.org",
        "Destination host 'evil.com%2f.example.org' must not contain percent signs (%): "
        "browsers decode them.",
    ),
    # IP literals: only canonical and listed ones
    ("https://10.0.0.2/", not_allowed("'10.0.0.2'")),
    ("http://[::2]/", not_allowed("'[::2]'")),
    (
        "https://0x0a.0.0.1/",
        "Destination host '0x0a.0.0.1' is not a valid IP address; write IPv4 addresses as four "
        "decimal numbers such as 192.0.2.1.",
    ),
    (
        "https://167772161/",
        "Destination host '167772161' is not a valid IP address; write IPv4 addresses as four "
        "decimal numbers such as 192.0.2.1.",
    ),
    (
        "https://010.0.0.1/",
        "Destination host '010.0.0.1' is not a valid IP address; write IPv4 addresses as four "
        "decimal numbers such as 192.0.2.1.",
    ),
    ("http://[::1/", "Destination host has an unclosed '[' in an IPv6 address."),
    ("http://[::1]x/", "Destination host has unexpected text after ']'."),
    (
        "http://[fe80::1%25eth0]/",
        "Destination host '[fe80::1%25eth0]' is not a valid IPv6 address.",
    ),
    # malformed hosts and ports
    ("https://exa..mple.com", "Destination host 'exa..mple.com' is not a valid host name."),
    ("https://exa<mple.com", "Destination host 'exa<mple.com' is not a valid host name."),
    ("https://example.com:99999/", "Destination port '99999' must be a number from 0 to 65535."),
    (
        "https://example.com:evil.com/",
        "Destination port 'evil.com' must be a number from 0 to 65535.",
    ),
    ("", "Destination URL is required."),
    ("   ", "Destination URL is required."),
]


@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_refused_destinations(url: str, message: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        check_destination(url, ALLOWED)
    assert excinfo.value.message == message
    assert excinfo.value.fields == {"destination_url": message}
    assert excinfo.value.status == 422


def test_empty_allowlist_refuses_everything_and_names_the_setting() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        check_destination("https://example.com/", ())
    assert "configure ALLOWED_DOMAINS" in excinfo.value.message
    assert excinfo.value.fields == {"destination_url": excinfo.value.message}


def test_raw_allowlist_entries_are_normalised() -> None:
    assert check_destination("https://x.example.org", ["Example.COM", "*.Example.ORG."]) == (
        "https://x.example.org"
    )
    assert check_destination("https://example.com/", "example.com") == "https://example.com/"


def test_malformed_raw_allowlist_entries_never_match() -> None:
    with pytest.raises(InvalidInput, match="not in the allowed domains \\(example.com\\)"):
        check_destination("https://evil.com/", ["*", "example.com", "https://evil.com"])


def test_long_allowlists_are_abbreviated_in_messages() -> None:
    allowed = parse_allowed_domains([f"site{i}.example" for i in range(15)])
    with pytest.raises(InvalidInput) as excinfo:
        check_destination("https://evil.com/", allowed)
    assert excinfo.value.message.endswith("site9.example and 5 more).")


def test_check_destination_is_idempotent() -> None:
    once = check_destination("HTTPS://BÜCHER.de.:8443/a?b#c", ALLOWED)
    assert once == "https://xn--bcher-kva.de:8443/a?b#c"
    assert check_destination(once, ALLOWED) == once


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", ("example.com",)),
        ("Example.COM, *.Example.org", ("example.com", "*.example.org")),
        ("a.com b.com\n c.com\t,,d.com", ("a.com", "b.com", "c.com", "d.com")),
        (["a.com, b.com", "c.com"], ("a.com", "b.com", "c.com")),
        ("example.com example.com EXAMPLE.com.", ("example.com",)),
        ("bücher.de *.bücher.de", ("xn--bcher-kva.de", "*.xn--bcher-kva.de")),
        ("10.0.0.1 ::1 [2001:DB8::0:1]", ("10.0.0.1", "[::1]", "[2001:db8::1]")),
        ("", ()),
        (" , \n ", ()),
        ([], ()),
    ],
)
def test_parse_allowed_domains(value: str | list[str], expected: tuple[str, ...]) -> None:
    assert parse_allowed_domains(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "Allowed domain '*' would allow any destination: list the domains explicitly."),
        (
            "https://example.com",
            "Allowed domain 'https://example.com' is not a domain: enter the host only, "
            "e.g. example.com.",
        ),
        (
            ".example.com",
            "Allowed domain '.example.com' starts with a dot: write '*.example.com' to allow "
            "its subdomains.",
        ),
        (
            "*.com",
            "Allowed domain '*.com' is too broad: a wildcard needs a domain of at least two "
            "labels, e.g. *.example.com.",
        ),
        (
            "*.10.0.0.1",
            "Allowed domain '*.10.0.0.1' applies a wildcard to an IP address; list the address.",
        ),
        (
            "ex*ample.com",
            "Allowed domain 'ex*ample.com' misplaces '*': it is only allowed as the first label, "
            "as in *.x.com.",
        ),
        (
            "example.com:8080",
            "Allowed domain 'example.com:8080' has a port: enter the host only; every port is "
            "allowed.",
        ),
        (
            "ex%61mple.com",
            "Allowed domain 'ex%61mple.com' must not contain percent signs (%): browsers decode "
            "them.",
        ),
        ("exa..mple.com", "Allowed domain 'exa..mple.com' is not a valid host name."),
    ],
)
def test_parse_allowed_domains_refuses_unsafe_entries(value: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_allowed_domains(value)
    assert str(excinfo.value) == message


URI_CHARACTERS = re.compile(r"(?:%[0-9A-F]{2}|[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]])*")
TYPED_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"), blacklist_characters="%#?\\"
    ),
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(TYPED_TEXT, TYPED_TEXT, TYPED_TEXT)
def test_any_typed_address_becomes_a_uri_that_decodes_to_what_was_typed(
    path: str, query: str, fragment: str
) -> None:
    url = f"https://example.com/{path}?{query}#{fragment}"
    if url != url.strip():
        return  # surrounding spaces are trimmed, as browsers do
    accepted = check_destination(url, ALLOWED)
    assert URI_CHARACTERS.fullmatch(accepted), accepted
    parts = urlsplit(accepted)
    assert unquote(parts.path) == "/" + path.replace("\\", "/")
    assert unquote(parts.query) == query
    assert unquote(parts.fragment) == fragment
    assert check_destination(accepted, ALLOWED) == accepted


# --- property: whatever is accepted, a browser sends the visitor to an allowed host ---

C0_AND_SPACE = "".join(chr(i) for i in range(0x21))
PROPERTY_ALLOWED = parse_allowed_domains("example.com *.example.org [::1]")


def browser_host(url: str) -> str | None:
    """Return the host a WHATWG-conforming browser would navigate to, or None for no host."""
    url = re.sub("[\t\n\r]", "", url.strip(C0_AND_SPACE))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
    if match is None or match.group(1).lower() not in ("http", "https"):
        return None
    # Special schemes: '\' is '/', and any run of slashes before the authority is skipped.
    rest = url[match.end() :].replace("\\", "/").lstrip("/")
    ends = [i for i in (rest.find(c) for c in "/?#") if i != -1]
    authority = rest[: min(ends, default=len(rest))]
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):
        host = host_port[: host_port.find("]") + 1]
    else:
        host = unquote(host_port.partition(":")[0], errors="strict")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host.lower().removesuffix(".") or None


def in_allowlist(host: str | None, allowed: tuple[str, ...]) -> bool:
    return host is not None and any(
        host == entry or (entry.startswith("*.") and host.endswith(entry[1:])) for entry in allowed
    )


TOKENS = [
    "https:",
    "http:",
    "HTTPS://",
    "javascript:",
    "//",
    "/",
    "\\",
    "@",
    ":",
    ":443",
    ".",
    "%",
    "%2e",
    "%40",
    "%2f",
    "#",
    "?",
    "\t",
    "\n",
    " ",
    "example.com",
    "EXAMPLE.com",
    "a.example.org",
    "example.org",
    "evil.com",
    "exаmple.com",
    "bücher.de",
    "[::1]",
    "user:pw",
]
# Strategies lean towards near-valid URLs (entries repeated on purpose) so that a good share
# is accepted and the property has something to check; the tricky parts then break them.
SCHEMES = ["https://"] * 15 + ["http://", "HTTPS://", "https:", "https:/", "https:\\\\", "//", ""]
USERINFO_PARTS = [""] * 20 + ["user@", "example.com@", "evil.com@", "a@b@", "example.com%40"]
HOSTS = ["example.com", "EXAMPLE.COM.", "a.example.org", "b.a.EXAMPLE.org", "[::1]"] * 4 + [
    "example.org",
    "evil.com",
    "example.com.evil.com",
    "evil.com\\.example.com",
    "evil.com%2f.example.com",
    "exаmple.com",
    "[::2]",
    "",
]
TAILS = [""] * 15 + [
    ":443",
    ":",
    ":x",
    "/example.com",
    "?@example.com",
    "#@evil.com",
    "\\@evil.com",
]
NOISE = [""] * 15 + ["\t", "\n", " ", "@evil.com", "%", "\\", "@"]

token_soup = st.lists(st.sampled_from(TOKENS), max_size=12).map("".join)
structured = st.builds(
    lambda *parts: "".join(parts),
    st.sampled_from(SCHEMES),
    st.sampled_from(USERINFO_PARTS),
    st.sampled_from(HOSTS),
    st.sampled_from(TAILS),
    st.sampled_from(NOISE),
    st.sampled_from(["", "/path", "?q=1", "#f", "/a@b\\c?d=e@f#g\\h"]),
)
noisy = st.builds(
    lambda base, junk, at: base[:at] + junk + base[at:],
    structured,
    st.text(alphabet="@\\/%:.\t\n #?", max_size=2),
    st.integers(min_value=0, max_value=40),
)
urls = st.one_of(structured, noisy)


def assert_leads_to_allowed_host(url: str) -> None:
    try:
        accepted = check_destination(url, PROPERTY_ALLOWED)
    except InvalidInput:
        return
    assert in_allowlist(browser_host(accepted), PROPERTY_ALLOWED), accepted
    assert in_allowlist(browser_host(url), PROPERTY_ALLOWED), url
    assert check_destination(accepted, PROPERTY_ALLOWED) == accepted


@settings(max_examples=1500, deadline=None)
@given(urls)
@example("https://example.com\\@evil.com")
@example("https://example.com\t@evil.com")
@example("https:\\\\evil.com\\@example.com")
@example("https://example.com%40evil.com")
def test_accepted_destinations_lead_browsers_to_allowed_hosts(url: str) -> None:
    assert_leads_to_allowed_host(url)


@settings(max_examples=1000, deadline=None)
@given(token_soup)
def test_accepted_token_soup_leads_browsers_to_allowed_hosts(url: str) -> None:
    assert_leads_to_allowed_host(url)
