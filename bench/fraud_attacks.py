"""Attack scenarios injected into an honest contest. Each returns labelled votes (attack=True).

The attackers follow the contest rule the server enforces (one vote per account per song per day)
and behave like the tools they model: scripts that never run JavaScript, headless browsers on cloud
VMs, anti-detect browsers behind residential proxies, people creating accounts by hand, phone farms,
rings of real accounts coordinated through a chat group, and slow drips that stay under any rate.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from bench.fraud_common import (
    COUNTRIES,
    HOME_ISPS,
    MOBILE_CARRIERS,
    START,
    UA_DESKTOP,
    UA_MOBILE,
    Device,
    LabelledVote,
    Network,
    Person,
    cookie_id,
    event,
    hex_id,
    human_gap,
    ipv4,
    person_email,
    with_owner,
)
from bench.fraud_honest import HonestContest

ATTACK_VOTER_BASE = 10_000_000
HEADLESS_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 "
    "Safari/537.36"
)
DISPOSABLE = ["mailinator.com", "yopmail.com", "sharklasers.com", "grr.la", "guerrillamailblock.com"]
Attack = Callable[[random.Random, HonestContest, int], list[LabelledVote]]


class _Accounts:
    def __init__(self, rng: random.Random, scenario: str) -> None:
        self.rng = rng
        self.scenario = scenario
        self.next_id = ATTACK_VOTER_BASE

    def person(self, country: str, created: datetime, verified: float, email: str | None = None) -> Person:
        _, zone, offset, language = COUNTRIES.get(country, (0.0, "Europe/Berlin", 2, "en-US,en;q=0.9"))
        self.next_id += 1
        address = email or person_email(self.rng, country if country in COUNTRIES else "DE", numbered=0.8)
        return Person(
            self.next_id, country, zone, offset, language, address, created, self.rng.random() < verified
        )


def _country(rng: random.Random) -> str:
    return rng.choices(list(COUNTRIES), weights=[value[0] for value in COUNTRIES.values()])[0]


def _target(contest: HonestContest) -> int:
    return contest.songs[17]  # a mid-table song that wants the top 10


def _vote(
    scenario: str,
    song: int,
    person: Person,
    device: Device,
    network: Network,
    at: datetime,
    **client: str | None,
) -> LabelledVote:
    return LabelledVote(event(0, song, person, device, network, at, **client), True, scenario)


def datacenter_script(
    rng: random.Random,
    contest: HonestContest,
    n: int,
    song: int | None = None,
    scenario: str = "dc_script",
    user_agent: str = UA_DESKTOP[0],
) -> list[LabelledVote]:
    """One cloud VM runs a script: a spoofed Chrome User-Agent, no JavaScript, no cookie jar."""
    song = song or _target(contest)
    accounts = _Accounts(rng, scenario)
    network = with_owner(
        Network("167.99.14.23", "167.99.14.0/24", None, None, None), "NL", 14061, "DigitalOcean, LLC"
    )
    device = Device(user_agent, None, None)
    per_day = math.ceil(n / contest.days)
    pool = [accounts.person("DE", START - timedelta(days=rng.uniform(2, 6)), 0.4) for _ in range(per_day)]
    votes: list[LabelledVote] = []
    for day in range(contest.days):
        at = START + timedelta(days=day, hours=rng.uniform(8, 14))
        for person in pool[: min(per_day, n - len(votes))]:
            at += timedelta(seconds=rng.uniform(0.8, 2.5))
            votes.append(
                _vote(scenario, song, person, device, network, at, timezone="", language="en-US,en;q=0.9")
            )
    return votes


def headless_rotation(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
    """Puppeteer on 40 cloud VMs across four providers; each vote signs up a fresh account first."""
    scenario = "headless_dc"
    accounts = _Accounts(rng, scenario)
    providers = [
        (16509, "Amazon.com, Inc.", 52, "US"),
        (396982, "Google LLC", 34, "NL"),
        (16276, "OVH SAS", 51, "FR"),
        (24940, "Hetzner Online GmbH", 116, "DE"),
    ]
    vms = []
    for asn, org, octet, country in providers:
        image_fingerprint = hex_id(rng)
        for _ in range(2):
            second, third = rng.randrange(256), rng.randrange(256)
            for _ in range(5):
                network = with_owner(ipv4(octet, rng, second, third), country, asn, org)
                stealth = rng.random() < 0.5  # stealth plugin: clean UA and a randomised fingerprint
                vms.append((network, stealth, image_fingerprint))
    per_vm = math.ceil(n / len(vms))
    votes: list[LabelledVote] = []
    for network, stealth, image_fingerprint in vms:
        at = START + timedelta(hours=rng.uniform(2, contest.days * 24 - per_vm / 60 - 2))
        for _ in range(per_vm):
            if len(votes) >= n:
                break
            at += timedelta(seconds=rng.uniform(30, 90))
            person = accounts.person("DE", at - timedelta(seconds=rng.uniform(8, 25)), 0.0)
            user_agent = UA_DESKTOP[4] if stealth else HEADLESS_UA
            fingerprint = hex_id(rng) if stealth else image_fingerprint
            device = Device(user_agent, fingerprint, cookie_id(rng))
            votes.append(
                _vote(
                    scenario,
                    _target(contest),
                    person,
                    device,
                    network,
                    at,
                    timezone="UTC",
                    language="en-US,en;q=0.9",
                )
            )
    return votes


def _residential(rng: random.Random, country: str) -> Network:
    asn, org, octet = rng.choice(HOME_ISPS[country])
    return with_owner(ipv4(octet, rng), country, asn, org)


def residential_proxies(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
    """Anti-detect browser behind a residential proxy pool: new IP, account and fingerprint for every vote."""
    scenario = "residential_proxies"
    accounts = _Accounts(rng, scenario)
    votes: list[LabelledVote] = []
    span = contest.days * 86400
    for _ in range(n):
        country = _country(rng)
        at = START + timedelta(seconds=rng.uniform(0, span))
        person = accounts.person(country, at - timedelta(minutes=rng.uniform(5, 120)), 0.5)
        mobile = rng.random() < 0.3
        device = Device(rng.choice(UA_MOBILE if mobile else UA_DESKTOP), hex_id(rng), cookie_id(rng))
        matched = rng.random() < 0.6  # better tools set the timezone from the proxy's country
        zone = COUNTRIES[country][1] if matched else "America/New_York"
        language = COUNTRIES[country][3] if matched else "en-US,en;q=0.9"
        votes.append(
            _vote(
                scenario,
                _target(contest),
                person,
                device,
                _residential(rng, country),
                at,
                timezone=zone,
                language=language,
            )
        )
    return votes


def sybil_signups(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
    """A person creating accounts by hand (incognito per account) on a laptop and a phone."""
    scenario = "sybil_signup"
    accounts = _Accounts(rng, scenario)
    home = _residential(rng, "DE")
    asn, org, octet = MOBILE_CARRIERS["DE"][0]
    phone_net = with_owner(ipv4(octet, rng), "DE", asn, org)
    laptop_fp, phone_fp = hex_id(rng), hex_id(rng)
    stem = rng.choice(["songfan.lisa", "voter.max", "musiklover", "team.nova"])
    votes: list[LabelledVote] = []
    counter = 0
    per_day = math.ceil(n / contest.days)
    for day in range(contest.days):
        at = START + timedelta(days=day, hours=rng.uniform(15, 18))
        for _ in range(min(per_day, n - len(votes))):
            counter += 1
            at += timedelta(seconds=rng.uniform(40, 150))
            if rng.random() < 0.5:
                email = f"{rng.choice(['x', 'vote', 'qq', 'tmp'])}{hex_id(rng, 6)}@{rng.choice(DISPOSABLE)}"
            else:
                email = f"{stem}{counter:03d}@gmail.com"
            created = at - timedelta(seconds=rng.uniform(5, 40))
            person = accounts.person("DE", created, 0.3, email)
            on_phone = rng.random() < 0.3
            device = Device(
                UA_MOBILE[1] if on_phone else UA_DESKTOP[0],
                phone_fp if on_phone else laptop_fp,
                cookie_id(rng),
            )
            votes.append(
                _vote(scenario, _target(contest), person, device, phone_net if on_phone else home, at)
            )
    return votes


def click_farm(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
    """Twelve phones in Dhaka, each cycling through dozens of bought accounts, half of them behind a VPN."""
    scenario = "click_farm"
    accounts = _Accounts(rng, scenario)
    phones = []
    for index in range(12):
        if index % 2 == 0:
            network = with_owner(ipv4(103, rng), "BD", 24389, "Grameenphone Ltd.")
        else:
            network = with_owner(ipv4(185, rng), rng.choice(["DE", "NL"]), 9009, "M247 Europe SRL")
        language = "bn-BD,bn;q=0.9,en;q=0.8" if rng.random() < 0.4 else "en-US,en;q=0.9"
        phones.append((network, Device(UA_MOBILE[3], hex_id(rng), cookie_id(rng)), language))
    per_day = math.ceil(n / contest.days)
    per_phone = math.ceil(per_day / len(phones))
    pools = [
        [accounts.person("DE", START - timedelta(days=rng.uniform(10, 200)), 0.9) for _ in range(per_phone)]
        for _ in phones
    ]
    votes: list[LabelledVote] = []
    for day in range(contest.days):
        for (network, device, language), pool in zip(phones, pools, strict=True):
            at = START + timedelta(days=day, hours=rng.uniform(4, 6))  # 10:00 in Dhaka
            for person in pool:
                if len(votes) >= n:
                    break
                at += timedelta(seconds=rng.uniform(25, 70))
                votes.append(
                    _vote(
                        scenario,
                        _target(contest),
                        person,
                        device,
                        network,
                        at,
                        timezone="Asia/Dhaka",
                        language=language,
                    )
                )
    return votes


def _ring(
    rng: random.Random, contest: HonestContest, n: int, ratio: float, biased: bool, scenario: str
) -> list[LabelledVote]:
    """Real accounts in a chat group: when the leader posts, members vote for the ring's songs.

    With camouflage each member also votes for ``ratio`` x as many other songs, chosen at random
    or by popularity, so the ring's accounts look like ordinary multi-song voters.
    """
    accounts = _Accounts(rng, scenario)
    ring_songs = [_target(contest), contest.songs[20], contest.songs[25], contest.songs[30]]
    others = [song for song in contest.songs if song not in ring_songs]
    weights = [contest.popularity[song - 1] for song in others]
    extra = round(ratio * len(ring_songs))
    participation = 0.85
    members = max(5, math.ceil(n / (contest.days * participation * len(ring_songs) * (1 + ratio))))
    people = []
    for _ in range(members):
        country = _country(rng)
        person = accounts.person(country, START - timedelta(days=rng.uniform(20, 700)), 0.95)
        device = Device(rng.choice(UA_MOBILE + UA_DESKTOP), hex_id(rng), cookie_id(rng))
        people.append((person, device, _residential(rng, country)))
    votes: list[LabelledVote] = []
    for day in range(contest.days):
        call = START + timedelta(days=day, hours=rng.uniform(17, 19))
        for person, device, network in people:
            if rng.random() > participation:
                continue
            songs = list(ring_songs)
            camouflage: set[int] = set()
            while len(camouflage) < extra:
                camouflage.add(rng.choices(others, weights=weights)[0] if biased else rng.choice(others))
            songs += sorted(camouflage)
            rng.shuffle(songs)
            at = call + timedelta(seconds=rng.expovariate(1 / 720))
            for song in songs:
                votes.append(_vote(scenario, song, person, device, network, at))
                at += timedelta(seconds=human_gap(rng))
    return votes[:n] if len(votes) > n else votes


def vote_ring(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
    return _ring(rng, contest, n, 0.0, False, "vote_ring")


def ring_camouflage(ratio: float, biased: bool) -> Attack:
    name = f"ring_camo_{ratio:g}to1_{'popular' if biased else 'random'}"

    def attack(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
        return _ring(rng, contest, n, ratio, biased, name)

    attack.__name__ = name
    return attack


def slow_drip(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
    """Aged accounts with persistent anti-detect profiles vote once a day each, around the clock,
    each vote through a residential proxy in the profile's country: under every rate limit."""
    scenario = "slow_drip"
    accounts = _Accounts(rng, scenario)
    per_day = math.ceil(n / contest.days)
    batch_created = START - timedelta(days=rng.uniform(20, 40))
    profiles = []
    for _ in range(per_day):
        country = _country(rng)
        person = accounts.person(country, batch_created + timedelta(minutes=rng.uniform(0, 180)), 0.7)
        mobile = rng.random() < 0.3
        profiles.append(
            (person, Device(rng.choice(UA_MOBILE if mobile else UA_DESKTOP), hex_id(rng), cookie_id(rng)))
        )
    votes: list[LabelledVote] = []
    for day in range(contest.days):
        for person, device in profiles:
            if len(votes) >= n:
                break
            at = START + timedelta(days=day, seconds=rng.uniform(0, 86400))
            country = person.country if rng.random() < 0.85 else _country(rng)
            votes.append(_vote(scenario, _target(contest), person, device, _residential(rng, country), at))
    return votes


def sabotage(rng: random.Random, contest: HonestContest, n: int) -> list[LabelledVote]:
    """A crude script votes for a rival (the #2 song) to get it disqualified."""
    return datacenter_script(
        rng, contest, n, song=contest.songs[1], scenario="sabotage", user_agent="python-requests/2.31.0"
    )


SCENARIOS: dict[str, Attack] = {
    "dc_script": datacenter_script,
    "headless_dc": headless_rotation,
    "residential_proxies": residential_proxies,
    "sybil_signup": sybil_signups,
    "click_farm": click_farm,
    "vote_ring": vote_ring,
    "ring_camo_1to1_random": ring_camouflage(1.0, False),
    "ring_camo_2to1_random": ring_camouflage(2.0, False),
    "ring_camo_1to1_popular": ring_camouflage(1.0, True),
    "ring_camo_2to1_popular": ring_camouflage(2.0, True),
    "slow_drip": slow_drip,
    "sabotage": sabotage,
}
