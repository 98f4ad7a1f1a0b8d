"""The two vote writers: the PostgreSQL function's call matches the function installed by the migrations, and
the function and the ORM transaction record and refuse the same votes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import open_database
from core.errors import DomainError
from core.geo import GeoData
from core.models import Vote
from core.settings import Settings
from core.votes.ballot import Ballot, VoteContext
from core.votes.pg_function import RECORD_VOTE_ARGUMENTS
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
    installed = (
        (
            await db.execute(
                text(
                    "SELECT pg_get_function_arguments(oid) FROM pg_proc WHERE proname = 'ovation_record_vote'"
                )
            )
        )
        .scalars()
        .all()
    )
    assert installed == [", ".join(f"{name} {kind}" for name, kind in RECORD_VOTE_ARGUMENTS)]


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
