"""The two vote writers: the PostgreSQL function's call matches the function installed by the migrations, and
the function and the ORM transaction record and refuse the same votes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import open_database
from core.errors import DomainError
from core.geo import GeoData
from core.models import Vote
from core.settings import Settings
from core.votes.ballot import Ballot, RecordedVote, VoteContext
from core.votes.pg_function import RECORD_VOTES_ARGUMENTS
from core.votes.writers import FunctionVoteWriter, OrmVoteWriter, VoteWriter
from tests.support.api import create_account
from tests.support.environment import BACKENDS
from tests.support.voting import open_contest

CONTEXT = VoteContext(
    ip="198.51.100.7",
    network_prefix="198.51.100.0/24",
    user_agent="Mozilla/5.0 Firefox/132.0",
    fingerprint="abcdefgh12345678",
    device_cookie_id="device-1",
    accept_language="sv-SE",
    client_timezone="Europe/Stockholm",
    geo=GeoData("SE", "Stockholm", "Stockholm", 59.3, 18.1, 64512, "Example AS"),
)


def _needs_postgresql() -> None:
    if not BACKENDS.production:
        pytest.skip("PostgreSQL unreachable (in CI the suite refuses to start without it)")


async def test_the_call_matches_the_function_the_migration_installs(db: AsyncSession) -> None:
    _needs_postgresql()
    query = text(
        "SELECT proname, pg_get_function_arguments(oid) FROM pg_proc"
        " WHERE proname IN ('ovation_record_vote', 'ovation_record_votes')"
    )
    installed = [tuple(row) for row in (await db.execute(query)).all()]
    # Only the batch function: the single-vote one (migration 0008) was replaced by migration 0011.
    arguments = ", ".join(f"{name} {kind}" for name, kind, _ in RECORD_VOTES_ARGUMENTS)
    assert installed == [("ovation_record_votes", arguments)]


async def _cast_each(writer: VoteWriter, ballots: list[Ballot]) -> list[int | str]:
    outcomes: list[int | str] = []
    for ballot in ballots:
        try:
            outcomes.append((await writer.cast(ballot)).id)
        except DomainError as refused:
            outcomes.append(refused.code)
    return outcomes


RECORDED = (
    "song_id",
    "vote_day",
    "ip",
    "network_prefix",
    "user_agent",
    "device_fingerprint",
    "device_cookie_id",
    "accept_language",
    "client_timezone",
    "country",
    "region",
    "city",
    "latitude",
    "longitude",
    "asn",
    "as_org",
    "weight",
    "status",
    "reasons",
    "retracted_at",
)


async def test_both_writers_record_and_refuse_alike(db: AsyncSession, settings: Settings) -> None:
    _needs_postgresql()
    database = await open_database(settings.database)
    assert database.raw_pool is not None
    writers: dict[str, VoteWriter] = {
        "function": FunctionVoteWriter(database.raw_pool),
        "orm": OrmVoteWriter(database.sessionmaker),
    }
    try:
        seen: dict[str, tuple[list[int | str], list[tuple[object, ...]]]] = {}
        for name, writer in writers.items():
            contest = await open_contest(db, songs=3, votes_per_voter_per_day=2, votes_per_song_per_day=1)
            _, voter_id = await create_account(db)
            now = datetime.now(UTC)
            first, second, third = contest.song_ids
            ballots = [
                Ballot(contest.id, song, voter_id, CONTEXT, now) for song in (first, first, second, third)
            ]
            ballots.append(Ballot(contest.id, 10**9, voter_id, CONTEXT, now))
            outcomes = await _cast_each(writer, ballots)
            rows = (
                (await db.execute(select(Vote).where(Vote.contest_id == contest.id).order_by(Vote.id)))
                .scalars()
                .all()
            )
            positions = {song: index for index, song in enumerate(contest.song_ids)}
            seen[name] = (
                [outcome if isinstance(outcome, str) else "vote" for outcome in outcomes],
                [
                    tuple(
                        positions.get(row.song_id) if column == "song_id" else getattr(row, column)
                        for column in RECORDED
                    )
                    for row in rows
                ],
            )
            assert [row.id for row in rows] == [outcome for outcome in outcomes if isinstance(outcome, int)]
        assert seen["function"][0] == [
            "vote",
            "already_voted_today",
            "vote",
            "daily_limit_reached",
            "song_not_found",
        ]
        assert seen["function"] == seen["orm"]
    finally:
        await database.close()


async def test_a_batch_gives_each_vote_its_own_verdict(db: AsyncSession, settings: Settings) -> None:
    # Concurrent votes of one process go to PostgreSQL together; a quota reached by one of them refuses that
    # vote alone, and every vote answered as written is in the database.
    _needs_postgresql()
    database = await open_database(settings.database)
    assert database.raw_pool is not None
    writer = FunctionVoteWriter(database.raw_pool, max_batch=64, max_wait=0.005, max_in_flight=1)
    try:
        contest = await open_contest(db, songs=6, votes_per_voter_per_day=3, votes_per_song_per_day=1)
        _, greedy = await create_account(db)
        _, modest = await create_account(db)
        now = datetime.now(UTC)
        ballots = [Ballot(contest.id, song, greedy, CONTEXT, now) for song in contest.song_ids]
        ballots += [Ballot(contest.id, contest.song_ids[0], modest, CONTEXT, now)] * 3
        ballots.append(Ballot(contest.id, 10**9, modest, CONTEXT, now))
        outcomes = await asyncio.gather(*(writer.cast(ballot) for ballot in ballots), return_exceptions=True)
        assert writer.batcher.batches < len(ballots)  # they shared round trips
        codes = [getattr(outcome, "code", "vote") for outcome in outcomes]
        assert sorted(codes[:6]) == ["daily_limit_reached"] * 3 + ["vote"] * 3
        assert sorted(codes[6:9]) == ["already_voted_today"] * 2 + ["vote"]
        assert codes[9] == "song_not_found"
        written = [outcome for outcome in outcomes if isinstance(outcome, RecordedVote)]
        stored = (
            await db.execute(
                select(Vote.id, Vote.voter_id, Vote.song_id).where(Vote.contest_id == contest.id)
            )
        ).all()
        assert sorted(stored) == sorted(
            (vote.id, ballots[outcomes.index(vote)].voter_id, vote.song_id) for vote in written
        )
        counters = await db.execute(
            text("SELECT voter_id, votes FROM daily_vote_counts WHERE contest_id = :c ORDER BY voter_id"),
            {"c": contest.id},
        )
        assert sorted(counters.all()) == sorted([(greedy, 3), (modest, 1)])
    finally:
        await writer.close()
        await database.close()


async def test_two_processes_writing_the_same_voters_admit_exactly_the_quota(
    db: AsyncSession, settings: Settings
) -> None:
    # Two API processes batch votes of the same voters in different orders: the function takes the counter
    # rows in one order, so neither deadlocks and the quotas hold exactly.
    _needs_postgresql()
    databases = [await open_database(settings.database) for _ in range(2)]
    writers = [FunctionVoteWriter(d.raw_pool, max_wait=0.002) for d in databases if d.raw_pool is not None]
    assert len(writers) == 2
    try:
        contest = await open_contest(db, songs=8, votes_per_voter_per_day=5, votes_per_song_per_day=1)
        voters = [(await create_account(db))[1] for _ in range(6)]
        now = datetime.now(UTC)
        pairs = [(voter, song) for voter in voters for song in contest.song_ids]
        jobs = []
        for n, (voter, song) in enumerate(pairs * 2):  # every legal vote twice, once through each process
            writer = writers[n % 2] if n < len(pairs) else writers[(n + 1) % 2]
            jobs.append(writer.cast(Ballot(contest.id, song, voter, CONTEXT, now)))
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        assert not [
            outcome
            for outcome in outcomes
            if isinstance(outcome, Exception) and not isinstance(outcome, DomainError)
        ]
        per_voter = (
            await db.execute(
                select(Vote.voter_id, func.count())
                .where(Vote.contest_id == contest.id)
                .group_by(Vote.voter_id)
            )
        ).all()
        assert sorted(per_voter) == [(voter, 5) for voter in sorted(voters)]
        created = [outcome for outcome in outcomes if isinstance(outcome, RecordedVote)]
        assert len(created) == 30
    finally:
        for writer in writers:
            await writer.close()
        for database in databases:
            await database.close()


async def test_remembered_rules_meet_every_change_made_behind_their_back(
    db: AsyncSession, settings: Settings
) -> None:
    # The writer remembers contests' rules and songs' statuses; a change made anywhere (here a plain UPDATE,
    # as another process would make it) refuses the next vote as the rules say, and a song approved after
    # the rules were read takes votes at once.
    _needs_postgresql()
    database = await open_database(settings.database)
    assert database.raw_pool is not None
    writer = FunctionVoteWriter(database.raw_pool, max_wait=0.0)
    try:
        contest = await open_contest(db, songs=3, votes_per_voter_per_day=10, votes_per_song_per_day=1)
        first, second, third = contest.song_ids
        voters = [(await create_account(db))[1] for _ in range(6)]

        async def outcome(voter: int, song: int) -> str:
            try:
                await writer.cast(Ballot(contest.id, song, voter, CONTEXT, datetime.now(UTC)))
            except DomainError as refused:
                return refused.code
            return "vote"

        assert await outcome(voters[0], first) == "vote"  # the contest is remembered from here on
        remembered = writer.rules.get(contest.id)
        assert remembered is not None
        # Votes taking votes and locks on the contest and song rows leave their versions as they were.
        assert await outcome(voters[5], second) == "vote"
        assert writer.rules.get(contest.id) is remembered
        await db.execute(text("UPDATE songs SET status = 'withdrawn' WHERE id = :id"), {"id": first})
        await db.commit()
        assert await outcome(voters[1], first) == "song_not_votable"
        await db.execute(text("UPDATE songs SET status = 'pending_review' WHERE id = :id"), {"id": third})
        await db.commit()
        assert await outcome(voters[1], third) == "song_not_votable"
        await db.execute(text("UPDATE songs SET status = 'approved' WHERE id = :id"), {"id": third})
        await db.commit()
        assert await outcome(voters[1], third) == "vote"
        # The account is read with the write: a ban or a missing verification applies to the next vote.
        await db.execute(text("UPDATE users SET status = 'banned' WHERE id = :id"), {"id": voters[2]})
        await db.execute(
            text("UPDATE contests SET require_verified_email = true WHERE id = :id"), {"id": contest.id}
        )
        await db.execute(text("UPDATE users SET email_verified = false WHERE id = :id"), {"id": voters[3]})
        await db.commit()
        assert await outcome(voters[2], second) == "not_authenticated"
        assert await outcome(voters[3], second) == "email_not_verified"
        assert await outcome(voters[4], second) == "vote"
        await db.execute(text("UPDATE contests SET status = 'closed' WHERE id = :id"), {"id": contest.id})
        await db.commit()
        assert await outcome(voters[5], second) == "voting_closed"
    finally:
        await writer.close()
        await database.close()
