"""Set-up shared by the vote and scoring tests: an open contest with approved songs, voters, a poller."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Contest, ContestStatus, Song, SongStatus, Vote
from tests.support.api import Api, create_account, unique_name

T = TypeVar("T")


@dataclass
class OpenContest:
    id: int
    song_ids: list[int]


async def open_contest(db: AsyncSession, *, songs: int = 3, **rules: Any) -> OpenContest:
    """A contest whose voting is open now, with approved songs (the upload pipeline has its own tests)."""
    now = datetime.now(UTC)
    _, admin_id = await create_account(db, "admin")
    _, contestant_id = await create_account(db, "contestant")
    contest = Contest(
        slug=unique_name("vote-"),
        title="Voting test",
        status=ContestStatus.OPEN,
        submission_opens_at=now - timedelta(days=3),
        submission_closes_at=now - timedelta(days=1),
        voting_opens_at=now - timedelta(hours=1),
        voting_closes_at=now + timedelta(days=3),
        created_by_id=admin_id,
        **{"votes_per_voter_per_day": 5, "votes_per_song_per_day": 1, **rules},
    )
    db.add(contest)
    await db.flush()
    rows = [
        Song(
            contest_id=contest.id,
            contestant_id=contestant_id,
            title=f"Song {index}",
            artist_name="Tester",
            status=SongStatus.APPROVED,
        )
        for index in range(songs)
    ]
    db.add_all(rows)
    await db.commit()
    return OpenContest(contest.id, [row.id for row in rows])


async def vote(api: Api, contest_id: int, song_id: int, *, ip: str = "203.0.113.10", **body: Any) -> Any:
    headers = {
        "x-forwarded-for": ip,
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
        "accept-language": "sv-SE,sv;q=0.9",
    }
    return await api.post(
        f"/api/contests/{contest_id}/votes", json={"song_id": song_id, **body}, headers=headers
    )


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 30.0) -> T:
    """Poll until ``check`` returns something truthy; fail with a clear message if it never does."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.2)


@dataclass
class SeededRing:
    honest: list[int]  # account ids
    ring: list[int]
    songs: list[int]  # the ring's songs


def valid_vote(
    contest_id: int, song_id: int, voter_id: int, cast_at: datetime, ip: str, *, country: str | None = None
) -> Vote:
    """A vote already scored valid: counted, so the vote triggers add it to the tallies."""
    return Vote(
        contest_id=contest_id,
        song_id=song_id,
        voter_id=voter_id,
        cast_at=cast_at,
        vote_day=cast_at.date(),
        ip=ip,
        network_prefix=ip.rsplit(".", 1)[0] + ".0/24",
        country=country,
        status="valid",
        fraud_score=5,
        reasons=[],
        scored_at=datetime.now(UTC),
    )


async def seed_vote_ring(
    db: AsyncSession, contest: OpenContest, *, countries: Sequence[str | None] = (None,)
) -> SeededRing:
    """Already scored (valid) votes of a contest of 30 songs: 120 honest accounts voting for 1-3 songs by
    popularity over the last day from many addresses, and a ring of 15 accounts voting for the same 4 songs
    within 40 minutes five hours ago. What the coordinated-group detector must find, and nothing else."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    honest = [(await create_account(db))[1] for _ in range(120)]
    ring = [(await create_account(db))[1] for _ in range(15)]
    ring_songs = contest.song_ids[20:24]
    popularity = [1 / (rank + 1) for rank in range(len(contest.song_ids))]

    def row(voter_id: int, song_id: int, cast_at: datetime, ip: str) -> Vote:
        return valid_vote(contest.id, song_id, voter_id, cast_at, ip, country=rng.choice(countries))

    for index, voter_id in enumerate(honest):
        for song_id in set(rng.choices(contest.song_ids, popularity, k=rng.randint(1, 3))):
            minutes = rng.randint(1, 1400)
            db.add(row(voter_id, song_id, now - timedelta(minutes=minutes), f"203.0.113.{index % 250 + 1}"))
    start = now - timedelta(hours=5)
    for index, voter_id in enumerate(ring):
        for song_id in ring_songs:
            at = start + timedelta(minutes=rng.randint(0, 40))
            db.add(row(voter_id, song_id, at, f"192.0.2.{index + 1}"))
    await db.commit()
    return SeededRing(honest, ring, ring_songs)
