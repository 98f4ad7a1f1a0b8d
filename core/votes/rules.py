"""The ballot rules and the retraction window: pure functions over plain values (no database, no clock)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from core.geo import GeoData
from core.models.contest import ContestStatus
from core.models.song import SongStatus
from core.models.vote import VoteStatus


@dataclass(frozen=True, slots=True)
class VotingRules:
    """What a contest says about who may vote, when, and how often."""

    status: str
    voting_opens_at: datetime
    voting_closes_at: datetime
    votes_per_voter_per_day: int
    votes_per_song_per_day: int
    eligible_countries: list[str] | None
    allow_unknown_country: bool
    require_verified_email: bool
    min_account_age_hours: int
    retraction_minutes: int


RULE_NAMES = tuple(VotingRules.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Voter:
    email_verified: bool
    created_at: datetime


def check_ballot(
    contest: VotingRules | None, song_status: str | None, voter: Voter, geo: GeoData, now: datetime
) -> None:
    """Every rule but the daily quotas (those are taken atomically when the vote is written)."""
    if contest is None or contest.status == ContestStatus.DRAFT:
        raise NotFound("no such contest", code="contest_not_found")
    if not (
        contest.status == ContestStatus.OPEN and contest.voting_opens_at <= now < contest.voting_closes_at
    ):
        raise Forbidden("voting is not open for this contest", code="voting_closed")
    if song_status is None:
        raise NotFound("no such song in this contest", code="song_not_found")
    if song_status != SongStatus.APPROVED:
        raise Conflict("this song is not open for votes", code="song_not_votable")
    if contest.require_verified_email and not voter.email_verified:
        raise Forbidden("this contest needs a verified email address", code="email_not_verified")
    age_needed = timedelta(hours=contest.min_account_age_hours)
    if now - voter.created_at < age_needed:
        wait = math.ceil((voter.created_at + age_needed - now).total_seconds() / 3600)
        raise Forbidden(
            f"accounts must be {contest.min_account_age_hours} h old to vote here; try again in {wait} h",
            code="account_too_new",
        )
    if contest.eligible_countries is not None:
        if geo.country is None:
            if not contest.allow_unknown_country:
                raise Forbidden(
                    "your country could not be determined and this contest is limited to some countries",
                    code="country_unknown",
                )
        elif geo.country not in contest.eligible_countries:
            raise Forbidden(
                f"voting from {geo.country} is not eligible in this contest", code="country_not_eligible"
            )


def song_quota_used(per_song: int) -> Conflict:
    return Conflict(
        f"you already voted for this song today (limit {per_song} per day)", code="already_voted_today"
    )


def day_quota_used(per_day: int) -> Conflict:
    return Conflict(
        f"you have used all {per_day} votes for today in this contest", code="daily_limit_reached"
    )


def not_logged_in() -> NotAuthenticated:
    return NotAuthenticated("log in first", code="not_authenticated")


class RetractableVote(Protocol):
    @property
    def cast_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def retracted_at(self) -> datetime | None: ...


def retractable_until(
    vote: RetractableVote, *, retraction_minutes: int, voting_closes_at: datetime
) -> datetime | None:
    """Minutes after casting, never after voting closes; nothing for a retracted or rejected vote."""
    if retraction_minutes <= 0 or vote.retracted_at is not None or vote.status == VoteStatus.REJECTED:
        return None
    return min(vote.cast_at + timedelta(minutes=retraction_minutes), voting_closes_at)


def check_retraction(
    *,
    retracted_at: datetime | None,
    cast_at: datetime,
    voting_open: bool,
    retraction_minutes: int,
    now: datetime,
) -> None:
    """Whether a vote may still be taken back: once, while voting is open, within the contest's minutes."""
    if retracted_at is not None:
        raise Conflict("this vote was already retracted", code="already_retracted")
    if not voting_open:
        raise Forbidden("voting is closed: votes can no longer be retracted", code="voting_closed")
    if now - cast_at > timedelta(minutes=retraction_minutes):
        raise Forbidden(
            f"votes can be retracted within {retraction_minutes} minutes of casting",
            code="retraction_window_passed",
        )
