"""Shared pieces of the synthetic contest generator: networks, devices, people, clocks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fraud.types import VoteEvent

CONTEST_ID = 7
START = datetime(2026, 5, 1, tzinfo=UTC)

# country: (weight, timezone, UTC offset in summer, browser language)
COUNTRIES: dict[str, tuple[float, str, int, str]] = {
    "DE": (0.25, "Europe/Berlin", 2, "de-DE,de;q=0.9,en;q=0.8"),
    "FR": (0.18, "Europe/Paris", 2, "fr-FR,fr;q=0.9,en;q=0.7"),
    "GB": (0.15, "Europe/London", 1, "en-GB,en;q=0.9"),
    "ES": (0.10, "Europe/Madrid", 2, "es-ES,es;q=0.9"),
    "IT": (0.10, "Europe/Rome", 2, "it-IT,it;q=0.9,en;q=0.6"),
    "PL": (0.10, "Europe/Warsaw", 2, "pl-PL,pl;q=0.9,en;q=0.7"),
    "NL": (0.07, "Europe/Amsterdam", 2, "nl-NL,nl;q=0.9,en;q=0.8"),
    "SE": (0.05, "Europe/Stockholm", 2, "sv-SE,sv;q=0.9,en;q=0.8"),
}
ELIGIBLE = frozenset(COUNTRIES)

# Home and mobile ISPs per country: (asn, org, first octet of its synthetic IPv4 space)
HOME_ISPS: dict[str, list[tuple[int, str, int]]] = {
    "DE": [(3320, "Deutsche Telekom AG", 79), (3209, "Vodafone GmbH", 88), (8881, "1&1 Versatel", 89)],
    "FR": [(3215, "Orange S.A.", 90), (12322, "Free SAS", 82), (15557, "SFR SA", 93)],
    "GB": [(2856, "British Telecommunications PLC", 81), (5089, "Virgin Media Limited", 86)],
    "ES": [(3352, "Telefonica de Espana", 80), (12479, "Orange Espagne", 83)],
    "IT": [(3269, "Telecom Italia", 87), (30722, "Vodafone Italia", 95)],
    "PL": [(5617, "Orange Polska", 91), (12741, "Netia SA", 94)],
    "NL": [(1136, "KPN B.V.", 77), (33915, "Vodafone Libertel", 84)],
    "SE": [(3301, "Telia Company AB", 78), (2119, "Telenor Norge", 85)],
}
MOBILE_CARRIERS: dict[str, list[tuple[int, str, int]]] = {
    "DE": [(6805, "Telefonica Germany", 176), (3209, "Vodafone GmbH mobile", 177)],
    "FR": [(51207, "Free Mobile SAS", 178), (5410, "Bouygues Telecom", 179)],
    "GB": [(12576, "EE Limited", 180), (25135, "Vodafone UK", 181)],
    "ES": [(12430, "Vodafone Spain", 182)],
    "IT": [(1267, "Wind Tre", 183)],
    "PL": [(12912, "T-Mobile Polska", 184)],
    "NL": [(31615, "T-Mobile Netherlands", 185)],
    "SE": [(1257, "Tele2 Sverige", 186)],
}
CAMPUS_NETWORKS = [
    (680, "DFN Verein (university network)", "DE", "141.30.7"),
    (2200, "Renater (university network)", "FR", "193.50.12"),
    (786, "Jisc Services Limited", "GB", "129.67.3"),
    (766, "RedIRIS (university network)", "ES", "147.96.44"),
]
# Commercial VPN exits on datacenter carriers (as honest users see them)
VPN_PROVIDERS = [(9009, "M247 Europe SRL", 185), (60068, "Datacamp Limited", 212), (16276, "OVH SAS", 51)]
VPN_EXIT_COUNTRIES = ["NL", "DE", "GB", "FR", "SE", "US", "CH"]
PRIVATE_RELAY = (13335, "Cloudflare, Inc.", 172)

UA_DESKTOP = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
]
UA_MOBILE = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
]
FIRST_NAMES = [
    "anna",
    "lena",
    "marie",
    "julia",
    "laura",
    "sophie",
    "emma",
    "lea",
    "paul",
    "lukas",
    "jonas",
    "felix",
    "max",
    "leon",
    "finn",
    "noah",
    "lucas",
    "hugo",
    "louis",
    "chloe",
    "manon",
    "camille",
    "ines",
    "jade",
    "oliver",
    "harry",
    "jack",
    "george",
    "amelia",
    "isla",
    "ava",
    "mia",
    "sofia",
    "giulia",
    "marco",
    "luca",
    "francesco",
    "alessandro",
    "pablo",
    "alvaro",
    "lucia",
    "carmen",
    "jakub",
    "kacper",
    "zuzanna",
    "maja",
    "lars",
    "erik",
    "elin",
    "ebba",
    "sanne",
    "daan",
    "bram",
    "fleur",
    "tom",
    "tim",
    "nina",
    "sara",
    "david",
    "eva",
]
LAST_NAMES = [
    "mueller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "martin",
    "bernard",
    "dubois",
    "thomas",
    "robert",
    "smith",
    "jones",
    "taylor",
    "brown",
    "williams",
    "garcia",
    "rodriguez",
    "lopez",
    "rossi",
    "russo",
    "ferrari",
    "esposito",
    "nowak",
    "kowalski",
    "wisniewski",
    "jansen",
    "devries",
    "bakker",
    "andersson",
    "johansson",
    "karlsson",
]
HONEST_MAIL = {
    "DE": ["gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.com"],
    "FR": ["gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net"],
    "GB": ["gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "icloud.com"],
    "ES": ["gmail.com", "hotmail.es", "outlook.es", "yahoo.es"],
    "IT": ["gmail.com", "libero.it", "hotmail.it", "virgilio.it"],
    "PL": ["gmail.com", "wp.pl", "onet.pl", "o2.pl"],
    "NL": ["gmail.com", "hotmail.nl", "ziggo.nl", "kpnmail.nl"],
    "SE": ["gmail.com", "hotmail.se", "telia.com", "outlook.com"],
}


@dataclass(slots=True)
class Device:
    user_agent: str | None
    fingerprint: str | None
    cookie: str | None


@dataclass(slots=True)
class Person:
    voter_id: int
    country: str
    timezone: str
    utc_offset: int
    language: str
    email: str
    created_at: datetime
    verified: bool
    devices: list[Device] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Network:
    ip: str
    prefix: str
    country: str | None
    asn: int | None
    asn_org: str | None


@dataclass(slots=True)
class LabelledVote:
    event: VoteEvent
    attack: bool
    scenario: str


def hex_id(rng: random.Random, length: int = 32) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def cookie_id(rng: random.Random) -> str:
    return "dc_" + hex_id(rng, 24)


def ipv4(first: int, rng: random.Random, second: int | None = None, third: int | None = None) -> Network:
    b = rng.randrange(256) if second is None else second
    c = rng.randrange(256) if third is None else third
    d = rng.randrange(1, 255)
    return Network(f"{first}.{b}.{c}.{d}", f"{first}.{b}.{c}.0/24", None, None, None)


def ipv6_home(rng: random.Random, carrier_tag: int) -> Network:
    """A /64 inside a customer /56 (one household)."""
    site = rng.randrange(1 << 16)
    subnet = rng.randrange(256) << 8  # /56 boundary: low byte of the 4th group is the /64 inside it
    group4 = subnet | rng.randrange(4)
    host = ":".join(f"{rng.randrange(1 << 16):x}" for _ in range(4))
    prefix = f"2a02:{carrier_tag:x}:{site:x}:{group4:x}"
    return Network(f"{prefix}:{host}", f"{prefix}::/64", None, None, None)


def with_owner(network: Network, country: str | None, asn: int | None, org: str | None) -> Network:
    return Network(network.ip, network.prefix, country, asn, org)


def person_email(rng: random.Random, country: str, numbered: float = 0.4) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = rng.choice([f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", f"{first}_{last}", first])
    if rng.random() < numbered:
        local += str(rng.choice([rng.randrange(60, 100), rng.randrange(1960, 2010), rng.randrange(1, 999)]))
    return f"{local}@{rng.choice(HONEST_MAIL[country])}"


def make_device(rng: random.Random, mobile: bool) -> Device:
    user_agent = rng.choice(UA_MOBILE if mobile else UA_DESKTOP)
    roll = rng.random()
    # Privacy tools and blocked scripts: some honest browsers send no fingerprint or a garbage one.
    fingerprint = None if roll < 0.025 else ("undefined" if roll < 0.03 else hex_id(rng))
    cookie = None if rng.random() < 0.03 else cookie_id(rng)
    return Device(user_agent, fingerprint, cookie)


def event(
    vote_id: int,
    song_id: int,
    person: Person,
    device: Device,
    network: Network,
    at: datetime,
    *,
    timezone: str | None = None,
    language: str | None = None,
) -> VoteEvent:
    return VoteEvent(
        vote_id=vote_id,
        contest_id=CONTEST_ID,
        song_id=song_id,
        voter_id=person.voter_id,
        cast_at=at,
        ip=network.ip,
        prefix=network.prefix,
        user_agent=device.user_agent,
        fingerprint=device.fingerprint,
        device_cookie=device.cookie,
        accept_language=language if language is not None else person.language,
        # "" means the client reported nothing (None would mean "use the person's own timezone")
        client_timezone=(timezone or None) if timezone is not None else person.timezone,
        country=network.country,
        asn=network.asn,
        asn_org=network.asn_org,
        account_created_at=person.created_at,
        email=person.email,
        email_verified=person.verified,
    )


def diurnal_local_hour(rng: random.Random) -> float:
    """Local hour of a voting session: quiet at night, lunch bump, evening peak."""
    weights = [
        0.4,
        0.2,
        0.1,
        0.1,
        0.1,
        0.2,
        0.6,
        1.2,
        1.6,
        1.8,
        2.0,
        2.2,
        3.0,
        3.0,
        2.4,
        2.2,
        2.4,
        2.8,
        3.6,
        4.8,
        5.6,
        5.4,
        4.0,
        1.8,
    ]
    hour = rng.choices(range(24), weights=weights)[0]
    return hour + rng.random()


def session_start(rng: random.Random, day: int, utc_offset: int) -> datetime:
    local_hour = diurnal_local_hour(rng)
    return START + timedelta(days=day, hours=local_hour - utc_offset)


def human_gap(rng: random.Random) -> float:
    """Seconds between two votes of one person in one session (listening, scrolling, clicking)."""
    return 4.0 + rng.lognormvariate(2.5, 0.8)
