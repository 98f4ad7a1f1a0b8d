"""The periodic integrity check: every active board counted again from the votes, compared with the vote
tallies, the stored and the cached boards; what differs is repaired, logged, recorded in
``leaderboard_repairs`` and counted in /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db_dialect import upsert
from core.leaderboard.boards import ENTRY_RANK, Row, live_docs_from_db
from core.leaderboard.cache import BoardCache, BoardDoc, safely
from core.leaderboard.compute import recompute
from core.leaderboard.counting import SCRATCH_BOARD, TALLY_ERRORS
from core.leaderboard.snapshots import take_due_snapshots
from core.models import (
    GLOBAL_BOARD,
    Contest,
    ContestStatus,
    LeaderboardEntry,
    LeaderboardRepair,
    LeaderboardState,
    VoteTally,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Finding:
    contest_id: int
    source: str  # "database", "cache" or "tallies"
    version: int
    differences: int
    sample: list[list[Any]]


async def _stored(session: AsyncSession, contest_id: int) -> set[Row]:
    rows = await session.execute(
        select(LeaderboardEntry.country, LeaderboardEntry.song_id, ENTRY_RANK, LeaderboardEntry.votes).where(
            LeaderboardEntry.contest_id == contest_id
        )
    )
    return {tuple(row) for row in rows}  # type: ignore[misc]


def _cached_rows(docs: dict[str, BoardDoc]) -> set[Row]:
    return {(country, e[0], e[1], e[2]) for country, doc in docs.items() for e in doc.entries}


async def _inspect(session: AsyncSession, cache: BoardCache, contest_id: int) -> list[Finding]:
    state = await session.get(LeaderboardState, contest_id, populate_existing=True)
    if state is None:
        return []
    fresh = {tuple(row) for row in await session.execute(SCRATCH_BOARD, {"contest_id": contest_id})}
    stored = await _stored(session, contest_id)
    version = state.version
    await session.rollback()
    findings: list[Finding] = []
    if fresh != stored:
        diff = sorted(fresh ^ stored)
        findings.append(Finding(contest_id, "database", version, len(diff), [list(d) for d in diff[:10]]))
    elif cache.enabled:
        docs = await cache.read_all(contest_id, "live")
        # Nothing cached is no fault (evicted, Redis restarted): readers fill it from the database.
        if docs is not None:
            cached = _cached_rows(docs)
            versions = {doc.version for doc in docs.values()}
            if cached != stored or versions != {version}:
                diff = sorted(cached ^ stored)
                findings.append(
                    Finding(contest_id, "cache", version, len(diff), [list(d) for d in diff[:10]])
                )
    return findings


async def contests_to_verify(session: AsyncSession, *, now: datetime) -> list[int]:
    """Open contests, and contests whose voting ended in the last week (moderators still decide on votes)."""
    recent = now - timedelta(days=7)
    rows = await session.scalars(
        select(Contest.id).where(
            Contest.status != ContestStatus.DRAFT,
            (Contest.status == ContestStatus.OPEN) | (Contest.voting_closes_at >= recent),
        )
    )
    return list(rows)


async def _repair_tallies(
    session: AsyncSession, cache: BoardCache, contest_id: int, *, now: datetime
) -> Finding | None:
    """Count the contest's votes again and correct its tallies where they differ; record the repair.

    The difference is measured in one statement (one snapshot, where every committed vote change came with
    its tally change) and applied as increments, so votes decided meanwhile keep their own. The state row's
    lock keeps two checks of one contest from applying the same correction twice."""
    state = await session.scalar(
        select(LeaderboardState)
        .where(LeaderboardState.contest_id == contest_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if state is None:
        await session.rollback()
        return None
    errors = (await session.execute(TALLY_ERRORS, {"contest_id": contest_id})).all()
    if not errors:
        await session.rollback()
        return None
    for start in range(0, len(errors), 5000):  # bound parameters per statement
        statement = upsert(session, VoteTally).values(
            [
                {
                    "contest_id": contest_id,
                    "song_id": song,
                    "country": country,
                    "votes": votes,
                    "ballots": ballots,
                }
                for song, country, votes, ballots in errors[start : start + 5000]
            ]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[VoteTally.contest_id, VoteTally.song_id, VoteTally.country],
                set_={
                    "votes": VoteTally.votes + statement.excluded.votes,
                    "ballots": VoteTally.ballots + statement.excluded.ballots,
                },
            )
        )
    sample = [[song, country, int(votes), int(ballots)] for song, country, votes, ballots in errors[:10]]
    finding = Finding(contest_id, "tallies", state.version, len(errors), sample)
    log.error(
        "vote tallies of contest %s differ from a fresh count of its votes (%d rows, e.g. %s as "
        "[song, country, missing votes, missing ballots]); repairing",
        contest_id,
        len(errors),
        sample[:3],
    )
    session.add(
        LeaderboardRepair(
            contest_id=contest_id,
            found_at=now,
            source="tallies",
            details={"version": state.version, "differences": len(errors), "sample": sample},
        )
    )
    await session.commit()
    await safely("count a repair", cache.count_repair("tallies"))
    return finding


async def verify(
    session: AsyncSession,
    cache: BoardCache,
    contest_ids: Sequence[int],
    *,
    now: datetime,
    settle_seconds: float = 2.0,
) -> list[Finding]:
    """Count every board again from the votes and compare with the vote tallies, the stored and the cached
    boards; repair and record what differs.

    The tallies change in the same transaction as the votes, so any difference there is a fault. The boards
    follow the votes up to a second later (the recompute), so a board is only called wrong when it still
    differs ``settle_seconds`` later and no recompute ran meanwhile. Contests never computed are computed
    (not a fault), and snapshots owed are taken."""
    suspects: dict[int, Finding] = {}
    repaired: list[Finding] = []
    for contest_id in contest_ids:
        computed = await session.get(LeaderboardState, contest_id) is not None
        await session.rollback()
        if not computed:
            await recompute(session, cache, contest_id, now=now)
        tallies = await _repair_tallies(session, cache, contest_id, now=now)
        if tallies is not None:
            repaired.append(tallies)
            await recompute(session, cache, contest_id, now=now)  # the board was counted from them
        if not computed:
            continue
        for finding in await _inspect(session, cache, contest_id):
            suspects[contest_id] = finding
        await take_due_snapshots(session, cache, contest_id, now=now)
    if not suspects:
        return repaired
    await asyncio.sleep(settle_seconds)
    confirmed: list[Finding] = []
    for contest_id, first in suspects.items():
        for finding in await _inspect(session, cache, contest_id):
            if finding.version == first.version and finding.source == first.source:
                confirmed.append(finding)
    for finding in confirmed:
        log.error(
            "leaderboard of contest %s: %s board differs from a fresh count (%d rows, e.g. %s); repairing",
            finding.contest_id,
            finding.source,
            finding.differences,
            finding.sample[:3],
        )
        session.add(
            LeaderboardRepair(
                contest_id=finding.contest_id,
                found_at=now,
                source=finding.source,
                details={
                    "version": finding.version,
                    "differences": finding.differences,
                    "sample": finding.sample,
                },
            )
        )
        await session.commit()
        await safely("count a repair", cache.count_repair(finding.source))
        if finding.source == "database":
            await recompute(session, cache, finding.contest_id, now=now)
        else:
            docs = await live_docs_from_db(session, finding.contest_id)
            await session.rollback()
            if docs is not None:
                version = docs[GLOBAL_BOARD].version
                # Dropped first: a damaged entry may claim a newer version than the database's.
                await safely("drop the damaged cache", cache.drop(finding.contest_id, "live"))
                await safely("repair the cache", cache.store(finding.contest_id, "live", version, docs))
    return repaired + confirmed


async def repairs(session: AsyncSession, contest_id: int) -> Sequence[LeaderboardRepair]:
    return (
        await session.scalars(
            select(LeaderboardRepair)
            .where(LeaderboardRepair.contest_id == contest_id)
            .order_by(LeaderboardRepair.id)
        )
    ).all()
