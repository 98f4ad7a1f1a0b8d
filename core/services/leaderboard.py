"""Leaderboards: counted votes per song, ranked; recomputed by the leaderboard worker.

Counting: only votes whose status is valid or cleared and that were not retracted count, each with its
weight. Ranking: standard competition ranking (1, 2, 2, 4) on the weighted total; among tied songs the one
submitted earlier is listed first (then the lower song id). The global board lists every approved song (0
votes when none); a country's board (GeoIP country of the votes) lists the approved songs with at least one
counted vote from that country, and a song without one shares the place after the last of them.

Counted votes are kept per (contest, song, country) in ``vote_tallies`` by triggers on ``votes`` (migration
0007), in the same transaction as every change to a vote. The recompute ranks from those few rows, in one
statement (RANK() OVER (PARTITION BY country ...)) that writes only the board rows that changed, then
writes the boards to the read cache. Reads never count votes. The periodic integrity check counts from the
votes again and repairs the tallies, the stored board and the cache where they differ.

Freeze: with ``freeze_hours`` set, the public sees the board as it was when the freeze began (the first
recompute after that moment saves the board it is about to replace as the freeze snapshot) until voting ends
or the contest is closed; moderators and admins see the live board. ``leaderboard_hidden`` hides it from the
public until then. After voting ends everyone sees the live board: the final results.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec
from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import Forbidden, InvalidInput, NotFound
from core.jobs import recompute_job, recompute_now_job, request_after_commit
from core.models import (
    GLOBAL_BOARD,
    Contest,
    ContestStatus,
    LeaderboardEntry,
    LeaderboardRepair,
    LeaderboardSnapshot,
    LeaderboardSnapshotEntry,
    LeaderboardState,
    Song,
    SongStatus,
    Vote,
    VoteStatus,
    VoteTally,
)
from core.models.base import UtcDateTime
from core.services.leaderboard_cache import BoardCache, BoardDoc, Entry, Kind, safely
from core.settings import get_settings

log = logging.getLogger(__name__)

View = Literal["live", "frozen", "final"]


async def request_recompute(session: AsyncSession, contest_id: int) -> None:
    """An explicit request (admin): not debounced, so it is never dropped for one sent a moment earlier."""
    if await session.get(Contest, contest_id) is None:
        raise NotFound("no such contest", code="contest_not_found")
    request_after_commit(session, recompute_now_job(contest_id))
    await session.commit()


# --- computing --------------------------------------------------------------------------------------------

# The counted votes per (song, country) come from one of two sources that must always agree: the tallies
# (vote_tallies, kept by triggers on votes in the same transaction as every change to a vote; one row per
# song and country with counted votes), which every recompute reads, and a scan of the contest's votes,
# which only the integrity check pays for. Everything after ``counted`` is the one definition of the boards.
# The global totals are summed from that small result, so per-country boards cost nothing more. Portable:
# PostgreSQL and SQLite (3.25+) both run it.
_COUNTED_FROM_TALLIES = """
    SELECT song_id, country, votes
    FROM vote_tallies
    WHERE contest_id = :contest_id AND ballots > 0
"""
_COUNTED_FROM_VOTES = """
    SELECT song_id, COALESCE(country, '') AS country, SUM(weight) AS votes
    FROM votes
    WHERE contest_id = :contest_id AND status IN ('valid', 'cleared') AND retracted_at IS NULL
    GROUP BY song_id, COALESCE(country, '')
"""
_BOARD_CTES = """
WITH counted AS ({counted}),
approved AS (
    SELECT id FROM songs WHERE contest_id = :contest_id AND status = 'approved'
),
totals AS (
    SELECT a.id AS song_id, '' AS country, CAST(COALESCE(g.votes, 0) AS INTEGER) AS votes
    FROM approved a LEFT JOIN (SELECT song_id, SUM(votes) AS votes FROM counted GROUP BY song_id) AS g
        ON g.song_id = a.id
    UNION ALL
    SELECT c.song_id, c.country, CAST(c.votes AS INTEGER)
    FROM counted c JOIN approved a ON a.id = c.song_id
    WHERE c.country <> ''
)
"""
_TALLIED = _BOARD_CTES.format(counted=_COUNTED_FROM_TALLIES)
_RANKED = """
SELECT country, song_id, RANK() OVER (PARTITION BY country ORDER BY votes DESC) AS rank, votes FROM totals
"""
_REPLACE_BOARD = text(
    _TALLIED  # noqa: S608 - constant SQL, values are bound parameters
    + "INSERT INTO leaderboard_entries (contest_id, country, song_id, votes, computed_at) "
    + "SELECT :contest_id, country, song_id, votes, :now FROM totals"
).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("contest_id", type_=Integer()))
# PostgreSQL: the same ranking, but one statement writes only what changed and returns the boards in display
# order (ties: earlier submission first), so nothing is read back. Stored rows hold votes, not ranks (a new
# vote moves every song tied with the one it raised: thousands of rank changes a second, migration 0009), so
# only the rows whose votes changed are written: rows no longer on a board deleted, changed ones updated in
# place (HOT: fillfactor 50, migration 0007), new ones inserted. The state row's lock keeps concurrent
# recomputes of a contest out.
_SYNC_BOARD = text(
    _TALLIED  # noqa: S608 - constant SQL, values are bound parameters
    + ", fresh AS ("
    + _RANKED
    + """),
