"""Plain-data types shared by the detectors, the scorer and the group detector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

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
