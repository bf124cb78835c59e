"""The visitor's country from their IP address, looked up offline at click time.

Used where no trusted proxy or CDN names the country in a header (COUNTRY_HEADER). The table
ships inside the iptocc package (the five Regional Internet Registries' delegations, rebuilt
with each release; a Rust lookup of well under a microsecond): nothing is downloaded while
the app runs and no address leaves the process. Only the two-letter code is stored; the IP
address itself never is. The registries say which country a block of addresses was assigned
to, which agrees with where it is used for about 95 % of addresses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import metadata

from iptocc import country_code

PACKAGE = "iptocc"
_IPV4_MAPPED = "::ffff:"
# Registry codes that name no country: the EU and Asia-Pacific regions, and "unknown".
_NO_COUNTRY = frozenset({"EU", "AP", "ZZ", "XX"})


def country_of_address(ip: str) -> str | None:
    """ISO 3166 alpha-2 country of a public IP address; None for private, reserved, unknown
    or malformed addresses."""
    if ip.startswith(_IPV4_MAPPED) and "." in ip:
        ip = ip[len(_IPV4_MAPPED) :]  # an IPv4 client seen by a dual-stack socket
    code = country_code(ip)
    if code is None or len(code) != 2 or code in _NO_COUNTRY:
        return None
    return code.upper()


@dataclass(frozen=True)
class CountryData:
    """Which IP-to-country table this install looks countries up in."""

    package: str
    version: str
    built: date | None  # when the package, and its registry data, was built


@cache
def country_data() -> CountryData:
    """The installed table's package, version and build date (from its bill of materials)."""
    distribution = metadata.distribution(PACKAGE)
    return CountryData(PACKAGE, distribution.version, _built(distribution))


def _built(distribution: metadata.Distribution) -> date | None:
    for file in distribution.files or ():
        if file.name.endswith(".cyclonedx.json"):
            try:
                stamp = json.loads(file.read_text(encoding="utf-8"))["metadata"]["timestamp"]
                return datetime.fromisoformat(stamp[:19]).date()
            except (OSError, ValueError, KeyError, TypeError):
                return None
    return None
