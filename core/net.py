"""Client addresses as recorded on votes."""

from __future__ import annotations

import ipaddress

from fraud.net import prefix_for


def normalize_ip(raw: str | None) -> str | None:
    """The canonical text of an address, IPv4-mapped IPv6 (``::ffff:1.2.3.4``) unwrapped to IPv4; None if
    it is not an address (a test client, a unix socket)."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def network_prefix(ip: str) -> str:
    """IPv4 /24 or IPv6 /64, the bucket that groups one household, office or carrier gateway."""
    return prefix_for(ip)
