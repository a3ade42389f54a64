from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import InventoryError, UnknownAppliance
from bot.inventory import demo_inventory, load_inventory, parse_inventory


def test_a_minimal_file_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(
        "appliances:\n"
        "  - name: ddi-tokyo-1\n    driver: simulated\n    scenario: tmsp-down\n"
        "  - name: ddi-osaka-2\n    console: 192.0.2.10:443\n    channel: C012AB3CD\n",
        encoding="utf-8",
    )
    inventory = load_inventory(path)
    tokyo, osaka = inventory.appliances
    assert (tokyo.driver, tokyo.scenario, tokyo.simulator_url) == ("simulated", "tmsp-down", None)
    assert (osaka.driver, osaka.console, osaka.channel) == ("guided", "192.0.2.10:443", "C012AB3CD")
    assert inventory.get("DDI-TOKYO-1") is tokyo


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "'appliances' list"),
        ("appliances:\n  - driver: simulated\n", "appliance #1: 'name' is required"),
        ("appliances:\n  - name: a\n  - name: a\n", "appliance #2: duplicate name 'a'"),
        (
            "appliances:\n  - name: a\n    password: x\n",
            "line 3: appliance #1: password looks like",
        ),
        (
            "appliances:\n  - name: a\n    colour: x\n",
            "line 3: appliance #1: unknown field(s) colour",
        ),
        ("appliances:\n  - name: a\n    channel: '#soc'\n", "line 3: appliance #1 (a): 'channel'"),
        ("appliances:\n  - name: a\n    tmsp_servers: {a: 1}\n", "must be a list of strings"),
        ("appliances:\n  - name: a\n    syslog_ids: ['']\n", "'syslog_ids' has an empty entry"),
        (
            "appliances:\n  - name: a\n    console: 'host:99999'\n",
            "line 3: appliance #1 (a): 'console'",
        ),
        ("appliances:\n  - name: a\n    tls_fingerprint: 'sha256:5F:0A'\n", "'tls_fingerprint'"),
        ("appliances:\n  - name: a\n    tmsp_servers: [log.example.net]\n", "'tmsp_servers'"),
        ("appliances:\n  - name: a\n    tls_ca_file: /nonexistent/ca.pem\n", "not a readable file"),
        (
            "appliances:\n  - name: a\n    syslog_ids: [DDI-A]\n"
            "  - name: b\n    syslog_ids: [ddi-a]\n",
            "line 5: appliance #2 (b): syslog id 'ddi-a' is already listed for 'a'",
        ),
        (
            "appliances:\n  - name: a\n    driver: simulated\n    scenario: on-fire\n",
            "unknown scenario 'on-fire'",
        ),
        ("appliances:\n  - name: a\n    scenario: quiet\n", "only applies to driver simulated"),
        ("appliances:\n  - name: a\n    site: [x]\n", "'site' must be a string"),
        (
            "appliances:\n  - name: a\n    syslog_ids: [10.0.0.5, localhost]\n",
            "line 3: appliance #1 (a): syslog id 'localhost' names no sensor in particular",
        ),
    ],
)
def test_invalid_files_are_rejected_with_a_precise_message(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


PIN = "sha256:5F:0A:3B:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"  # noqa: E501
ISSUE_EXAMPLE = f"""\
appliances:
  - name: ddi-osaka-2
    driver: guided                 # default when no driver is given
    console: 192.0.2.10:443        # web console, host or host:port (HTTPS)
    tls_fingerprint: "{PIN}"
    tls_ca_file: {{ca}}      # optional, instead of a pin
    tmsp_servers: ["log.tmsp.example.net:443", "status.tmsp.example.net:443"]
    syslog_ids: ["192.0.2.10", "DDI-OSAKA-2"]   # sender address, dvchost, device GUID
    capture_interface: eth1
    site: osaka
    channel: C012AB3CD             # where scheduled checks and alerts for it go
"""


def test_the_documented_example_loads_every_field(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    path.write_text(ISSUE_EXAMPLE.format(ca=ca), encoding="utf-8")
    (osaka,) = load_inventory(path).appliances
    assert osaka.driver == "guided"
    assert osaka.console == "192.0.2.10:443"
    assert osaka.tls_fingerprint == PIN
    assert osaka.tls_ca_file == str(ca)
    assert osaka.tmsp_servers == ("log.tmsp.example.net:443", "status.tmsp.example.net:443")
    assert osaka.syslog_ids == ("192.0.2.10", "DDI-OSAKA-2")
    assert (osaka.capture_interface, osaka.site, osaka.channel) == ("eth1", "osaka", "C012AB3CD")


def test_errors_name_the_line_of_the_offending_field(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(
        "appliances:\n  - name: ok\n  - name: b\n    site: osaka\n    scenario: quiet\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    assert f"{path}, line 5: appliance #2 (b)" in str(info.value)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text("appliances:\n  - name: a\n   bad: [\n", encoding="utf-8")
    with pytest.raises(InventoryError, match="line"):
        load_inventory(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="cannot read inventory"):
        load_inventory(tmp_path / "nope.yml")


def test_unknown_names_come_with_close_matches() -> None:
    inventory = parse_inventory(
        {"appliances": [{"name": "ddi-tokyo-1"}, {"name": "ddi-tokyo-2"}, {"name": "ddi-osaka"}]}
    )
    with pytest.raises(UnknownAppliance) as info:
        inventory.get("ddi-tokio-1")
    assert info.value.params["suggestions"][0] == "ddi-tokyo-1"
    assert "ddi-osaka" in inventory.close_matches("osaka")
    assert inventory.close_matches("zzzzzzzz") == []


def test_the_demo_fleet_has_one_appliance_per_scenario() -> None:
    fleet = demo_inventory()
    assert {a.scenario for a in fleet.simulated()} == {
        "healthy",
        "tmsp-down",
        "quiet",
        "no-traffic",
        "unreachable",
        "reboot-fails",
    }
