"""The stored boards as readers get them: entries grouped by country in display order, and the documents the
cache holds.

Ranking: standard competition ranking (1, 2, 2, 4) on the weighted total; among tied songs the one submitted
earlier is listed first (then the lower song id). Stored rows hold votes; their rank is derived when read,
with the same RANK() the recompute uses (migration 0009).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.leaderboard.cache import BoardDoc, Entry
from core.models import GLOBAL_BOARD, LeaderboardEntry, LeaderboardSnapshotEntry, LeaderboardState, Song

Row = tuple[str, int, int, int]  # country, song_id, rank, votes

ENTRY_RANK = func.rank().over(partition_by=LeaderboardEntry.country, order_by=LeaderboardEntry.votes.desc())


async def stored_boards(session: AsyncSession, contest_id: int) -> dict[str, list[Entry]]:
    """The stored boards by country, entries in display order (ties: earlier submission first)."""
    return await boards_from(session, LeaderboardEntry, ENTRY_RANK, LeaderboardEntry.contest_id == contest_id)


async def boards_from(
    session: AsyncSession,
    table: type[LeaderboardEntry] | type[LeaderboardSnapshotEntry],
    rank_of: ColumnElement[int] | InstrumentedAttribute[int],
    where: ColumnElement[bool],
) -> dict[str, list[Entry]]:
    """Board rows of ``table`` (the stored board or a snapshot's) by country, in display order."""
    rank = rank_of.label("rank")
    rows = await session.execute(
        select(table.country, table.song_id, rank, table.votes, Song.title, Song.artist_name)
        .join(Song, Song.id == table.song_id)
        .where(where)
        .order_by(table.country, rank, Song.created_at, Song.id)
    )
    return grouped(rows.all())


def grouped(rows: Iterable[Sequence[Any]]) -> dict[str, list[Entry]]:
    """(country, song_id, rank, votes, title, artist) rows in display order, by country."""
    boards: dict[str, list[Entry]] = {GLOBAL_BOARD: []}
    for country, song_id, rank, votes, title, artist in rows:
        boards.setdefault(country, []).append((song_id, rank, votes, title, artist))
    return boards


_entries_encoder = msgspec.msgpack.Encoder()


def digest(boards: dict[str, list[Entry]]) -> str:
    """Tells a changed board from a recomputed identical one (the version moves only on a change)."""
    hasher = hashlib.sha256()
    for country in sorted(boards):
        hasher.update(country.encode() + b"\x1e" + _entries_encoder.encode(boards[country]))
    return hasher.hexdigest()


def docs(boards: dict[str, list[Entry]], version: int, computed_at: datetime) -> dict[str, BoardDoc]:
    return {country: BoardDoc(version, computed_at, entries) for country, entries in boards.items()}


async def live_docs_from_db(session: AsyncSession, contest_id: int) -> dict[str, BoardDoc] | None:
    """The stored live boards, or None for a contest never recomputed."""
    state = await session.get(LeaderboardState, contest_id)
    if state is None:
        return None
    return docs(await stored_boards(session, contest_id), state.version, state.computed_at)