stored AS (
    SELECT country, song_id, votes FROM leaderboard_entries WHERE contest_id = :contest_id
),
diff AS MATERIALIZED (
    SELECT COALESCE(f.country, s.country) AS country, COALESCE(f.song_id, s.song_id) AS song_id,
        f.votes, f.song_id IS NULL AS gone, s.song_id IS NULL AS added
    FROM fresh AS f FULL JOIN stored AS s ON s.country = f.country AND s.song_id = f.song_id
    WHERE s.song_id IS NULL OR f.song_id IS NULL OR s.votes <> f.votes
),
gone AS (
    DELETE FROM leaderboard_entries AS e USING diff AS d
    WHERE e.contest_id = :contest_id AND d.gone AND e.country = d.country AND e.song_id = d.song_id
),
changed AS (
    UPDATE leaderboard_entries AS e SET votes = d.votes, computed_at = :now
    FROM diff AS d
    WHERE e.contest_id = :contest_id AND NOT d.gone AND NOT d.added
      AND e.country = d.country AND e.song_id = d.song_id
),
added AS (
    INSERT INTO leaderboard_entries (contest_id, country, song_id, votes, computed_at)
    SELECT :contest_id, d.country, d.song_id, d.votes, :now FROM diff AS d WHERE d.added
)
SELECT f.country, f.song_id, f.rank, f.votes
FROM fresh AS f JOIN songs AS s ON s.id = f.song_id
ORDER BY f.country, f.rank, s.created_at, s.id
"""
).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("contest_id", type_=Integer()))
# Run on the driver's own connection (same transaction): ~30,000 result rows made into SQLAlchemy rows cost as
# much as grouping them, and the boards are ~15 % of a recompute's time.
_SYNC_BOARD_SQL = re.sub(r":now\b", "$2", re.sub(r":contest_id\b", "$1", str(_SYNC_BOARD)))


_SONG_NAMES_SQL = "SELECT id, title, artist_name FROM songs WHERE contest_id = $1"


async def _sync_board(session: AsyncSession, contest_id: int, now: datetime) -> dict[str, list[Entry]]:
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    rows = await driver.fetch(_SYNC_BOARD_SQL, contest_id, now)
    # Titles once per song, not once per song and country (~30x fewer strings to send and decode).
    names = {
        song_id: (title, artist) for song_id, title, artist in await driver.fetch(_SONG_NAMES_SQL, contest_id)
    }
    boards: dict[str, list[Entry]] = {GLOBAL_BOARD: []}
    for country, song_id, rank, votes in rows:
        boards.setdefault(country, []).append((song_id, rank, votes, *names[song_id]))
    return boards


# The boards without storing them: from the tallies (a contest never recomputed), and from scratch (the
# integrity check, which must not trust the tallies).
_TALLIED_BOARD = text(_TALLIED + _RANKED).bindparams(bindparam("contest_id", type_=Integer()))
_SCRATCH_BOARD = text(_BOARD_CTES.format(counted=_COUNTED_FROM_VOTES) + _RANKED).bindparams(
    bindparam("contest_id", type_=Integer())
)
# What the tallies lack, per (song, country): the votes' count minus the tally, in one statement (one
# snapshot: a vote change commits with its tally change, so any difference seen here is a real fault).
_TALLY_ERRORS = text(
    """
