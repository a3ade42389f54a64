"""Which appliance a detection belongs to."""

from __future__ import annotations

import pytest

from bot.errors import InventoryError
from bot.syslog.mapping import SyslogIndex, normalise_id

GUID = "6B593E17AFB7-40FBBB28-A4CE-0462-A536"


@pytest.fixture
def index() -> SyslogIndex:
    return SyslogIndex(
        [
            ("ddi-tokyo", ["ddi-tokyo.example.co.jp", GUID]),
            ("ddi-osaka", ["10.2.0.11", "DDI-OSAKA"]),
            ("ddi-relay", ["2001:db8::1"]),
            ("ddi-none", []),
        ]
    )


def test_identifiers_first_then_sender(index: SyslogIndex) -> None:
    assert index.resolve(GUID.lower(), None, None, "10.2.0.11") == "ddi-tokyo"
    assert index.resolve("unknown-guid", "ddi-osaka", None, None) == "ddi-osaka"
    assert index.resolve(None, "DDI-Tokyo.Example.co.jp", "10.2.0.11", None) == "ddi-tokyo"
    assert index.resolve(None, None, "10.2.0.11", "192.0.2.1") == "ddi-osaka"
    assert index.resolve(None, "other", "192.0.2.9", "10.2.0.11") == "ddi-osaka"
    assert index.resolve(None, "other", None, "192.0.2.1") is None
    assert index.resolve(None, None, None, None) is None


def test_any_spelling_of_an_address(index: SyslogIndex) -> None:
    assert index.resolve(None, None, None, "::ffff:10.2.0.11") == "ddi-osaka"
    assert index.resolve(None, None, "2001:DB8:0:0:0:0:0:1", None) == "ddi-relay"
    assert index.by_identifier("  ddi-osaka ") == "ddi-osaka"
    assert index.by_identifier("[2001:db8::1]") == "ddi-relay"
    assert normalise_id("::FFFF:10.2.0.11") == "10.2.0.11"


def test_appliances_and_size(index: SyslogIndex) -> None:
    assert index.appliances == ("ddi-tokyo", "ddi-osaka", "ddi-relay", "ddi-none")
    assert len(index) == 5


def test_an_identifier_may_belong_to_one_appliance_only() -> None:
    with pytest.raises(InventoryError, match=r"10\.0\.0\.1"):
        SyslogIndex([("a", ["10.0.0.1"]), ("b", ["::ffff:10.0.0.1"])])
    SyslogIndex([("a", ["x", "X"])])  # the same appliance twice is fine
