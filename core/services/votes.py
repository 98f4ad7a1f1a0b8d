"""Casting votes under the contest's rules, enforced atomically by the database; voters' own views."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, cast

import asyncpg
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from core.geo import GeoData
from core.jobs import recompute_job, request_after_commit, scoring_job
from core.models import (
    Contest,
    ContestStatus,
    DailySongVoteCount,
    DailyVoteCount,
    Song,
    SongStatus,
    Vote,
    VoteStatus,
)
from core.services.users import get_active_user


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


SONG_COUNTS = cast(Table, DailySongVoteCount.__table__)
DAY_COUNTS = cast(Table, DailyVoteCount.__table__)


@cache
def _take_one_statement(dialect: str, table: Table) -> Any:
    """``INSERT 1`` or ``+ 1`` while below ``:limit``, built once per dialect and table: building the
    statement anew for every vote cost more CPU than running it."""
    keys = [column.name for column in table.primary_key.columns]
    factory = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        factory(table)
        .values({**{key: bindparam(key) for key in keys}, "votes": 1})
        .on_conflict_do_update(
            index_elements=keys, set_={"votes": table.c.votes + 1}, where=table.c.votes < bindparam("limit")
        )
        .returning(table.c.votes)
    )


async def _take_one(session: AsyncSession, table: Table, keys: dict[str, Any], limit: int) -> bool:
    """Count one more vote unless the limit is reached, in one upsert; False when it was reached.

    Concurrent requests for the same key serialise on the row lock the upsert takes, so exactly ``limit``
    of them succeed."""
    statement = _take_one_statement(session.get_bind().dialect.name, table)
    return (await session.execute(statement, {**keys, "limit": limit})).first() is not None


_INSERT_VOTE = insert(Vote).returning(Vote)
_CONTEST_AND_SONG = (
    select(Contest, Song)
    .outerjoin(Song, (Song.id == bindparam("song_id")) & (Song.contest_id == Contest.id))
    .where(Contest.id == bindparam("contest_id"))
)


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

    @classmethod
    def of(cls, source: Contest | asyncpg.Record) -> VotingRules:
        """From the ORM row, or from a plain row with these columns (eligible_countries as JSON text)."""
        if isinstance(source, Contest):
            return cls(**{name: getattr(source, name) for name in _RULE_NAMES})
        values = {name: source[name] for name in _RULE_NAMES}
        countries = values["eligible_countries"]
        values["eligible_countries"] = json.loads(countries) if countries is not None else None
        return cls(**values)


_RULE_NAMES = tuple(VotingRules.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class OwnVote:
    """A vote as its voter sees it: with the moment it can no longer be taken back (None: it cannot be)."""

    vote: Vote
    retractable_until: datetime | None


def retractable_until(vote: Vote, *, retraction_minutes: int, voting_closes_at: datetime) -> datetime | None:
    """Minutes after casting, never after voting closes; nothing for a retracted or rejected vote."""
    if retraction_minutes <= 0 or vote.retracted_at is not None or vote.status == VoteStatus.REJECTED:
        return None
    return min(vote.cast_at + timedelta(minutes=retraction_minutes), voting_closes_at)


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


def _song_quota_used(per_song: int) -> Conflict:
    return Conflict(
        f"you already voted for this song today (limit {per_song} per day)", code="already_voted_today"
    )


def _day_quota_used(per_day: int) -> Conflict:
    return Conflict(
        f"you have used all {per_day} votes for today in this contest", code="daily_limit_reached"
    )


def _not_logged_in() -> NotAuthenticated:
    return NotAuthenticated("log in first", code="not_authenticated")


async def cast_vote(session: AsyncSession, ballot: Ballot) -> OwnVote:
    """The portable path (the embedded SQLite mode): rules, quotas and the vote in one ORM transaction."""
    voter = await get_active_user(session, ballot.voter_id)
    if voter is None:
        raise _not_logged_in()
    keys = {"contest_id": ballot.contest_id, "song_id": ballot.song_id}
    row = (await session.execute(_CONTEST_AND_SONG, keys)).first()
    contest, song = (row.Contest, row.Song) if row is not None else (None, None)
    rules = VotingRules.of(contest) if contest is not None else None
    song_status = song.status if song is not None else None
    check_ballot(
        rules, song_status, Voter(voter.email_verified, voter.created_at), ballot.context.geo, ballot.now
    )
    assert contest is not None
    assert song is not None

    now, day = ballot.now, ballot.now.date()
    # Plain values: a rollback below expires the loaded rows.
    per_song, per_day = contest.votes_per_song_per_day, contest.votes_per_voter_per_day
    retraction_minutes, closes_at = contest.retraction_minutes, contest.voting_closes_at
    song_keys = {"contest_id": contest.id, "voter_id": voter.id, "song_id": song.id, "vote_day": day}
    if not await _take_one(session, SONG_COUNTS, song_keys, per_song):
        await session.rollback()
        raise _song_quota_used(per_song)
    day_keys = {"contest_id": contest.id, "voter_id": voter.id, "vote_day": day}
    if not await _take_one(session, DAY_COUNTS, day_keys, per_day):
        await session.rollback()
        raise _day_quota_used(per_day)

    vote: Vote | None = await session.scalar(
        _INSERT_VOTE,
        dict(
            contest_id=contest.id,
            song_id=song.id,
            voter_id=voter.id,
            cast_at=now,
            vote_day=day,
            **_context_columns(ballot.context),
            weight=1,
            status=VoteStatus.PENDING,
            reasons=[],
        ),
    )
    assert vote is not None
    request_after_commit(session, scoring_job(contest.id))
    await session.commit()  # expire_on_commit is off: the returned row needs no reload
    return OwnVote(
        vote, retractable_until(vote, retraction_minutes=retraction_minutes, voting_closes_at=closes_at)
    )


def _context_columns(context: VoteContext) -> dict[str, Any]:
    geo = context.geo
    return dict(
        ip=context.ip,
        network_prefix=context.network_prefix,
        user_agent=context.user_agent,
        device_fingerprint=context.fingerprint,
        device_cookie_id=context.device_cookie_id,
        accept_language=context.accept_language,
        client_timezone=context.client_timezone,
        country=geo.country,
        region=geo.region,
        city=geo.city,
        latitude=geo.latitude,
        longitude=geo.longitude,
        asn=geo.asn,
        as_org=geo.as_org,
    )


# --- the PostgreSQL path: two round trips on a plain asyncpg connection ---------------------------------

# Everything the rules need, keyed by the voter: no row means no such (active) account.
_BALLOT = """
SELECT u.email_verified, u.created_at,
       c.status, c.voting_opens_at, c.voting_closes_at, c.votes_per_voter_per_day, c.votes_per_song_per_day,
       c.eligible_countries::text AS eligible_countries, c.allow_unknown_country, c.require_verified_email,
       c.min_account_age_hours, c.retraction_minutes, s.status AS song_status
