"""The recompute: a contest's boards ranked from its vote tallies, stored, cached and announced.

Counted votes are kept per (contest, song, country) in ``vote_tallies`` by triggers on ``votes`` (migration
0007), in the same transaction as every change to a vote. The recompute ranks from those few rows, in one
statement (RANK() OVER (PARTITION BY country ...)) that writes only the board rows that changed, then writes
the boards to the read cache. Reads never count votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db_dialect import is_postgresql, upsert
from core.errors import NotFound
from core.jobs import recompute_now_job, request_after_commit
from core.leaderboard.boards import digest, docs, stored_boards
from core.leaderboard.cache import BoardCache, Entry, safely
from core.leaderboard.counting import REPLACE_BOARD, SONG_NAMES_SQL, SYNC_BOARD_SQL
from core.leaderboard.snapshots import freeze_if_due, periodic_snapshot_if_due, refresh_frozen_cache
from core.models import GLOBAL_BOARD, Contest, LeaderboardEntry, LeaderboardState


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    contest_id: int
    version: int
    changed: bool
    songs: int
    froze: bool = False
    snapshot: bool = False


async def request_recompute(session: AsyncSession, contest_id: int) -> None:
    """An explicit request (admin): not debounced, so it is never dropped for one sent a moment earlier."""
    if await session.get(Contest, contest_id) is None:
        raise NotFound("no such contest", code="contest_not_found")
    request_after_commit(session, recompute_now_job(contest_id))
    await session.commit()


async def _lock_state(session: AsyncSession, contest_id: int, now: datetime) -> tuple[LeaderboardState, bool]:
    """The contest's state row, created if missing, locked until commit: concurrent recomputes of one contest
    take turns (their DELETE + INSERT would otherwise collide on the primary key)."""
    created = await session.execute(
        upsert(session, LeaderboardState)
        .values(contest_id=contest_id, version=0, digest="", computed_at=now, changed_at=now)
        .on_conflict_do_nothing(index_elements=["contest_id"])
        .returning(LeaderboardState.contest_id)
    )
    is_new = created.first() is not None
    state = await session.scalar(
        select(LeaderboardState)
        .where(LeaderboardState.contest_id == contest_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert state is not None
    return state, is_new


async def _sync_board(session: AsyncSession, contest_id: int, now: datetime) -> dict[str, list[Entry]]:
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    rows = await driver.fetch(SYNC_BOARD_SQL, contest_id, now)
    # Titles once per song, not once per song and country (~30x fewer strings to send and decode).
    names = {
        song_id: (title, artist) for song_id, title, artist in await driver.fetch(SONG_NAMES_SQL, contest_id)
    }
    boards: dict[str, list[Entry]] = {GLOBAL_BOARD: []}
    for country, song_id, rank, votes in rows:
        boards.setdefault(country, []).append((song_id, rank, votes, *names[song_id]))
    return boards


async def _replace_board(session: AsyncSession, contest_id: int, now: datetime) -> dict[str, list[Entry]]:
    """Embedded mode: small boards, plain replace."""
    await session.execute(delete(LeaderboardEntry).where(LeaderboardEntry.contest_id == contest_id))
    await session.execute(REPLACE_BOARD, {"contest_id": contest_id, "now": now})
    return await stored_boards(session, contest_id)


async def recompute(
    session: AsyncSession,
    cache: BoardCache,
    contest_id: int,
    *,
    now: datetime,
    publish: bool = True,
    snapshot_every: timedelta | None = None,
) -> RecomputeResult | None:
    """Rebuild the contest's boards from its vote tallies, then refresh the cache and tell live feeds.

    ``snapshot_every``: the history snapshot interval (default: the configured one)."""
    contest = await session.get(Contest, contest_id)
    if contest is None:
        return None
    state, is_new = await _lock_state(session, contest_id, now)
    # The board about to be replaced is the board as it was when the freeze began. A contest never computed
    # has none: its first board is saved as the freeze snapshot below, dated now.
    froze = not is_new and await freeze_if_due(session, contest, state.version, now)
    if is_postgresql(session):
        boards = await _sync_board(session, contest_id, now)
    else:
        boards = await _replace_board(session, contest_id, now)
    board_digest = digest(boards)
    changed = board_digest != state.digest
    if changed:
        state.version += 1
        state.digest = board_digest
        state.changed_at = now
    state.computed_at = now
    if is_new:
        froze = await freeze_if_due(session, contest, state.version, now, taken_at=now)
    snapshot = await periodic_snapshot_if_due(session, state, now, snapshot_every)
    version = state.version
    await session.commit()
    if froze:
        await refresh_frozen_cache(session, cache, contest_id)
    await safely("store the board", cache.store(contest_id, "live", version, docs(boards, version, now)))
    if publish and (changed or froze):
        await safely("publish a board change", cache.publish(contest_id, version))
    return RecomputeResult(
        contest_id, version, changed, len(boards[GLOBAL_BOARD]), froze=froze, snapshot=snapshot
    )
