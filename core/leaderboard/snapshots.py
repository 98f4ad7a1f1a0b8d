"""Snapshots of the board: periodic ones (history charts) and the freeze snapshot the public reads during a
freeze. Both copy the stored board in one INSERT ... SELECT inside the transaction that holds the contest's
state row lock (the recompute, or the periodic check)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, insert, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.leaderboard.boards import ENTRY_RANK, boards_from, docs
from core.leaderboard.cache import BoardCache, BoardDoc, safely
from core.leaderboard.rules import BoardRules
from core.models import (
    GLOBAL_BOARD,
    Contest,
    LeaderboardEntry,
    LeaderboardSnapshot,
    LeaderboardSnapshotEntry,
    LeaderboardState,
)
from core.settings import get_settings


def snapshot_interval() -> timedelta:
    """The configured interval: ``OVATION_LEADERBOARD_SNAPSHOT_MINUTES`` (default 10; 0: at every change)."""
    return timedelta(minutes=get_settings().workers.leaderboard_snapshot_minutes)


async def freeze_snapshot(session: AsyncSession, contest_id: int) -> LeaderboardSnapshot | None:
    return await session.scalar(
        select(LeaderboardSnapshot)
        .where(LeaderboardSnapshot.contest_id == contest_id, LeaderboardSnapshot.reason == "freeze")
        .order_by(LeaderboardSnapshot.id.desc())
        .limit(1)
    )


async def _snapshot(
    session: AsyncSession,
    contest_id: int,
    *,
    reason: str,
    taken_at: datetime,
    version: int,
    all_countries: bool,
) -> int:
    snapshot_id = await session.scalar(
        insert(LeaderboardSnapshot)
        .values(contest_id=contest_id, taken_at=taken_at, reason=reason, version=version)
        .returning(LeaderboardSnapshot.id)
    )
    assert snapshot_id is not None
    source = select(
        literal_column(str(int(snapshot_id)), Integer()).label("snapshot_id"),
        LeaderboardEntry.country,
        LeaderboardEntry.song_id,
        ENTRY_RANK,
        LeaderboardEntry.votes,
    ).where(
        LeaderboardEntry.contest_id == contest_id,
        true() if all_countries else LeaderboardEntry.country == GLOBAL_BOARD,
    )
    await session.execute(
        insert(LeaderboardSnapshotEntry).from_select(
            ["snapshot_id", "country", "song_id", "rank", "votes"], source
        )
    )
    return int(snapshot_id)


async def freeze_if_due(
    session: AsyncSession, contest: Contest, version: int, now: datetime, *, taken_at: datetime | None = None
) -> bool:
    """Save the stored board as the freeze snapshot when the freeze is in force and none was saved yet.

    Called with the state row locked and before the board is replaced, the stored board is the board as it
    was when the freeze began, so it is dated at that moment unless ``taken_at`` says otherwise."""
    rules = BoardRules.of(contest)
    if not rules.frozen(now) or await freeze_snapshot(session, contest.id) is not None:
        return False
    await _snapshot(
        session,
        contest.id,
        reason="freeze",
        taken_at=taken_at or rules.freeze_at or now,
        version=version,
        all_countries=True,
    )
    return True


async def periodic_snapshot_if_due(
    session: AsyncSession, state: LeaderboardState, now: datetime, every: timedelta | None = None
) -> bool:
    """At most one snapshot per interval (``every``, default the configured one), and only of a board that
    changed since the last one."""
    if state.snapshot_version == state.version:
        return False
    if state.snapshot_at is not None and now - state.snapshot_at < (
        snapshot_interval() if every is None else every
    ):
        return False
    await _snapshot(
        session, state.contest_id, reason="periodic", taken_at=now, version=state.version, all_countries=False
    )
    state.snapshot_at = now
    state.snapshot_version = state.version
    return True


async def take_due_snapshots(
    session: AsyncSession, cache: BoardCache, contest_id: int, *, now: datetime
) -> None:
    """For the periodic check: a snapshot owed since the last recompute (votes stopped), and the freeze
    snapshot of a contest whose freeze began with no recompute since (its stored board is the frozen one)."""
    contest = await session.get(Contest, contest_id)
    state = await session.get(LeaderboardState, contest_id, with_for_update=True)
    if contest is None or state is None:
        await session.rollback()
        return
    froze = await freeze_if_due(session, contest, state.version, now)
    await periodic_snapshot_if_due(session, state, now)
    await session.commit()
    if froze:
        await refresh_frozen_cache(session, cache, contest_id)


async def frozen_docs(session: AsyncSession, contest_id: int) -> dict[str, BoardDoc] | None:
    """The freeze snapshot as board documents, or None when none was taken yet."""
    snapshot = await freeze_snapshot(session, contest_id)
    if snapshot is None:
        return None
    boards = await boards_from(
        session,
        LeaderboardSnapshotEntry,
        LeaderboardSnapshotEntry.rank,  # snapshots keep the rank they were taken with
        LeaderboardSnapshotEntry.snapshot_id == snapshot.id,
    )
    return docs(boards, snapshot.version, snapshot.taken_at)


async def refresh_frozen_cache(session: AsyncSession, cache: BoardCache, contest_id: int) -> None:
    found = await frozen_docs(session, contest_id)
    await session.rollback()
    if found is not None:
        version = found[GLOBAL_BOARD].version
        await safely("store the frozen board", cache.store(contest_id, "frozen", version, found))
