"""Reports on a contest's board: its history (snapshots of the global board) and the results export, counted
from the votes now, per status, for moderators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.leaderboard.counting import COUNTED_VOTE
from core.models import (
    GLOBAL_BOARD,
    Contest,
    LeaderboardSnapshot,
    LeaderboardSnapshotEntry,
    Song,
    SongStatus,
    Vote,
    VoteStatus,
)


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    taken_at: datetime
    reason: str
    entries: list[tuple[int, int, int]]  # song_id, rank, votes


async def history(
    session: AsyncSession,
    contest_id: int,
    *,
    song_id: int | None,
    until: datetime | None,
    limit: int,
    top: int,
) -> list[HistoryPoint]:
    """Snapshots of the global board, oldest first (the latest ``limit``); ``until`` hides later ones from
    the public during a freeze. With ``song_id``, that song's rank and votes; otherwise the top ``top``."""
    snapshots = select(
        LeaderboardSnapshot.id, LeaderboardSnapshot.taken_at, LeaderboardSnapshot.reason
    ).where(LeaderboardSnapshot.contest_id == contest_id)
    if until is not None:
        snapshots = snapshots.where(LeaderboardSnapshot.taken_at <= until)
    latest = (
        await session.execute(
            snapshots.order_by(LeaderboardSnapshot.taken_at.desc(), LeaderboardSnapshot.id.desc()).limit(
                limit
            )
        )
    ).all()
    if song_id is not None:
        song = await session.get(Song, song_id)
        if song is None or song.contest_id != contest_id:
            raise NotFound("no such song in this contest", code="song_not_found")
    if not latest:
        return []
    ids = [row.id for row in latest]
    query = select(
        LeaderboardSnapshotEntry.snapshot_id,
        LeaderboardSnapshotEntry.song_id,
        LeaderboardSnapshotEntry.rank,
        LeaderboardSnapshotEntry.votes,
    ).where(LeaderboardSnapshotEntry.snapshot_id.in_(ids), LeaderboardSnapshotEntry.country == GLOBAL_BOARD)
    query = (
        query.where(LeaderboardSnapshotEntry.song_id == song_id)
        if song_id is not None
        else query.where(LeaderboardSnapshotEntry.rank <= top)
    )
    entries: dict[int, list[tuple[int, int, int]]] = {}
    for snapshot_id, entry_song, rank, votes in await session.execute(
        query.order_by(LeaderboardSnapshotEntry.rank, LeaderboardSnapshotEntry.song_id)
    ):
        entries.setdefault(snapshot_id, []).append((entry_song, rank, votes))
    return [HistoryPoint(row.taken_at, row.reason, entries.get(row.id, [])) for row in reversed(latest)]


@dataclass(frozen=True, slots=True)
class ResultRow:
    song_id: int
    title: str
    artist_name: str
    song_status: str
    rank: int | None  # None: the song is not (or no longer) approved, so it is not ranked
    votes: int  # weighted total of counted (valid + cleared, not retracted) votes
    valid: int
    cleared: int
    pending: int
    suspicious: int
    rejected: int
    retracted: int  # taken back by the voter, whatever their status; not in the other counts


RESULT_FIELDS = tuple(ResultRow.__dataclass_fields__)


async def results(session: AsyncSession, contest_id: int) -> list[ResultRow]:
    """Per song, counted from the votes now (not from the stored board): for moderators' exports."""
    if await session.get(Contest, contest_id) is None:
        raise NotFound("no such contest", code="contest_not_found")
    live = Vote.retracted_at.is_(None)

    def count(status: VoteStatus) -> Any:
        return func.coalesce(func.sum(case((live & (Vote.status == status.value), 1), else_=0)), 0)

    votes = func.coalesce(func.sum(case((COUNTED_VOTE, Vote.weight), else_=0)), 0).label("votes")
    rows = await session.execute(
        select(
            Song.id,
            Song.title,
            Song.artist_name,
            Song.status,
            votes,
            count(VoteStatus.VALID),
            count(VoteStatus.CLEARED),
            count(VoteStatus.PENDING),
            count(VoteStatus.SUSPICIOUS),
            count(VoteStatus.REJECTED),
            func.coalesce(func.sum(case((Vote.retracted_at.is_not(None), 1), else_=0)), 0),
        )
        .outerjoin(Vote, Vote.song_id == Song.id)
        .where(Song.contest_id == contest_id)
        .group_by(Song.id, Song.title, Song.artist_name, Song.status, Song.created_at)
        .order_by(votes.desc(), Song.created_at, Song.id)
    )
    out: list[ResultRow] = []
    rank = position = 0
    previous: int | None = None
    for song_id, title, artist, status, total, *counts in rows:
        ranked: int | None = None
        if status == SongStatus.APPROVED:
            position += 1
            if total != previous:
                rank, previous = position, total
            ranked = rank
        elif not any(counts) and not total:
            continue  # a song that was never on the board and drew no votes is not a result
        out.append(ResultRow(song_id, title, artist, status, ranked, int(total), *(int(c) for c in counts)))
    return out
