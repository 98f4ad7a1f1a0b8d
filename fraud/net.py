"""IP helpers: network buckets used by the velocity and shared-network signals."""

from __future__ import annotations

import ipaddress
from functools import lru_cache


def prefix_for(ip: str) -> str:
    """IPv4 /24 or IPv6 /64 in CIDR text, the bucket stored on every vote."""
    address = ipaddress.ip_address(ip)
    length = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{length}", strict=False))


@lru_cache(maxsize=262144)
def ipv6_supernets(prefix64: str) -> tuple[str, str] | None:
    """The /56 and /48 around an IPv6 /64 (ISPs hand whole /56 or /48 ranges to one customer).

    Keys are built as "g0:g1:g2:g3::/56" from the first four hextets; they are identifiers, so a
    cheap fixed form beats ipaddress's canonical one (which costs ~10 us per call).
    """
    if ":" not in prefix64:
        return None
    groups = _first_hextets(prefix64.split("/", 1)[0])
    if groups is None:
        return None
    g0, g1, g2, g3 = groups
    return f"{g0:x}:{g1:x}:{g2:x}:{g3 & 0xFF00:x}::/56", f"{g0:x}:{g1:x}:{g2:x}::/48"


def _first_hextets(address: str) -> tuple[int, int, int, int] | None:
    head, _, tail = address.partition("::")
    try:
        front = [int(part, 16) for part in head.split(":") if part] if head else []
        back = [int(part, 16) for part in tail.split(":") if part] if tail else []
    except ValueError:
        return None
    groups = front + [0] * (8 - len(front) - len(back)) + back if "::" in address else front
    if len(groups) < 4 or any(not 0 <= group <= 0xFFFF for group in groups):
        return None
    return groups[0], groups[1], groups[2], groups[3]
