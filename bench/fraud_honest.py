"""Honest contest traffic, including the cases that fool naive per-IP limits.

- song popularity with a Zipf tail and four genres (fans favour a genre, so songs are co-voted);
- households of 1-3 voters behind one home IPv4 or IPv6 /64, some sharing a family tablet;
- mobile carrier NAT: a dozen public IPs per carrier, dozens of honest voters on each;
- campuses behind a few NAT addresses in one /24, with a lecture-hall rally ("vote now!");
- commercial VPN users (datacenter ASNs, exits sometimes abroad) and iCloud Private Relay users;
- diurnal sessions in each voter's own timezone, returning voters on later days;
- new accounts created seconds to minutes before their first vote, a few honest disposable emails;
- an organic flash crowd after a contestant shares the link.

With ``lookalikes=True`` the contest also holds the honest traffic that looks most like the attacks the
engine is meant to catch (``_lookalikes`` below): a viral link, fans returning after months, families and
classrooms voting together, carrier NAT with hundreds of voters per address, privacy-relay users, and a
carrier's IPv6 pool. Every honest vote is labelled with the group it belongs to, so the benchmark reports
the false-positive rate of each group.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.fraud_common import (
    CAMPUS_NETWORKS,
    COUNTRIES,
    HOME_ISPS,
    MOBILE_CARRIERS,
    PRIVATE_RELAY,
    START,
    VPN_EXIT_COUNTRIES,
    VPN_PROVIDERS,
    Device,
    LabelledVote,
    Network,
    Person,
    cookie_id,
    event,
    hex_id,
    human_gap,
    ipv4,
    ipv6_home,
    make_device,
    person_email,
    session_start,
    with_owner,
)

SONGS = 40
GENRES = 4
HONEST_DISPOSABLE = ["mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com"]


@dataclass(slots=True)
class HonestContest:
    days: int
    songs: list[int]
    popularity: list[float]  # share of honest votes each song attracts
    genre: dict[int, int]
    votes: list[LabelledVote] = field(default_factory=list)
    flash_song: int = 0
    campus_song: int = 0
    next_voter_id: int = 1
    # what the platform knew of each account before the contest (fraud_history.py): voter -> prior
    prior: dict[int, Prior] = field(default_factory=dict)


@dataclass(slots=True)
class Prior:
    """An account's votes before the contest: the latest one, and its networks (ASNs) and devices."""

    last_vote: datetime
    asns: set[int]
    devices: set[str]