FROM users AS u
LEFT JOIN contests AS c ON c.id = $2
LEFT JOIN songs AS s ON s.id = $3 AND s.contest_id = c.id
WHERE u.id = $1 AND u.status = 'active'
"""
_RECORD = (
    "SELECT ovation_record_vote($1, $2, $3, $4, $5, $6, $7, " + ", ".join(f"${n}" for n in range(8, 22)) + ")"
)


async def cast_vote_postgres(pool: asyncpg.Pool, ballot: Ballot) -> OwnVote:
    """The same rules as :func:`cast_vote`, in two round trips: read what the rules need, then take the quotas
    and insert the vote in one function call (migration 0008), all or nothing. The caller requests scoring
    (:func:`scoring_job`): the vote is committed when this returns."""
    contest_id, song_id, voter_id, now = ballot.contest_id, ballot.song_id, ballot.voter_id, ballot.now
    day = now.date()
    async with pool.acquire() as connection:
        row = await connection.fetchrow(_BALLOT, voter_id, contest_id, song_id)
        if row is None:
            raise _not_logged_in()
        contest = VotingRules.of(row) if row["status"] is not None else None
        voter = Voter(row["email_verified"], row["created_at"])
        check_ballot(contest, row["song_status"], voter, ballot.context.geo, now)
        assert contest is not None
        columns = _context_columns(ballot.context)
        try:
            vote_id = await connection.fetchval(
                _RECORD,
                contest_id,
                song_id,
                voter_id,
                now,
                day,
                contest.votes_per_song_per_day,
                contest.votes_per_voter_per_day,
                *columns.values(),
            )
        except asyncpg.RaiseError as error:
            if error.message == "daily_limit_reached":
                raise _day_quota_used(contest.votes_per_voter_per_day) from None
            raise
    if vote_id < 0:
        raise _song_quota_used(contest.votes_per_song_per_day)
    vote = Vote(
        id=vote_id,
        contest_id=contest_id,
        song_id=song_id,
        voter_id=voter_id,
        cast_at=now,
        vote_day=day,
        **columns,
        weight=1,
        status=VoteStatus.PENDING,
        reasons=[],
        retracted_at=None,
    )
    window = retractable_until(
        vote, retraction_minutes=contest.retraction_minutes, voting_closes_at=contest.voting_closes_at
    )
    return OwnVote(vote, window)


async def my_votes(
    session: AsyncSession, *, voter_id: int, contest_id: int | None, limit: int, offset: int
) -> list[OwnVote]:
    query = (
        select(Vote, Contest.retraction_minutes, Contest.voting_closes_at)
        .join(Contest, Contest.id == Vote.contest_id)
        .where(Vote.voter_id == voter_id)
        .order_by(Vote.cast_at.desc(), Vote.id.desc())
    )
    if contest_id is not None:
        query = query.where(Vote.contest_id == contest_id)
    rows = await session.execute(query.limit(limit).offset(offset))
    return [
        OwnVote(vote, retractable_until(vote, retraction_minutes=minutes, voting_closes_at=closes_at))
        for vote, minutes, closes_at in rows
    ]


@dataclass(frozen=True, slots=True)
class Remaining:
    day: date
    votes_left_today: int
    votes_per_day: int
    votes_per_song_per_day: int
    songs_at_limit: list[int]


async def remaining_votes(
    session: AsyncSession, *, contest_id: int, voter_id: int, now: datetime
) -> Remaining:
    contest = await session.get(Contest, contest_id)
    if contest is None or contest.status == ContestStatus.DRAFT:
        raise NotFound("no such contest", code="contest_not_found")
    day = now.date()
    used = await session.scalar(
        select(DailyVoteCount.votes).where(
            DailyVoteCount.contest_id == contest_id,
            DailyVoteCount.voter_id == voter_id,
            DailyVoteCount.vote_day == day,
        )
    )
    at_limit = (
        await session.scalars(
            select(DailySongVoteCount.song_id).where(
                DailySongVoteCount.contest_id == contest_id,
                DailySongVoteCount.voter_id == voter_id,
                DailySongVoteCount.vote_day == day,
                DailySongVoteCount.votes >= contest.votes_per_song_per_day,
            )
        )
    ).all()
    left = contest.votes_per_voter_per_day - (used or 0) if contest.voting_open(now) else 0
    return Remaining(
        day, max(0, left), contest.votes_per_voter_per_day, contest.votes_per_song_per_day, sorted(at_limit)
    )


async def retract_vote(session: AsyncSession, *, vote_id: int, voter_id: int, now: datetime) -> Vote:
    """Take a vote back within the contest's retraction window. The vote is kept, marked and no longer
    counted; it does not return to the day's quota (so vote/unvote churn cannot mint records)."""
    row = (
        await session.execute(
            select(Vote, Contest).join(Contest, Contest.id == Vote.contest_id).where(Vote.id == vote_id)
        )
    ).first()
    if row is None or row.Vote.voter_id != voter_id:
        raise NotFound("no such vote of yours", code="vote_not_found")
    vote, contest = row.Vote, row.Contest
    if vote.retracted_at is not None:
        raise Conflict("this vote was already retracted", code="already_retracted")
    if not contest.voting_open(now):
        raise Forbidden("voting is closed: votes can no longer be retracted", code="voting_closed")
    if now - vote.cast_at > timedelta(minutes=contest.retraction_minutes):
        raise Forbidden(
            f"votes can be retracted within {contest.retraction_minutes} minutes of casting",
            code="retraction_window_passed",
        )
    await session.execute(
        update(Vote).where(Vote.id == vote.id, Vote.retracted_at.is_(None)).values(retracted_at=now)
    )
    request_after_commit(session, recompute_job(contest.id))  # a counted vote may have left the board
    await session.commit()
    await session.refresh(vote)
    return cast(Vote, vote)


async def pending_count(session: AsyncSession, contest_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(Vote.contest_id == contest_id, Vote.status == VoteStatus.PENDING)
        )
        or 0
    )
