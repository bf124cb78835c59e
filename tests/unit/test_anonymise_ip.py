"""Client addresses as the server's logs show them."""

from __future__ import annotations

import pytest

from linktracker.serve import anonymise_addresses, anonymise_ip


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("::ffff:203.0.113.77", "203.0.113.0"),
        ("[2001:db8::1]", "2001:db8::"),
        ("unknown", "-"),
        ("", "-"),
    ],
)
def test_anonymise_ip_zeroes_the_last_octet_or_80_bits(address: str, shown: str) -> None:
    assert anonymise_ip(address) == shown


def test_anonymise_addresses_in_a_forwarded_header() -> None:
    header = 'for=203.0.113.77, for="[2001:db8:abcd:12::5]:4711", 10:30:00'
    assert anonymise_addresses(header) == 'for=203.0.113.0, for="[2001:db8:abcd::]:4711", 10:30:00'