class _Networks:
    """Shared network pools (carrier NAT addresses, campus NAT, VPN exits, relays)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.carrier_nat: dict[tuple[str, int], list[Network]] = {}
        for country, carriers in MOBILE_CARRIERS.items():
            for asn, org, octet in carriers:
                pool = []
                for _ in range(12):  # a dozen CGNAT addresses per carrier in this contest
                    pool.append(with_owner(ipv4(octet, rng), country, asn, org))
                self.carrier_nat[(country, asn)] = pool
        self.campus_nat = [
            [
                with_owner(Network(f"{base}.{host}", f"{base}.0/24", None, None, None), country, asn, org)
                for host in (10, 11, 12, 13)
            ]
            for asn, org, country, base in CAMPUS_NETWORKS
        ]
        self.vpn_exits: list[Network] = []
        for asn, org, octet in VPN_PROVIDERS:
            for _ in range(15):
                country = rng.choice(VPN_EXIT_COUNTRIES)
                self.vpn_exits.append(with_owner(ipv4(octet, rng), country, asn, org))
        asn, org, octet = PRIVATE_RELAY
        self.relay = {c: [with_owner(ipv4(octet, rng), c, asn, org) for _ in range(20)] for c in COUNTRIES}

    def home(self, country: str) -> Network:
        asn, org, octet = self.rng.choice(HOME_ISPS[country])
        network = ipv6_home(self.rng, asn) if self.rng.random() < 0.25 else ipv4(octet, self.rng)
        return with_owner(network, country, asn, org)

    def mobile(self, country: str) -> Network:
        asn, org, _octet = self.rng.choice(MOBILE_CARRIERS[country])
        if self.rng.random() < 0.3:  # IPv6 mobile: one /64 per device
            return with_owner(ipv6_home(self.rng, asn + 1), country, asn, org)
        return self.rng.choice(self.carrier_nat[(country, asn)])


@dataclass(slots=True)
class _Voter:
    person: Person
    kind: str  # home | mobile | campus | vpn | relay
    home: Network | None
    mobile: Network | None
    campus: list[Network] | None
    vpn: Network | None
    favourite_genre: int
    new_account: bool


def _popularity(rng: random.Random) -> list[float]:
    raw = [1.0 / (rank + 1) ** 0.95 for rank in range(SONGS)]
    total = sum(raw)
    return [value / total for value in raw]


def _make_person(
    rng: random.Random, voter_id: int, country: str, first_vote: datetime, new_share: float = 0.25
) -> tuple[Person, bool]:
    _, zone, offset, language = COUNTRIES[country]
    if country not in ("GB",) and rng.random() < 0.15:
        language = "en-US,en;q=0.9"  # plenty of continental browsers run in English
    roll = rng.random()
    if roll < new_share:
        created = first_vote - timedelta(seconds=15 + rng.lognormvariate(4.4, 0.9))
        verified, new = rng.random() < 0.55, True
    elif roll < new_share + 0.2:
        created = START - timedelta(days=rng.uniform(1, 30))
        verified, new = rng.random() < 0.85, False
    else:
        created = START - timedelta(days=rng.uniform(30, 900))
        verified, new = rng.random() < 0.95, False
    email = person_email(rng, country)
    if rng.random() < 0.008:
        email = email.split("@")[0] + "@" + rng.choice(HONEST_DISPOSABLE)
    return Person(voter_id, country, zone, offset, language, email, created, verified), new


def _pick_country(rng: random.Random) -> str:
    return rng.choices(list(COUNTRIES), weights=[value[0] for value in COUNTRIES.values()])[0]


class _Builder:
    def __init__(self, rng: random.Random, days: int) -> None:
        self.rng = rng
        self.contest = HonestContest(
            days=days, songs=list(range(1, SONGS + 1)), popularity=_popularity(rng), genre={}
        )
        self.contest.genre = {song: rng.randrange(GENRES) for song in self.contest.songs}
        self.networks = _Networks(rng)
        self.voted: set[tuple[int, int, int]] = set()
        self.households: dict[str, list[tuple[Network, list[Device]]]] = {
            country: [] for country in COUNTRIES
        }
        self.genre_weights: dict[int, list[float]] = {}
        self.voters: list[_Voter] = []

    def new_voter(self, kind: str, country: str, first_vote: datetime, new_share: float = 0.25) -> _Voter:
        rng = self.rng
        voter_id = self.contest.next_voter_id
        self.contest.next_voter_id += 1
        person, new = _make_person(rng, voter_id, country, first_vote, new_share)
        mobile_first = kind in ("mobile", "relay") or rng.random() < 0.55
        person.devices.append(make_device(rng, mobile=mobile_first))
        home: Network | None = None
        if kind in ("home", "campus", "vpn"):
            # Households: the next voter often joins an existing household (same IP, maybe the family tablet).
            households = self.households[country]
            if households and rng.random() < 0.35:
                home, shared = rng.choice(households)
                if shared and rng.random() < 0.5:
                    person.devices.append(shared[0])
            else:
                home = self.networks.home(country)
                tablet = [make_device(rng, mobile=True)] if rng.random() < 0.15 else []
                households.append((home, tablet))
        if kind == "home" and rng.random() < 0.4:
            person.devices.append(make_device(rng, mobile=not mobile_first))
        mobile = self.networks.mobile(country)
        campuses = [nat for nat in self.networks.campus_nat if nat[0].country == country]
        campus = rng.choice(campuses) if kind == "campus" and campuses else None
        vpn = rng.choice(self.networks.vpn_exits) if kind == "vpn" else None
        if kind == "relay":
            vpn = rng.choice(self.networks.relay[country])
        voter = _Voter(person, kind, home, mobile, campus, vpn, rng.randrange(GENRES), new)
        self.voters.append(voter)
        return voter

    def network_for(self, voter: _Voter, device: Device) -> Network:
        rng = self.rng
        if voter.kind in ("vpn", "relay") and voter.vpn is not None and rng.random() < 0.9:
            return voter.vpn
        if voter.kind == "campus" and voter.campus is not None and rng.random() < 0.6:
            return rng.choice(voter.campus)
        is_phone = device.user_agent is not None and "Mobile" in device.user_agent
        if voter.home is None or (is_phone and rng.random() < 0.4):
            assert voter.mobile is not None
            return voter.mobile if voter.kind != "mobile" else self.networks.mobile(voter.person.country)
        return voter.home

    def pick_songs(self, voter: _Voter, count: int) -> list[int]:
        contest = self.contest
        cumulative = self.genre_weights.get(voter.favourite_genre)
        if cumulative is None:
            weights = [
                p * (3.0 if contest.genre[s] == voter.favourite_genre else 1.0)
                for s, p in zip(contest.songs, contest.popularity, strict=True)
            ]
            cumulative = list(itertools.accumulate(weights))
            self.genre_weights[voter.favourite_genre] = cumulative
        chosen: list[int] = []
        while len(chosen) < count:
            song = self.rng.choices(contest.songs, cum_weights=cumulative)[0]
            if song not in chosen:
                chosen.append(song)
        return chosen

    def session(
        self,
        voter: _Voter,
        start: datetime,
        songs: list[int],
        group: str | None = None,
        network: Network | None = None,
    ) -> None:
        rng = self.rng
        device = rng.choice(voter.person.devices)
        network = network or self.network_for(voter, device)
        at = start
        day = int((start - START).total_seconds() // 86400)
        for song in songs:
            if (voter.person.voter_id, song, day) in self.voted:
                continue
            self.voted.add((voter.person.voter_id, song, day))
            self.contest.votes.append(
                LabelledVote(event(0, song, voter.person, device, network, at), False, group or voter.kind)
            )
            at += timedelta(seconds=human_gap(rng))

    def session_size(self) -> int:
        count = 1
        while self.rng.random() < 0.45 and count < 8:
            count += 1
        return count


def _kind(rng: random.Random) -> str:
    return rng.choices(["home", "mobile", "campus", "vpn", "relay"], weights=[68, 17, 6, 4, 5])[0]


def generate_honest(
    rng: random.Random, days: int, votes_per_day: int, *, lookalikes: bool = False
) -> HonestContest:
    builder = _Builder(rng, days)
    contest = builder.contest
    target = votes_per_day * days
    # Regular voters: a first session on a random day, then come back on later days sometimes.
    while len(contest.votes) < target * 0.9:
        country = _pick_country(rng)
        day = rng.randrange(days)
        kind = _kind(rng)
        start = session_start(rng, day, COUNTRIES[country][2])
        voter = builder.new_voter(kind, country, start)
        favourites = builder.pick_songs(voter, builder.session_size())
        builder.session(voter, start, favourites)
        for later in range(day + 1, days):
            if rng.random() < 0.3:
                again = favourites[: max(1, len(favourites) - rng.randrange(2))]
                builder.session(voter, session_start(rng, later, COUNTRIES[country][2]), again)
    _flash_crowd(builder, int(target * 0.06))
    _campus_rally(builder, 180)
    if lookalikes:
        _lookalikes(builder, target)
    _prior_history(builder)
    contest.votes.sort(key=lambda vote: vote.event.cast_at)
    return contest


def _flash_crowd(builder: _Builder, size: int) -> None:
    """A contestant shares the link at 18:30 local: thousands of people, mostly on phones, many new."""
    rng, contest = builder.rng, builder.contest
    contest.flash_song = contest.songs[11]
    shared_at = START + timedelta(days=contest.days // 2, hours=16, minutes=30)
    for _ in range(size):
        country = "DE" if rng.random() < 0.8 else _pick_country(rng)
        arrive = shared_at + timedelta(seconds=rng.expovariate(1 / 2100))
        voter = builder.new_voter("mobile" if rng.random() < 0.6 else "home", country, arrive, new_share=0.65)
        songs = [contest.flash_song]
        if rng.random() < 0.15:
            songs += [s for s in builder.pick_songs(voter, 2) if s != contest.flash_song][:1]
        builder.session(voter, arrive, songs, "flash_crowd")


def _campus_rally(builder: _Builder, size: int) -> None:
    """A teacher says "vote for our band now": a lecture hall votes within minutes from the campus NAT."""
    rng, contest = builder.rng, builder.contest
    contest.campus_song = contest.songs[22]
    country = CAMPUS_NETWORKS[0][2]
    rally_at = START + timedelta(days=min(1, contest.days - 1), hours=9)
    for _ in range(size):
        arrive = rally_at + timedelta(seconds=rng.uniform(0, 420) + rng.expovariate(1 / 60))
        voter = builder.new_voter("campus", country, arrive, new_share=0.5)
        voter.campus = builder.networks.campus_nat[0]
        nat = rng.choice(voter.campus)
        device = voter.person.devices[0]
        songs = [contest.campus_song] if rng.random() < 0.8 else builder.pick_songs(voter, 1)
        at = arrive
        for song in songs:
            contest.votes.append(
                LabelledVote(event(0, song, voter.person, device, nat, at), False, "campus_rally")
            )
            at += timedelta(seconds=human_gap(rng))


def _prior_history(builder: _Builder) -> None:
    """Most accounts older than a day voted in earlier contests, mostly from their own networks, devices."""
    rng = builder.rng
    for voter in builder.voters:
        person = voter.person
        if voter.person.voter_id in builder.contest.prior:
            continue  # set by a look-alike group
        if person.created_at > START - timedelta(days=1) or rng.random() < 0.3:
            continue
        oldest = max(person.created_at, START - timedelta(days=150))
        last = oldest + (START - timedelta(days=1) - oldest) * rng.random()
        networks = [net for net in (voter.home, voter.mobile, voter.vpn) if net is not None]
        asns = {net.asn for net in networks if net.asn is not None and rng.random() < 0.9}
        devices = {
            key
            for device in person.devices
            if rng.random() < 0.85
            for key in (device.fingerprint, device.cookie)
            if key
        }
        builder.contest.prior[person.voter_id] = Prior(last, asns, devices)


def _lookalikes(builder: _Builder, target: int) -> None:
    _viral_link(builder, max(300, int(target * 0.05)))
    _returning_fans(builder, max(100, int(target * 0.015)))
    _families(builder, max(20, target // 400))
    _classrooms(builder, 12)
    _big_carrier_nat(builder, max(300, int(target * 0.02)))
    _relay_users(builder, max(200, int(target * 0.02)))
    _carrier_ipv6_pool(builder, max(200, int(target * 0.015)))


def _viral_link(builder: _Builder, size: int) -> None:
    """A contestant's post goes viral: thousands of brand-new accounts within an hour, on phones, for her
    song; a quarter come back on later days, for her song again (and sometimes another)."""
    rng, contest = builder.rng, builder.contest
    song = contest.songs[6]
    shared_at = START + timedelta(hours=19, minutes=10)
    for _ in range(size):
        country = _pick_country(rng)
        arrive = shared_at + timedelta(seconds=rng.expovariate(1 / 1500))
        voter = builder.new_voter("mobile" if rng.random() < 0.75 else "home", country, arrive, new_share=0.9)
        builder.session(voter, arrive, [song], "viral_link")
        for day in range(1, contest.days):
            if rng.random() < 0.25:
                again = [song] + ([builder.pick_songs(voter, 1)[0]] if rng.random() < 0.3 else [])
                later = session_start(rng, day, COUNTRIES[country][2])
                builder.session(voter, later, list(dict.fromkeys(again)), "viral_link")


def _returning_fans(builder: _Builder, size: int) -> None:
    """Last season's finalist is back: her old fans return after months, many on a new phone, for her."""
    rng, contest = builder.rng, builder.contest
    song = contest.songs[14]
    for _ in range(size):
        country = _pick_country(rng)
        day = rng.randrange(contest.days)
        start = session_start(rng, day, COUNTRIES[country][2])
        voter = builder.new_voter("home" if rng.random() < 0.6 else "mobile", country, start, new_share=0.0)
        person = voter.person
        person.created_at = START - timedelta(days=rng.uniform(200, 1100))
        old_devices = {d for d in (hex_id(rng), cookie_id(rng))}
        if rng.random() < 0.5:  # still the same phone
            old_devices |= {k for k in (person.devices[0].fingerprint, person.devices[0].cookie) if k}
        networks = [net for net in (voter.home, voter.mobile) if net is not None]
        asns = {net.asn for net in networks if net.asn is not None and rng.random() < 0.8}
        contest.prior[person.voter_id] = Prior(
            START - timedelta(days=rng.uniform(90, 400)), asns, old_devices
        )
        songs = [song] + ([builder.pick_songs(voter, 1)[0]] if rng.random() < 0.35 else [])
        builder.session(voter, start, list(dict.fromkeys(songs)), "returning_fans")


