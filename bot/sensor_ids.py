"""What can name a sensor in its syslog: the spelling identifiers are compared in, and the names
that never identify one sensor.

A DDI sends ``dvchost=localhost`` unless its host name was set, and many hosts (relays included)
call themselves ``localhost``: such a name, listed for one appliance, would take every sensor's
detections. Pure; used by the inventory check and by the syslog receiver's mapping.
"""

from __future__ import annotations

import ipaddress

# Compared after ``normalise_id``: trimmed and lower case.
UNUSABLE_IDS = frozenset(
    {
        "",
        "-",
        "localhost",
        "localhost.localdomain",
        "localhost4",
        "localhost4.localdomain4",
        "localhost6",
        "localhost6.localdomain6",
        "ip6-localhost",
        "ip6-loopback",
    }
)


def normalise_id(value: str) -> str:
    """The form identifiers are compared in: trimmed, lower case, canonical IP addresses."""
    text = value.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def unusable_reason(value: str) -> str | None:
    """Why ``value`` cannot identify a sensor, or ``None`` when it can."""
    if normalise_id(value) in UNUSABLE_IDS:
        shown = value.strip()
        return (
            f"syslog id {shown!r} names no sensor in particular (DDI sends dvchost=localhost "
            "unless its host name is set): list the sensor's address, host name or device GUID"
        )
    return None


def is_usable(value: str) -> bool:
    """Quick check for the receiver's hot path (``value`` already trimmed)."""
    return value.lower() not in UNUSABLE_IDS
