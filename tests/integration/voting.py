"""Set-up shared by the vote and scoring tests: an open contest with approved songs, voters, a poller."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Contest, ContestStatus, Song, SongStatus
from tests.integration.conftest import Api, create_account, unique_name

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
