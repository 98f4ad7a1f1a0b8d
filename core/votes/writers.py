"""One way to write a vote: the :class:`VoteWriter` chosen once at startup.

On PostgreSQL the quotas and the insert are one call of ``ovation_record_vote()`` on a plain asyncpg pool; on
the embedded SQLite (or wherever no pool exists) the same steps run in one ORM transaction. Both check the
same rules (``core.votes.rules``) and return once the vote is committed, so the caller requests scoring the
same way for both.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db_dialect import upsert_for
from core.models import Contest, DailySongVoteCount, DailyVoteCount, Song, Vote, VoteStatus
from core.services.users import get_active_user
from core.votes.ballot import Ballot, RecordedVote, context_columns
from core.votes.pg_function import RECORD_VOTE_CALL, record_vote_values
from core.votes.rules import (
    RULE_NAMES,
    Voter,
    VotingRules,
    check_ballot,
    day_quota_used,
    not_logged_in,
    retractable_until,
    song_quota_used,
)


class VoteWriter(Protocol):
    async def cast(self, ballot: Ballot) -> RecordedVote:
        """Check the rules, take the quotas and insert the vote, committed when this returns; a refusal
        raises the domain error that names it."""
        ...

    async def close(self) -> None: ...


def open_vote_writer(
    sessionmaker: async_sessionmaker[AsyncSession], raw_pool: asyncpg.Pool | None
) -> VoteWriter:
    """The PostgreSQL function where the plain pool exists (core.db creates it on PostgreSQL only)."""
    if raw_pool is not None:
        return FunctionVoteWriter(raw_pool)
    return OrmVoteWriter(sessionmaker)


def recorded(ballot: Ballot, vote_id: int, rules: VotingRules) -> RecordedVote:
    """The vote as written: pending, not retracted, cast at the ballot's moment."""
    vote = RecordedVote(vote_id, ballot.contest_id, ballot.song_id, ballot.now, ballot.now.date(), None)
    window = retractable_until(
        vote, retraction_minutes=rules.retraction_minutes, voting_closes_at=rules.voting_closes_at
    )
    return replace(vote, retractable_until=window)


# --- PostgreSQL: two round trips on a plain asyncpg connection ------------------------------------------

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


def rules_from_record(row: asyncpg.Record) -> VotingRules:
    values = {name: row[name] for name in RULE_NAMES}
    countries = values["eligible_countries"]  # JSON text: asyncpg returns json columns as text anyway
    values["eligible_countries"] = json.loads(countries) if countries is not None else None
    return VotingRules(**values)


class FunctionVoteWriter:
    """Read what the rules need, then take both quotas and insert the vote in one function call (migration
    0008), all or nothing: a used-up daily quota raises inside it and undoes the per-song count."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def cast(self, ballot: Ballot) -> RecordedVote:
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(_BALLOT, ballot.voter_id, ballot.contest_id, ballot.song_id)
            if row is None:
                raise not_logged_in()
            rules = rules_from_record(row) if row["status"] is not None else None
            voter = Voter(row["email_verified"], row["created_at"])
            check_ballot(rules, row["song_status"], voter, ballot.context.geo, ballot.now)
            assert rules is not None
            values = record_vote_values(
                ballot, per_song=rules.votes_per_song_per_day, per_day=rules.votes_per_voter_per_day
            )
            try:
                vote_id = await connection.fetchval(RECORD_VOTE_CALL, *values)
            except asyncpg.RaiseError as error:
                if error.message == "daily_limit_reached":
                    raise day_quota_used(rules.votes_per_voter_per_day) from None
                raise
        if vote_id < 0:
            raise song_quota_used(rules.votes_per_song_per_day)
        return recorded(ballot, vote_id, rules)

    async def close(self) -> None:
        """The pool belongs to the app (core.db), which closes it."""


# --- the portable path: one ORM transaction --------------------------------------------------------------

SONG_COUNTS = cast(Table, DailySongVoteCount.__table__)
DAY_COUNTS = cast(Table, DailyVoteCount.__table__)


@cache
def _take_one_statement(dialect: str, table: Table) -> Any:
    """``INSERT 1`` or ``+ 1`` while below ``:limit``, built once per dialect and table: building the
    statement anew for every vote cost more CPU than running it."""
    keys = [column.name for column in table.primary_key.columns]
    return (
        upsert_for(dialect, table)
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


_INSERT_VOTE = insert(Vote).returning(Vote.id)
_CONTEST_AND_SONG = (
    select(Contest, Song.status.label("song_status"))
    .outerjoin(Song, (Song.id == bindparam("song_id")) & (Song.contest_id == Contest.id))
    .where(Contest.id == bindparam("contest_id"))
)


class OrmVoteWriter:
    """Rules, quotas and the vote in one ORM transaction (the embedded SQLite mode)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def cast(self, ballot: Ballot) -> RecordedVote:
        async with self._sessionmaker() as session:
            return await self._cast(session, ballot)

    async def _cast(self, session: AsyncSession, ballot: Ballot) -> RecordedVote:
        voter = await get_active_user(session, ballot.voter_id)
        if voter is None:
            raise not_logged_in()
        keys = {"contest_id": ballot.contest_id, "song_id": ballot.song_id}
        row = (await session.execute(_CONTEST_AND_SONG, keys)).first()
        contest = row.Contest if row is not None else None
        rules = VotingRules(**{name: getattr(contest, name) for name in RULE_NAMES}) if contest else None
        song_status = row.song_status if row is not None else None
        check_ballot(
            rules, song_status, Voter(voter.email_verified, voter.created_at), ballot.context.geo, ballot.now
        )
        assert rules is not None
        day = ballot.now.date()
        song_keys = {**keys, "voter_id": ballot.voter_id, "vote_day": day}
        if not await _take_one(session, SONG_COUNTS, song_keys, rules.votes_per_song_per_day):
            await session.rollback()
            raise song_quota_used(rules.votes_per_song_per_day)
        day_keys = {"contest_id": ballot.contest_id, "voter_id": ballot.voter_id, "vote_day": day}
        if not await _take_one(session, DAY_COUNTS, day_keys, rules.votes_per_voter_per_day):
            await session.rollback()
            raise day_quota_used(rules.votes_per_voter_per_day)
        vote_id = await session.scalar(
            _INSERT_VOTE,
            dict(
                **keys,
                voter_id=ballot.voter_id,
                cast_at=ballot.now,
                vote_day=day,
                **context_columns(ballot.context),
                weight=1,
                status=VoteStatus.PENDING,
                reasons=[],
            ),
        )
        assert vote_id is not None
        await session.commit()
        return recorded(ballot, vote_id, rules)

    async def close(self) -> None:
        """Sessions are per call; the engine belongs to the app."""
