"""One way to write a vote: the :class:`VoteWriter` chosen once at startup.

On PostgreSQL the quotas and the insert are one call of ``ovation_record_vote()`` on a plain asyncpg pool; on
the embedded SQLite (or wherever no pool exists) the same steps run in one ORM transaction. Both check the
same rules (``core.votes.rules``) and return once the vote is committed, so the caller requests scoring the
same way for both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
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
from core.votes.facts import BALLOTS, RulesCache, rules_from_record
from core.votes.pg_function import (
    ACCOUNT_REFUSED,
    DAY_QUOTA_USED,
    RECORD_VOTES_CALL,
    RULES_CHANGED,
    SONG_QUOTA_USED,
    Checked,
    record_votes_values,
)
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


# --- PostgreSQL: the concurrent votes of the process, one call and one commit per batch ---------------------

# A voter who meets every account rule: the remembered rules are checked with it, and the function checks the
# real account (fresh, in the same statement as the write).
_ANY_VOTER = Voter(email_verified=True, created_at=datetime.min.replace(tzinfo=UTC))
# A vote the function sends back (rules changed meanwhile) is judged again from a fresh read; one that keeps
# meeting changes is given up after this many looks.
_LOOKS = 3

Outcome = RecordedVote | BaseException


class FunctionVoteWriter:
    """Votes that arrive together are judged and written together. The contest's rules and the songs'
    statuses come from the process's :class:`RulesCache`; one call of ``ovation_record_votes()`` (migration
    0011) then checks the accounts and that those rules are still current, takes the quotas and inserts every
    vote, as one statement and one commit. Votes the remembered rules would refuse, and votes the function
    sends back, are judged from a fresh read (``facts.BALLOTS``), so each refusal is the one the rules give
    for the database as it is. Each request is answered only after the commit that holds its vote."""

    def __init__(
        self, pool: asyncpg.Pool, *, max_batch: int = 64, max_wait: float = 0.001, max_in_flight: int = 2
    ) -> None:
        self._pool = pool
        self.rules = RulesCache()
        self.batcher: MicroBatcher[Ballot, RecordedVote] = MicroBatcher(
            self._write, max_size=max_batch, max_wait=max_wait, max_in_flight=max_in_flight
        )

    async def cast(self, ballot: Ballot) -> RecordedVote:
        return await self.batcher.submit(ballot)

    async def _write(self, ballots: list[Ballot]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        async with self._pool.acquire() as connection:
            await self.rules.load(connection, (ballot.contest_id for ballot in ballots))
            checked, unsure = self._check_remembered(ballots)
            for _ in range(_LOOKS):
                if unsure:  # judged from a fresh read; those that pass join the same call
                    checked.update(await self._check_fresh(connection, ballots, unsure, outcomes))
                    unsure = []
                for index, outcome in (await _record(connection, checked)).items():
                    if isinstance(outcome, _SentBack):
                        if outcome.rules_changed:
                            self.rules.forget(ballots[index].contest_id)
                        unsure.append(index)
                    else:
                        outcomes[index] = outcome
                checked = {}
                if not unsure:
                    break
        for index in unsure:  # rules or accounts changed under every look: rare enough to fail loudly
            outcomes[index] = RuntimeError("the contest kept changing while this vote was judged")
        return [outcomes[index] for index in range(len(ballots))]

    def _check_remembered(self, ballots: list[Ballot]) -> tuple[dict[int, Checked], list[int]]:
        checked: dict[int, Checked] = {}
        unsure: list[int] = []
        for index, ballot in enumerate(ballots):
            facts = self.rules.get(ballot.contest_id)
            song = facts.songs.get(ballot.song_id) if facts is not None else None
            if facts is None or song is None:
                unsure.append(index)
                continue
            try:
                check_ballot(facts.rules, song[0], _ANY_VOTER, ballot.context.geo, ballot.now)
            except DomainError:
                unsure.append(index)  # the refusal is given from a fresh read (an inactive account first)
                continue
            checked[index] = Checked(ballot, facts.rules, facts.version, song[1])
        return checked, unsure

    async def _check_fresh(
        self,
        connection: asyncpg.Connection,
        ballots: list[Ballot],
        indexes: list[int],
        outcomes: dict[int, Outcome],
    ) -> dict[int, Checked]:
        rows = await connection.fetch(
            BALLOTS,
            [ballots[index].voter_id for index in indexes],
            [ballots[index].contest_id for index in indexes],
            [ballots[index].song_id for index in indexes],
        )
        checked: dict[int, Checked] = {}
        for index, row in zip(indexes, rows, strict=True):
            ballot = ballots[index]
            try:
                if row["voter_id"] is None:
                    raise not_logged_in()
                rules = rules_from_record(row) if row["status"] is not None else None
                voter = Voter(row["email_verified"], row["created_at"])
                check_ballot(rules, row["song_status"], voter, ballot.context.geo, ballot.now)
            except DomainError as refused:
                outcomes[index] = refused
                continue
            assert rules is not None
            checked[index] = Checked(ballot, rules, row["contest_version"], row["song_version"])
            remembered = self.rules.get(ballot.contest_id)
            if remembered is None or (remembered.version, remembered.songs.get(ballot.song_id)) != (
                row["contest_version"],
                (row["song_status"], row["song_version"]),
            ):
                self.rules.forget(ballot.contest_id)  # out of date: the next batch reads it again
        return checked

    async def close(self) -> None:
        """Lets the batches in flight finish; the pool belongs to the app (core.db), which closes it."""
        await self.batcher.close()


class _SentBack:
    """The function wrote nothing for this vote: its account or its contest's rules need a fresh look."""

    def __init__(self, rules_changed: bool) -> None:
        self.rules_changed = rules_changed


_ACCOUNT_REFUSED = _SentBack(rules_changed=False)
_RULES_CHANGED = _SentBack(rules_changed=True)


async def _record(
    connection: asyncpg.Connection, votes: dict[int, Checked]
) -> dict[int, Outcome | _SentBack]:
    if not votes:
        return {}
    try:
        return await _record_together(connection, votes)
    except asyncpg.PostgresError:
        # Not a verdict on any one vote (a deadlock with another writer, a song deleted under the batch):
        # each vote is written alone, so only a vote that fails by itself fails.
        outcomes: dict[int, Outcome | _SentBack] = {}
        for index, vote in votes.items():
            try:
                outcomes.update(await _record_together(connection, {index: vote}))
            except asyncpg.PostgresError as failure:
                outcomes[index] = cast(BaseException, failure)
        return outcomes


async def _record_together(
    connection: asyncpg.Connection, votes: dict[int, Checked]
) -> dict[int, Outcome | _SentBack]:
    indexes = list(votes)
    rows = await connection.fetch(
        RECORD_VOTES_CALL, *record_votes_values([votes[index] for index in indexes])
    )
    outcomes: dict[int, Outcome | _SentBack] = {}
    for row in rows:
        index = indexes[row["ordinal"] - 1]
        vote, vote_id = votes[index], row["vote_id"]
        rules = vote.rules
        if vote_id == SONG_QUOTA_USED:
            outcomes[index] = song_quota_used(rules.votes_per_song_per_day)
        elif vote_id == DAY_QUOTA_USED:
            outcomes[index] = day_quota_used(rules.votes_per_voter_per_day)
        elif vote_id == ACCOUNT_REFUSED:
            outcomes[index] = _ACCOUNT_REFUSED
        elif vote_id == RULES_CHANGED:
            outcomes[index] = _RULES_CHANGED
        else:
            outcomes[index] = recorded(vote.ballot, vote_id, rules)
    return outcomes


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