def _families(builder: _Builder, count: int) -> None:
    """Two to five people of one household vote the same two or three songs together, some on one tablet."""
    rng, contest = builder.rng, builder.contest
    for _ in range(count):
        country = _pick_country(rng)
        size = rng.randint(2, 5)
        day = rng.randrange(contest.days)
        start = session_start(rng, day, COUNTRIES[country][2])
        first = builder.new_voter("home", country, start, new_share=0.3)
        songs = builder.pick_songs(first, rng.randint(2, 3))
        home = first.home
        tablet = make_device(rng, mobile=True)
        for member in range(size):
            voter = first if member == 0 else builder.new_voter("home", country, start, new_share=0.4)
            voter.home = home
            if rng.random() < 0.5:
                voter.person.devices = [tablet]
            at = start + timedelta(minutes=rng.uniform(0, 20))
            builder.session(voter, at, songs, "families", network=home)
            for later in range(day + 1, contest.days):
                if rng.random() < 0.4:
                    builder.session(
                        voter, session_start(rng, later, COUNTRIES[country][2]), songs, "families"
                    )


def _classrooms(builder: _Builder, count: int) -> None:
    """A music teacher has a small class (four to eight) sign up in one lesson and vote for the school
    band and two favourites, from the school's network, and again at the next lessons."""
    rng, contest = builder.rng, builder.contest
    for index in range(count):
        asn, org, country, base = CAMPUS_NETWORKS[index % len(CAMPUS_NETWORKS)]
        school = [
            with_owner(Network(f"{base}.{host}", f"{base}.0/24", None, None, None), country, asn, org)
            for host in (40 + index, 41 + index)
        ]
        band = contest.songs[rng.randrange(10, 35)]
        lesson = START + timedelta(hours=8 + rng.uniform(0, 5))
        songs = [band, *(s for s in builder.pick_songs(builder.new_voter("campus", country, lesson), 2))]
        for _ in range(rng.randint(4, 8)):
            arrive = lesson + timedelta(seconds=rng.uniform(0, 900))
            voter = builder.new_voter("campus", country, arrive, new_share=0.9)
            voter.campus = school
            for day in range(contest.days):
                if day and rng.random() < 0.3:
                    continue
                at = arrive + timedelta(days=day, minutes=rng.uniform(0, 10) if day else 0)
                builder.session(
                    voter, at, list(dict.fromkeys(songs)), "classrooms", network=rng.choice(school)
                )