SELECT song_id, country, SUM(votes) AS votes, SUM(ballots) AS ballots
FROM (
    SELECT song_id, COALESCE(country, '') AS country, weight AS votes, 1 AS ballots
    FROM votes
    WHERE contest_id = :contest_id AND status IN ('valid', 'cleared') AND retracted_at IS NULL
    UNION ALL
    SELECT song_id, country, -votes, -ballots FROM vote_tallies WHERE contest_id = :contest_id
) AS d
GROUP BY song_id, country
HAVING SUM(votes) <> 0 OR SUM(ballots) <> 0
ORDER BY song_id, country
"""
).bindparams(bindparam("contest_id", type_=Integer()))

Row = tuple[str, int, int, int]  # country, song_id, rank, votes


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    contest_id: int
    version: int
    changed: bool
    songs: int
    froze: bool = False
    snapshot: bool = False


async def _lock_state(session: AsyncSession, contest_id: int, now: datetime) -> tuple[LeaderboardState, bool]:
    """The contest's state row, created if missing, locked until commit: concurrent recomputes of one contest
    take turns (their DELETE + INSERT would otherwise collide on the primary key)."""
    factory = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    created = await session.execute(
        factory(LeaderboardState)
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


# Stored board rows hold votes; their rank is derived when read, the same RANK() the recompute uses.
_ENTRY_RANK = func.rank().over(partition_by=LeaderboardEntry.country, order_by=LeaderboardEntry.votes.desc())


async def _board_rows(session: AsyncSession, contest_id: int) -> dict[str, list[Entry]]:
    """The stored boards by country, entries in display order (ties: earlier submission first)."""
    return await _boards(session, LeaderboardEntry, _ENTRY_RANK, LeaderboardEntry.contest_id == contest_id)


async def _boards(
    session: AsyncSession,
    table: type[LeaderboardEntry] | type[LeaderboardSnapshotEntry],
    rank_of: ColumnElement[int] | InstrumentedAttribute[int],
    where: ColumnElement[bool],
) -> dict[str, list[Entry]]:
    rank = rank_of.label("rank")
    rows = await session.execute(
        select(table.country, table.song_id, rank, table.votes, Song.title, Song.artist_name)
        .join(Song, Song.id == table.song_id)
        .where(where)
        .order_by(table.country, rank, Song.created_at, Song.id)
    )
    return _grouped(rows.all())


def _grouped(rows: Iterable[Sequence[Any]]) -> dict[str, list[Entry]]:
    """(country, song_id, rank, votes, title, artist) rows in display order, by country."""
    boards: dict[str, list[Entry]] = {GLOBAL_BOARD: []}
    for country, song_id, rank, votes, title, artist in rows:
        boards.setdefault(country, []).append((song_id, rank, votes, title, artist))
    return boards


def _digest(boards: dict[str, list[Entry]]) -> str:
    hasher = hashlib.sha256()
    for country in sorted(boards):
        hasher.update(country.encode() + b"\x1e" + _entries_encoder.encode(boards[country]))
    return hasher.hexdigest()


_entries_encoder = msgspec.msgpack.Encoder()


def _docs(boards: dict[str, list[Entry]], version: int, computed_at: datetime) -> dict[str, BoardDoc]:
    return {country: BoardDoc(version, computed_at, entries) for country, entries in boards.items()}


def freeze_at(contest: Contest) -> datetime | None:
    return contest.voting_closes_at - timedelta(hours=contest.freeze_hours) if contest.freeze_hours else None


def _freeze_due(contest: Contest, now: datetime) -> bool:
    start = freeze_at(contest)
    return (
        start is not None and start <= now < contest.voting_closes_at and contest.status == ContestStatus.OPEN
    )


async def _freeze_snapshot(session: AsyncSession, contest_id: int) -> LeaderboardSnapshot | None:
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
        _ENTRY_RANK,
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


def snapshot_interval(every: timedelta | None = None) -> timedelta:
    """``every``, else ``OVATION_LEADERBOARD_SNAPSHOT_MINUTES`` (default 10; 0: at every change)."""
    return (
        every if every is not None else timedelta(minutes=get_settings().workers.leaderboard_snapshot_minutes)
    )


async def recompute(
    session: AsyncSession,
    cache: BoardCache,
    contest_id: int,
    *,
    now: datetime,
    publish: bool = True,
    snapshot_every: timedelta | None = None,
) -> RecomputeResult | None:
    """Rebuild the contest's boards from its vote tallies, then refresh the cache and tell live feeds."""
    contest = await session.get(Contest, contest_id)
    if contest is None:
        return None
    state, is_new = await _lock_state(session, contest_id, now)
    froze = False
    if _freeze_due(contest, now) and await _freeze_snapshot(session, contest_id) is None and not is_new:
        # The board about to be replaced is the board as it was when the freeze began.
        await _snapshot(
            session,
            contest_id,
            reason="freeze",
            taken_at=freeze_at(contest) or now,
            version=state.version,
            all_countries=True,
        )
        froze = True
    if session.get_bind().dialect.name == "postgresql":
        boards = await _sync_board(session, contest_id, now)
    else:  # embedded: small boards, plain replace
        await session.execute(delete(LeaderboardEntry).where(LeaderboardEntry.contest_id == contest_id))
        await session.execute(_REPLACE_BOARD, {"contest_id": contest_id, "now": now})
        boards = await _board_rows(session, contest_id)
    digest = _digest(boards)
    changed = digest != state.digest
    if changed:
        state.version += 1
        state.digest = digest
        state.changed_at = now
    state.computed_at = now
    if is_new and _freeze_due(contest, now) and await _freeze_snapshot(session, contest_id) is None:
        await _snapshot(
            session, contest_id, reason="freeze", taken_at=now, version=state.version, all_countries=True
        )
        froze = True
    snapshot = await _periodic_snapshot_if_due(session, state, now, snapshot_interval(snapshot_every))
    version = state.version
    await session.commit()
    if froze:
        await refresh_frozen_cache(session, cache, contest_id)
    await safely("store the board", cache.store(contest_id, "live", version, _docs(boards, version, now)))
    if publish and (changed or froze):
        await safely("publish a board change", cache.publish(contest_id, version))
    return RecomputeResult(
        contest_id, version, changed, len(boards[GLOBAL_BOARD]), froze=froze, snapshot=snapshot
    )


