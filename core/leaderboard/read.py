"""Reading a board: from the cache (Redis), else the stored board, else counted on the spot for a contest
never recomputed; one song's standing; the contest rules that decide access, cached briefly per process.

The global board lists every approved song (0 votes when none); a country's board (GeoIP country of the
votes) lists the approved songs with at least one counted vote from that country, and a song without one
shares the place after the last of them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.jobs import recompute_job, request_after_commit
from core.leaderboard.boards import docs, live_docs_from_db
from core.leaderboard.cache import BoardCache, BoardDoc, Entry, Kind, safely
from core.leaderboard.counting import TALLIED_BOARD
from core.leaderboard.rules import BoardRules, View
from core.leaderboard.snapshots import frozen_docs
from core.models import GLOBAL_BOARD, Contest, Song, SongStatus

log = logging.getLogger(__name__)


async def board_rules(session: AsyncSession, contest_id: int) -> BoardRules:
    row = (
        await session.execute(
            select(
                Contest.id,
                Contest.status,
                Contest.leaderboard_hidden,
                Contest.freeze_hours,
                Contest.voting_closes_at,
            ).where(Contest.id == contest_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such contest", code="contest_not_found")
    return BoardRules(*row)


@dataclass
class RulesMemo:
    """Contest rules per API process for ``ttl`` seconds, so that board reads cost no database query. An edit
    (hiding the board, changing the freeze) takes effect in every process within ``ttl``."""

    ttl: float = 1.0
    _rules: dict[int, tuple[float, BoardRules]] = field(default_factory=dict)

    async def get(self, session: AsyncSession, contest_id: int) -> BoardRules:
        now = time.monotonic()
        known = self._rules.get(contest_id)
        if known is not None and known[0] > now:
            return known[1]
        rules = await board_rules(session, contest_id)
        if len(self._rules) > 10_000:
            self._rules.clear()
        self._rules[contest_id] = (now + self.ttl, rules)
        return rules


async def _fresh_docs(session: AsyncSession, contest_id: int, now: datetime) -> dict[str, BoardDoc]:
    """A board counted on the spot, for a contest never recomputed (no votes counted yet, typically)."""
    rows = (await session.execute(TALLIED_BOARD, {"contest_id": contest_id})).all()
    songs = {
        song_id: (title, artist, created_at)
        for song_id, title, artist, created_at in await session.execute(
            select(Song.id, Song.title, Song.artist_name, Song.created_at).where(
                Song.contest_id == contest_id, Song.status == SongStatus.APPROVED
            )
        )
    }
    boards: dict[str, list[Entry]] = {GLOBAL_BOARD: []}
    ordered = sorted(rows, key=lambda row: (row[0], row[2], songs[row[1]][2], row[1]))
    for country, song_id, rank, votes in ordered:
        title, artist, _ = songs[song_id]
        boards.setdefault(country, []).append((song_id, rank, votes, title, artist))
    return docs(boards, 0, now)


async def load_board(
    session: AsyncSession, cache: BoardCache, contest_id: int, view: View, country: str, *, now: datetime
) -> BoardDoc:
    kind: Kind = "frozen" if view == "frozen" else "live"
    doc = await _cached(cache, contest_id, kind, country)
    if doc is not None:
        return doc
    found = await frozen_docs(session, contest_id) if kind == "frozen" else None
    if kind == "frozen" and found is None:
        # No freeze snapshot yet means no recompute since the freeze began: the live board is the frozen one.
        kind = "live"
        doc = await _cached(cache, contest_id, kind, country)
        if doc is not None:
            await session.rollback()
            return doc
    if found is None:
        found = await live_docs_from_db(session, contest_id)
    if found is None:
        found = await _fresh_docs(session, contest_id, now)
        request_after_commit(session, recompute_job(contest_id))  # store it, so the next read is cheap
        await session.commit()
    else:
        await session.rollback()  # end the read transaction before talking to Redis
        if cache.enabled:
            version = found[GLOBAL_BOARD].version
            await safely("fill the cache", cache.store(contest_id, kind, version, found))
    whole = found[GLOBAL_BOARD]
    return found.get(country) or BoardDoc(whole.version, whole.computed_at, [])


async def _cached(cache: BoardCache, contest_id: int, kind: Kind, country: str) -> BoardDoc | None:
    if not cache.enabled:
        return None
    try:
        return await cache.read(contest_id, kind, country)
    except Exception as exc:  # Redis down or a damaged entry: the database still answers
        log.warning("leaderboard cache read failed, reading the database: %s", exc)
        return None


@dataclass(frozen=True, slots=True)
class Standing:
    song_id: int
    title: str
    artist_name: str
    rank: int
    votes: int
    tied_with: int  # other songs sharing this rank
    board_size: int


def standing_on(doc: BoardDoc, song_id: int) -> Standing | None:
    """The song's place on a board it is listed on; None when it is not listed."""
    for entry_id, rank, votes, title, artist in doc.entries:
        if entry_id == song_id:
            tied = sum(1 for other in doc.entries if other[1] == rank) - 1
            return Standing(song_id, title, artist, rank, votes, tied, len(doc.entries))
    return None


async def song_standing(
    session: AsyncSession, doc: BoardDoc, contest_id: int, song_id: int, country: str
) -> Standing:
    listed = standing_on(doc, song_id)
    if listed is not None:
        return listed
    song = await session.get(Song, song_id)
    if song is None or song.contest_id != contest_id or song.status != SongStatus.APPROVED or not country:
        raise NotFound("no such song on this board", code="song_not_found")
    # On a country board a song without a counted vote from there shares the place after the last listed.
    after = len(doc.entries) + 1
    return Standing(song.id, song.title, song.artist_name, after, 0, 0, len(doc.entries))
