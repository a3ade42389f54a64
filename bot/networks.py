"""Address ranges: a list of CIDR ranges read from a setting, and whether an address is inside.

Used for ``DDI_BOT_SYSLOG_ALLOW`` (syslog carries no authentication; the allowlist is the
receiver's own fence behind the firewall). An IPv4 sender seen through a dual-stack socket
(``::ffff:10.0.0.5``) is the IPv4 address. Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

_CACHE_LIMIT = 4096

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 192.0.2.7, 2001:db8::/32"`` -> networks; ``ValueError`` names the bad one."""
    networks: list[Network] = []
    for part in text.replace(";", ",").split(","):
        item = part.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or a CIDR range") from None
    return tuple(networks)


class AddressFilter:
    """``allows(address)``: whether a sender is inside one of the networks (cached per address)."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)
        self._seen: dict[str, bool] = {}

    def allows(self, address: str) -> bool:
        seen = self._seen
        verdict = seen.get(address)
        if verdict is None:
            verdict = self._check(address)
            if len(seen) >= _CACHE_LIMIT:
                seen.clear()
            seen[address] = verdict
        return verdict

    def _check(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)
