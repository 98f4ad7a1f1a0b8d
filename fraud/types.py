"""Plain-data types shared by the detectors, the scorer and the group detector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

JsonScalar = str | int | float | bool | None
JsonValue = JsonScalar | list[str] | list[int] | list[float]


@dataclass(frozen=True, slots=True)
class VoteEvent:
    """One vote with everything recorded at cast time (IP, device, GeoIP, account)."""

    vote_id: int
    contest_id: int
    song_id: int
    voter_id: int
    cast_at: datetime  # UTC-aware
    ip: str
    prefix: str  # IPv4 /24 or IPv6 /64 in CIDR text, e.g. "203.0.113.0/24"
    user_agent: str | None
    fingerprint: str | None  # sent by the web client; may be missing or garbage
    device_cookie: str | None  # server-set signed cookie id
    accept_language: str | None
    client_timezone: str | None  # IANA name reported by the client
    country: str | None  # ISO alpha-2 from GeoIP
    asn: int | None
    asn_org: str | None
    account_created_at: datetime
    email: str
    email_verified: bool
    # The account's own past, as the platform recorded it (None: not known). Votes before this one, in any
    # contest: when the latest was cast, and whether one came from this network (same ASN, or same prefix
    # without GeoIP) or with this device (same fingerprint or device cookie).
    previous_vote_at: datetime | None = None
    known_network: bool | None = None
    known_device: bool | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a vote scored points: a code, its points and evidence a moderator can read."""

    code: str
    points: float
    evidence: str
    data: Mapping[str, JsonValue] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, for storing on the vote."""
        return {"code": self.code, "points": self.points, "evidence": self.evidence, "data": dict(self.data)}

    @classmethod
    def from_dict(cls, stored: Mapping[str, object]) -> Reason:
        """The reason back from its stored ``as_dict`` form."""
        data = stored.get("data")
        points = stored.get("points", 0)
        return cls(
            code=str(stored.get("code", "")),
            points=points if isinstance(points, int | float) else 0.0,
            evidence=str(stored.get("evidence", "")),
            data=dict(data) if isinstance(data, Mapping) else {},
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    vote_id: int
    score: int  # 0..100
    reasons: tuple[Reason, ...]
    suspicious: bool


@dataclass(frozen=True, slots=True)
class ScoringResult:
    verdicts: tuple[Verdict, ...]
    # detector name -> number of votes on which it raised (those votes were scored without it)
    detector_failures: Mapping[str, int] = field(default_factory=dict)

    def by_vote_id(self) -> dict[int, Verdict]:
        return {verdict.vote_id: verdict for verdict in self.verdicts}


@dataclass(frozen=True, slots=True)
class ContestContext:
    """What detectors need that does not come from votes."""

    contest_id: int
    eligible_countries: frozenset[str] | None = None  # None: every country may vote


class VoteEdge(NamedTuple):
    """One vote as an edge of the voter x song graph (a tuple: cheap at a million votes)."""

    vote_id: int
    voter_id: int
    song_id: int
    cast_at: float  # POSIX seconds
    account_created_at: float | None = None  # POSIX seconds; None skips the account in signup cohorts
    held: bool = False  # already held for review by the per-vote scoring (not by an earlier group)


@dataclass(frozen=True, slots=True)
class CoordinatedGroup:
    """A confirmed coordinated group (fraud/groups.py) or signup cohort (fraud/cohorts.py)."""

    accounts: tuple[int, ...]
    songs: tuple[int, ...]
    # where the group's votes concentrate; for a signup cohort, when its accounts were created
    windows: tuple[tuple[datetime, datetime], ...]
    density: float  # FRAUDAR average weighted degree of the block
    lift: float  # observed / expected co-voters of the block's songs (median over song pairs)
    lockstep: float  # 0..1 distance between the group's timing and the contest's timing
    vote_ids: tuple[int, ...]  # every vote cast by the group's accounts
    reason: Reason
    kind: str = "coordinated_group"  # or "signup_cohort"


@dataclass(frozen=True, slots=True)
class GroupScan:
    groups: tuple[CoordinatedGroup, ...]
    blocks_examined: int
    rejected: tuple[str, ...]  # one line per dense block that was not confirmed, for tuning

    def reasons_by_vote(self) -> dict[int, Reason]:
        return {vote_id: group.reason for group in self.groups for vote_id in group.vote_ids}