async def _periodic_snapshot_if_due(
    session: AsyncSession, state: LeaderboardState, now: datetime, every: timedelta
) -> bool:
    """At most one snapshot per interval, and only of a board that changed since the last one."""
    if state.snapshot_version == state.version:
        return False
    if state.snapshot_at is not None and now - state.snapshot_at < every:
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
    froze = False
    if _freeze_due(contest, now) and await _freeze_snapshot(session, contest_id) is None:
        await _snapshot(
            session,
            contest_id,
            reason="freeze",
            taken_at=freeze_at(contest) or now,
            version=state.version,
            all_countries=True,
        )
        froze = True
    await _periodic_snapshot_if_due(session, state, now, snapshot_interval())
    await session.commit()
    if froze:
        await refresh_frozen_cache(session, cache, contest_id)


async def _snapshot_boards(session: AsyncSession, snapshot_id: int) -> dict[str, list[Entry]]:
    return await _boards(
        session,
        LeaderboardSnapshotEntry,
        LeaderboardSnapshotEntry.rank,  # snapshots keep the rank they were taken with
        LeaderboardSnapshotEntry.snapshot_id == snapshot_id,
    )


async def _frozen_docs(session: AsyncSession, contest_id: int) -> dict[str, BoardDoc] | None:
    snapshot = await _freeze_snapshot(session, contest_id)
    if snapshot is None:
        return None
    return _docs(await _snapshot_boards(session, snapshot.id), snapshot.version, snapshot.taken_at)


async def refresh_frozen_cache(session: AsyncSession, cache: BoardCache, contest_id: int) -> None:
    docs = await _frozen_docs(session, contest_id)
    await session.rollback()
    if docs is not None:
        version = docs[GLOBAL_BOARD].version
        await safely("store the frozen board", cache.store(contest_id, "frozen", version, docs))


# --- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardRules:
    """What decides who sees which board; cached briefly per API process."""

    contest_id: int
    status: str
    leaderboard_hidden: bool
    freeze_hours: int
    voting_closes_at: datetime

    @property
    def freeze_at(self) -> datetime | None:
        if not self.freeze_hours:
            return None
        return self.voting_closes_at - timedelta(hours=self.freeze_hours)


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


@dataclass(frozen=True, slots=True)
class Access:
    view: View
    staff: bool
    frozen_at: datetime | None = None


def access(rules: BoardRules, *, staff: bool, admin: bool, now: datetime) -> Access:
    """Which board this viewer may see now: the public may get the frozen one, or none while it is hidden."""
    if rules.status == ContestStatus.DRAFT and not admin:
        raise NotFound("no such contest", code="contest_not_found")
    if rules.status == ContestStatus.CLOSED or now >= rules.voting_closes_at:
        return Access("final", staff)
    if staff:
        return Access("live", staff)
    if rules.leaderboard_hidden:
        raise Forbidden(
            "the leaderboard of this contest is hidden until voting ends", code="leaderboard_hidden"
        )
    start = rules.freeze_at
    if start is not None and now >= start:
        return Access("frozen", staff, frozen_at=start)
    return Access("live", staff)


