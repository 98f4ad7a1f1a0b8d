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

from core.batching import MicroBatcher
from core.db_dialect import upsert_for
from core.errors import DomainError
from core.models import Contest, DailySongVoteCount, DailyVoteCount, Song, Vote, VoteStatus
from core.services.users import get_active_user
from core.settings import DatabaseSettings
from core.votes.ballot import Ballot, RecordedVote, context_columns
from core.votes.pg_function import DAY_QUOTA_USED, RECORD_VOTES_CALL, SONG_QUOTA_USED, record_votes_values
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
    settings: DatabaseSettings, sessionmaker: async_sessionmaker[AsyncSession], raw_pool: asyncpg.Pool | None
) -> VoteWriter:
    """The PostgreSQL function where the plain pool exists (core.db creates it on PostgreSQL only)."""
    if raw_pool is not None:
        return FunctionVoteWriter(
            raw_pool,
            max_batch=settings.vote_batch_size,
            max_wait=settings.vote_batch_wait_ms / 1000,
            max_in_flight=settings.vote_batches_in_flight,
        )
    return OrmVoteWriter(sessionmaker)


def recorded(ballot: Ballot, vote_id: int, rules: VotingRules) -> RecordedVote:
    """The vote as written: pending, not retracted, cast at the ballot's moment."""
    vote = RecordedVote(vote_id, ballot.contest_id, ballot.song_id, ballot.now, ballot.now.date(), None)
    window = retractable_until(
        vote, retraction_minutes=rules.retraction_minutes, voting_closes_at=rules.voting_closes_at
    )
    return replace(vote, retractable_until=window)


# --- PostgreSQL: the concurrent votes of the process, two round trips and one commit per batch ------------

# Everything the rules need for each vote of a batch, in the batch's order; no voter columns means no such
# (active) account.
_BALLOTS = """
SELECT u.id AS voter_id, u.email_verified, u.created_at,
       c.status, c.voting_opens_at, c.voting_closes_at, c.votes_per_voter_per_day, c.votes_per_song_per_day,
       c.eligible_countries::text AS eligible_countries, c.allow_unknown_country, c.require_verified_email,
       c.min_account_age_hours, c.retraction_minutes, s.status AS song_status
FROM unnest($1::integer[], $2::integer[], $3::integer[])
     WITH ORDINALITY AS b(voter_id, contest_id, song_id, n)
LEFT JOIN users AS u ON u.id = b.voter_id AND u.status = 'active'
LEFT JOIN contests AS c ON c.id = b.contest_id
LEFT JOIN songs AS s ON s.id = b.song_id AND s.contest_id = c.id
ORDER BY b.n
"""


def rules_from_record(row: asyncpg.Record) -> VotingRules:
    values = {name: row[name] for name in RULE_NAMES}
    countries = values["eligible_countries"]  # JSON text: asyncpg returns json columns as text anyway
    values["eligible_countries"] = json.loads(countries) if countries is not None else None
    return VotingRules(**values)


def _check(ballot: Ballot, row: asyncpg.Record) -> VotingRules:
    if row["voter_id"] is None:
        raise not_logged_in()
    rules = rules_from_record(row) if row["status"] is not None else None
    voter = Voter(row["email_verified"], row["created_at"])
    check_ballot(rules, row["song_status"], voter, ballot.context.geo, ballot.now)
    assert rules is not None
    return rules


Outcome = RecordedVote | BaseException


class FunctionVoteWriter:
    """Votes that arrive together are judged and written together: one query reads what the rules need for
    the whole batch, then one call of ``ovation_record_votes()`` (migration 0010) takes the quotas and inserts
    every vote that passed, as one statement and one commit. Each vote keeps its own verdict: a refusal by
    the rules or by a quota reaches only the request that cast it, and a request is answered only after the
    commit that holds its vote."""

    def __init__(
        self, pool: asyncpg.Pool, *, max_batch: int = 64, max_wait: float = 0.001, max_in_flight: int = 2
    ) -> None:
        self._pool = pool
        self.batcher: MicroBatcher[Ballot, RecordedVote] = MicroBatcher(
            self._write, max_size=max_batch, max_wait=max_wait, max_in_flight=max_in_flight
        )

    async def cast(self, ballot: Ballot) -> RecordedVote:
        return await self.batcher.submit(ballot)

    async def _write(self, ballots: list[Ballot]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(ballots)
        passed: list[tuple[int, Ballot, VotingRules]] = []
        async with self._pool.acquire() as connection:
            facts = await connection.fetch(
                _BALLOTS,
                [ballot.voter_id for ballot in ballots],
                [ballot.contest_id for ballot in ballots],
                [ballot.song_id for ballot in ballots],
            )
            for index, (ballot, row) in enumerate(zip(ballots, facts, strict=True)):
                try:
                    passed.append((index, ballot, _check(ballot, row)))
                except DomainError as refused:
                    outcomes[index] = refused
            if passed:
                try:
                    written = await _record(connection, passed)
                except asyncpg.PostgresError:
                    # Not a verdict on any one vote (a deadlock with another writer, a song deleted under
                    # the batch): each vote is written alone, so only a vote that fails by itself fails.
                    written = [await _record_alone(connection, vote) for vote in passed]
                for (index, _, _), outcome in zip(passed, written, strict=True):
                    outcomes[index] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    async def close(self) -> None:
        """Lets the batches in flight finish; the pool belongs to the app (core.db), which closes it."""
        await self.batcher.close()


async def _record(
    connection: asyncpg.Connection, votes: list[tuple[int, Ballot, VotingRules]]
) -> list[Outcome]:
    rows = await connection.fetch(
        RECORD_VOTES_CALL, *record_votes_values([(ballot, rules) for _, ballot, rules in votes])
    )
    ids = {row["ordinal"]: row["vote_id"] for row in rows}
    outcomes: list[Outcome] = []
    for ordinal, (_, ballot, rules) in enumerate(votes, start=1):
        vote_id = ids[ordinal]
        if vote_id == SONG_QUOTA_USED:
            outcomes.append(song_quota_used(rules.votes_per_song_per_day))
        elif vote_id == DAY_QUOTA_USED:
            outcomes.append(day_quota_used(rules.votes_per_voter_per_day))
        else:
            outcomes.append(recorded(ballot, vote_id, rules))
    return outcomes


async def _record_alone(connection: asyncpg.Connection, vote: tuple[int, Ballot, VotingRules]) -> Outcome:
    try:
        return (await _record(connection, [vote]))[0]
    except asyncpg.PostgresError as failure:
        return cast(BaseException, failure)


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
