"""What one vote request carries, and what a recorded vote is: plain values shared by every writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.geo import GeoData


@dataclass(frozen=True, slots=True)
class VoteContext:
    """What the request tells about the voter's network and device."""

    ip: str
    network_prefix: str
    user_agent: str | None
    fingerprint: str | None
    device_cookie_id: str | None
    accept_language: str | None
    client_timezone: str | None
    geo: GeoData


@dataclass(frozen=True, slots=True)
class Ballot:
    """One voter's request to vote for one song of one contest."""

    contest_id: int
    song_id: int
    voter_id: int
    context: VoteContext
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordedVote:
    """A vote just written, as its voter sees it: plain values, so answering needs no ORM object."""

    id: int
    contest_id: int
    song_id: int
    cast_at: datetime
    vote_day: date
    retractable_until: datetime | None
    status: str = "pending"
    retracted_at: None = None
    reasons: tuple[()] = ()


def context_columns(context: VoteContext) -> dict[str, Any]:
    """The request's network, device and GeoIP data under the names of the ``votes`` columns."""
    geo = context.geo
    return {
        "ip": context.ip,
        "network_prefix": context.network_prefix,
        "user_agent": context.user_agent,
        "device_fingerprint": context.fingerprint,
        "device_cookie_id": context.device_cookie_id,
        "accept_language": context.accept_language,
        "client_timezone": context.client_timezone,
        "country": geo.country,
        "region": geo.region,
        "city": geo.city,
        "latitude": geo.latitude,
        "longitude": geo.longitude,
        "asn": geo.asn,
        "as_org": geo.as_org,
    }