def _big_carrier_nat(builder: _Builder, size: int) -> None:
    """One carrier's CGNAT puts hundreds of evening voters behind two addresses."""
    rng, contest = builder.rng, builder.contest
    asn, org, octet = MOBILE_CARRIERS["DE"][0]
    gateways = [with_owner(ipv4(octet, rng), "DE", asn, org) for _ in range(2)]
    for _ in range(size):
        day = rng.randrange(contest.days)
        start = START + timedelta(days=day, hours=17 + rng.uniform(0, 4))
        voter = builder.new_voter("mobile", "DE", start, new_share=0.35)
        builder.session(
            voter,
            start,
            builder.pick_songs(voter, builder.session_size()),
            "carrier_nat_large",
            network=rng.choice(gateways),
        )


def _relay_users(builder: _Builder, size: int) -> None:
    """iCloud Private Relay users: a shared egress address per region, any song, any hour."""
    rng, contest = builder.rng, builder.contest
    for _ in range(size):
        country = _pick_country(rng)
        day = rng.randrange(contest.days)
        start = session_start(rng, day, COUNTRIES[country][2])
        voter = builder.new_voter("relay", country, start)
        builder.session(voter, start, builder.pick_songs(voter, builder.session_size()), "privacy_relay")


def _carrier_ipv6_pool(builder: _Builder, size: int) -> None:
    """A mobile carrier hands each phone a /64 from a few /48s: hundreds of /64s per range, mixed songs."""
    rng, contest = builder.rng, builder.contest
    asn, org, _octet = MOBILE_CARRIERS["FR"][0]
    ranges = [
        f"2a01:cb{rng.randrange(16):x}{rng.randrange(16):x}:{rng.randrange(1 << 16):x}" for _ in range(3)
    ]
    for _ in range(size):
        day = rng.randrange(contest.days)
        start = session_start(rng, day, COUNTRIES["FR"][2])
        voter = builder.new_voter("mobile", "FR", start)
        prefix = f"{rng.choice(ranges)}:{rng.randrange(1 << 16):x}"
        network = with_owner(
            Network(f"{prefix}:{rng.randrange(1 << 16):x}::1", f"{prefix}::/64", None, None, None),
            "FR",
            asn,
            org,
        )
        builder.session(
            voter, start, builder.pick_songs(voter, builder.session_size()), "carrier_ipv6", network=network
        )
