"""Address ranges for DDI_BOT_SYSLOG_ALLOW."""

from __future__ import annotations

import pytest

from bot.networks import AddressFilter, parse_networks


def test_addresses_inside_any_range_are_allowed_in_any_spelling() -> None:
    allow = AddressFilter(parse_networks("10.1.0.0/16; 192.0.2.7, 2001:db8::/32"))
    assert allow.allows("10.1.200.3")
    assert allow.allows("::ffff:10.1.0.9")  # an IPv4 sender on a dual-stack socket
    assert allow.allows("192.0.2.7") and not allow.allows("192.0.2.8")
    assert allow.allows("2001:db8::1") and allow.allows("2001:db8::1%eth0")
    assert not allow.allows("10.2.0.1")
    assert not allow.allows("::1")
    assert not allow.allows("?")  # no address known: never let through
    assert allow.allows("10.1.200.3")  # cached verdicts are the same


@pytest.mark.parametrize("bad", ["sensors", "10.1.0.0/33", "10.1.0.0/16 10.2.0.0/16", "::g"])
def test_a_bad_range_is_named(bad: str) -> None:
    with pytest.raises(ValueError, match="is not an address or a CIDR range"):
        parse_networks(f"192.0.2.1, {bad}")


def test_an_empty_list_is_empty() -> None:
    assert parse_networks("") == () and parse_networks(" , ;") == ()
