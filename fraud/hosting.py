"""Curated hosting/datacenter networks.

Votes from these networks come from servers or commercial VPN exits, not from home or mobile lines.
The list is small on purpose: the largest clouds and VPS providers plus the carriers most VPN
services rent from. It is a signal, not a verdict (honest VPN users exist), so it is weighted low and
counted fully only when other signals corroborate it. Contests extend or replace it through config
keys ``hosting_asns``, ``extra_hosting_asns`` and ``hosting_org_keywords``.

Privacy relays (iCloud Private Relay egresses through Cloudflare, Akamai and Fastly) are NOT listed:
millions of ordinary iPhone users sit behind them.
"""

from __future__ import annotations

DEFAULT_HOSTING_ASNS: frozenset[int] = frozenset(
    {
        16509,  # Amazon AWS
        14618,  # Amazon AWS (us-east)
        15169,  # Google
        396982,  # Google Cloud
        8075,  # Microsoft Azure
        14061,  # DigitalOcean
        16276,  # OVH
        24940,  # Hetzner
        63949,  # Akamai Connected Cloud (Linode)
        20473,  # Vultr (Choopa)
        51167,  # Contabo
        12876,  # Scaleway
        45102,  # Alibaba Cloud
        132203,  # Tencent Cloud
        31898,  # Oracle Cloud
        9009,  # M247 (many VPN exits)
        60068,  # Datacamp / CDN77 (many VPN exits)
        212238,  # Datacamp
        62240,  # Clouvider
        8100,  # QuadraNet
        36352,  # ColoCrossing
        53667,  # FranTech / BuyVM
        46606,  # Unified Layer
        29802,  # HVC-AS (Hivelocity)
        40021,  # Contabo US
        197540,  # netcup
        61317,  # Digital Energy / ZenLayer-like VPS
        206092,  # IPXO (leased ranges used by proxies)
        49981,  # WorldStream
        35916,  # MULTACOM
    }
)

# Lower-case substrings of the GeoIP ASN organisation name.
DEFAULT_HOSTING_ORG_KEYWORDS: tuple[str, ...] = (
    "hosting",
    "datacenter",
    "data center",
    "colocation",
    "vps",
    "dedicated server",
    "amazon",
    "google cloud",
    "microsoft azure",
    "digitalocean",
    "ovh",
    "hetzner",
    "linode",
    "vultr",
    "choopa",
    "contabo",
    "scaleway",
    "m247",
    "leaseweb",
    "datacamp",
    "alibaba",
    "tencent cloud",
    "oracle cloud",
)


def is_hosting(asn: int | None, asn_org: str | None, asns: frozenset[int], keywords: tuple[str, ...]) -> bool:
    if asn is not None and asn in asns:
        return True
    if asn_org:
        org = asn_org.lower()
        return any(keyword in org for keyword in keywords)
    return False