def parse_country(raw: str | None) -> str:
    """'' for the global board, or an ISO 3166 alpha-2 code."""
    if raw is None or raw == "":
        return GLOBAL_BOARD
    code = raw.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput("country must be an ISO 3166 alpha-2 code such as 'SE'", code="invalid_country")
    return code


async def _live_docs_from_db(session: AsyncSession, contest_id: int) -> dict[str, BoardDoc] | None:
    state = await session.get(LeaderboardState, contest_id)
    if state is None:
        return None
    return _docs(await _board_rows(session, contest_id), state.version, state.computed_at)


async def _fresh_docs(session: AsyncSession, contest_id: int, now: datetime) -> dict[str, BoardDoc]:
    """A board counted on the spot, for a contest never recomputed (no votes counted yet, typically)."""
    rows = (await session.execute(_TALLIED_BOARD, {"contest_id": contest_id})).all()
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
    return _docs(boards, 0, now)


async def load_board(
    session: AsyncSession, cache: BoardCache, contest_id: int, view: View, country: str, *, now: datetime
) -> BoardDoc:
    kind: Kind = "frozen" if view == "frozen" else "live"
    doc = await _cached(cache, contest_id, kind, country)
    if doc is not None:
        return doc
    docs = await _frozen_docs(session, contest_id) if kind == "frozen" else None
    if kind == "frozen" and docs is None:
        # No freeze snapshot yet means no recompute since the freeze began: the live board is the frozen one.
        kind = "live"
        doc = await _cached(cache, contest_id, kind, country)
        if doc is not None:
            await session.rollback()
            return doc
    if docs is None:
        docs = await _live_docs_from_db(session, contest_id)
    if docs is None:
        docs = await _fresh_docs(session, contest_id, now)
        request_after_commit(session, recompute_job(contest_id))  # store it, so the next read is cheap
        await session.commit()
    else:
        await session.rollback()  # end the read transaction before talking to Redis
        if cache.enabled:
            version = docs[GLOBAL_BOARD].version
            await safely("fill the cache", cache.store(contest_id, kind, version, docs))
    whole = docs[GLOBAL_BOARD]
    return docs.get(country) or BoardDoc(whole.version, whole.computed_at, [])


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


async def song_standing(
    session: AsyncSession, doc: BoardDoc, contest_id: int, song_id: int, country: str
) -> Standing:
    for entry_id, rank, votes, title, artist in doc.entries:
        if entry_id == song_id:
            tied = sum(1 for other in doc.entries if other[1] == rank) - 1
            return Standing(song_id, title, artist, rank, votes, tied, len(doc.entries))
    song = await session.get(Song, song_id)
    if song is None or song.contest_id != contest_id or song.status != SongStatus.APPROVED or not country:
        raise NotFound("no such song on this board", code="song_not_found")
    # On a country board a song without a counted vote from there shares the place after the last listed.
    after = len(doc.entries) + 1
    return Standing(song.id, song.title, song.artist_name, after, 0, 0, len(doc.entries))


# --- history and results ----------------------------------------------------------------------------------


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

    counted = live & Vote.status.in_([VoteStatus.VALID.value, VoteStatus.CLEARED.value])
    votes = func.coalesce(func.sum(case((counted, Vote.weight), else_=0)), 0).label("votes")
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


# --- integrity --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    contest_id: int
    source: str  # "database", "cache" or "tallies"
    version: int
    differences: int
    sample: list[list[Any]]


async def _stored(session: AsyncSession, contest_id: int) -> set[Row]:
    rows = await session.execute(
        select(LeaderboardEntry.country, LeaderboardEntry.song_id, _ENTRY_RANK, LeaderboardEntry.votes).where(
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
    fresh = {tuple(row) for row in await session.execute(_SCRATCH_BOARD, {"contest_id": contest_id})}
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
    errors = (await session.execute(_TALLY_ERRORS, {"contest_id": contest_id})).all()
    if not errors:
        await session.rollback()
        return None
    factory = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(errors), 5000):  # bound parameters per statement
        upsert = factory(VoteTally).values(
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
            upsert.on_conflict_do_update(
                index_elements=[VoteTally.contest_id, VoteTally.song_id, VoteTally.country],
                set_={
                    "votes": VoteTally.votes + upsert.excluded.votes,
                    "ballots": VoteTally.ballots + upsert.excluded.ballots,
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
            docs = await _live_docs_from_db(session, finding.contest_id)
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
