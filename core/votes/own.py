"""A voter's own votes: the list with each vote's retraction window, what is left today, taking one back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.jobs import recompute_job, request_after_commit
from core.models import Contest, ContestStatus, DailySongVoteCount, DailyVoteCount, Vote
from core.votes.rules import check_retraction, retractable_until


@dataclass(frozen=True, slots=True)
class OwnVote:
    """A vote as its voter sees it: with the moment it can no longer be taken back (None: it cannot be)."""

    vote: Vote
    retractable_until: datetime | None


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
    check_retraction(
        retracted_at=vote.retracted_at,
        cast_at=vote.cast_at,
        voting_open=contest.voting_open(now),
        retraction_minutes=contest.retraction_minutes,
        now=now,
    )
    await session.execute(
        update(Vote).where(Vote.id == vote.id, Vote.retracted_at.is_(None)).values(retracted_at=now)
    )
    request_after_commit(session, recompute_job(contest.id))  # a counted vote may have left the board
    await session.commit()
    await session.refresh(vote)
    return cast(Vote, vote)
