"""Casting votes under the contest's rules, enforced atomically by the database; voters' own views."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, Forbidden, NotFound
from core.geo import GeoData
from core.jobs import Job, request_after_commit
from core.models import (
    Contest,
    ContestStatus,
    DailySongVoteCount,
    DailyVoteCount,
    Song,
    SongStatus,
    User,
    Vote,
    VoteStatus,
)
from core.services.leaderboard import recompute_job

SCORE_CONTEST_TASK = "ovation.fraud.score_contest"


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


def scoring_job(contest_id: int) -> Job:
    # One request per contest per second at most: the worker scores every pending vote of it in batches.
    return Job(
        SCORE_CONTEST_TASK,
        (contest_id,),
        countdown=1.0,
        debounce_key=f"score:{contest_id}",
        debounce_seconds=1.0,
    )


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


async def cast_vote(
    session: AsyncSession, *, contest_id: int, song_id: int, voter: User, context: VoteContext, now: datetime
) -> Vote:
    # Contest and song in one round trip: this is the hottest path of the platform.
    row = (await session.execute(_CONTEST_AND_SONG, {"contest_id": contest_id, "song_id": song_id})).first()
    if row is None or row.Contest.status == ContestStatus.DRAFT:
        raise NotFound("no such contest", code="contest_not_found")
    contest, song = row.Contest, row.Song
    if not contest.voting_open(now):
        raise Forbidden("voting is not open for this contest", code="voting_closed")
    if song is None:
        raise NotFound("no such song in this contest", code="song_not_found")
    if song.status != SongStatus.APPROVED:
        raise Conflict("this song is not open for votes", code="song_not_votable")
    _check_voter(contest, voter, context.geo, now)

    day = now.date()
    # Plain values: a rollback below expires the loaded rows.
    per_song, per_day = contest.votes_per_song_per_day, contest.votes_per_voter_per_day
    song_keys = {"contest_id": contest.id, "voter_id": voter.id, "song_id": song.id, "vote_day": day}
    if not await _take_one(session, SONG_COUNTS, song_keys, per_song):
        await session.rollback()
        raise Conflict(
            f"you already voted for this song today (limit {per_song} per day)",
            code="already_voted_today",
        )
    day_keys = {"contest_id": contest.id, "voter_id": voter.id, "vote_day": day}
    if not await _take_one(session, DAY_COUNTS, day_keys, per_day):
        await session.rollback()
        raise Conflict(
            f"you have used all {per_day} votes for today in this contest",
            code="daily_limit_reached",
        )

    geo = context.geo
    vote: Vote | None = await session.scalar(
        _INSERT_VOTE,
        dict(
            contest_id=contest.id,
            song_id=song.id,
            voter_id=voter.id,
            cast_at=now,
            vote_day=day,
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
            weight=1,
            status=VoteStatus.PENDING,
            reasons=[],
        ),
    )
    assert vote is not None
    request_after_commit(session, scoring_job(contest.id))
    await session.commit()  # expire_on_commit is off: the returned row needs no reload
    return vote


def _check_voter(contest: Contest, voter: User, geo: GeoData, now: datetime) -> None:
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


async def my_votes(
    session: AsyncSession, *, voter_id: int, contest_id: int | None, limit: int, offset: int
) -> Sequence[Vote]:
    query = select(Vote).where(Vote.voter_id == voter_id).order_by(Vote.cast_at.desc(), Vote.id.desc())
    if contest_id is not None:
        query = query.where(Vote.contest_id == contest_id)
    return (await session.scalars(query.limit(limit).offset(offset))).all()


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
