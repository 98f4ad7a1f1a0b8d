"""What counts, and the one SQL definition of the boards.

A vote counts while its status is valid or cleared and it was not retracted, with its weight. That rule is
written here once, as a SQLAlchemy expression (``COUNTED_VOTE``, and the same text for the raw statements
below) and as a predicate on a loaded vote (``is_counted``); the triggers of migration 0007 hold the frozen
copy the database applies to ``vote_tallies``, and a test checks that all of them agree.

The counted votes per (song, country) come from one of two sources that must always agree: the tallies (one
row per song and country with counted votes), which every recompute reads, and a scan of the contest's votes,
which only the integrity check pays for. Everything after ``counted`` is the one definition of the boards:
the global totals are summed from that small result, so per-country boards cost nothing more. Portable:
PostgreSQL and SQLite (3.25+) both run it.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import BindParameter, ColumnElement, Integer, bindparam, text
from sqlalchemy.dialects import sqlite

from core.models import COUNTED_STATUSES, Vote
from core.models.base import UtcDateTime

COUNTED_VOTE: ColumnElement[bool] = Vote.status.in_(COUNTED_STATUSES) & Vote.retracted_at.is_(None)
# The same condition for the raw statements over ``votes`` (the literal statuses, no bound parameters).
COUNTED_VOTE_SQL = str(COUNTED_VOTE.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def is_counted(status: str, retracted_at: datetime | None) -> bool:
    """``COUNTED_VOTE`` for a vote already loaded (what a voter is shown about their own vote)."""
    return status in COUNTED_STATUSES and retracted_at is None


_COUNTED_FROM_TALLIES = """
    SELECT song_id, country, votes
    FROM vote_tallies
    WHERE contest_id = :contest_id AND ballots > 0
"""
_COUNTED_FROM_VOTES = f"""
    SELECT song_id, COALESCE(country, '') AS country, SUM(weight) AS votes
    FROM votes
    WHERE contest_id = :contest_id AND {COUNTED_VOTE_SQL}
    GROUP BY song_id, COALESCE(country, '')
"""  # noqa: S608 - constant SQL, values are bound parameters
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


def _contest_id() -> BindParameter[int]:
    return bindparam("contest_id", type_=Integer())


# Embedded mode: the boards rebuilt from the tallies by a plain replace (small boards).
REPLACE_BOARD = text(
    _TALLIED  # noqa: S608 - constant SQL, values are bound parameters
    + "INSERT INTO leaderboard_entries (contest_id, country, song_id, votes, computed_at) "
    + "SELECT :contest_id, country, song_id, votes, :now FROM totals"
).bindparams(bindparam("now", type_=UtcDateTime()), _contest_id())

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
).bindparams(bindparam("now", type_=UtcDateTime()), _contest_id())
# Run on the driver's own connection (same transaction): ~30,000 result rows made into SQLAlchemy rows cost as
# much as grouping them, and the boards are ~15 % of a recompute's time.
SYNC_BOARD_SQL = re.sub(r":now\b", "$2", re.sub(r":contest_id\b", "$1", str(_SYNC_BOARD)))
SONG_NAMES_SQL = "SELECT id, title, artist_name FROM songs WHERE contest_id = $1"

# The boards without storing them: from the tallies (a contest never recomputed), and from scratch (the
# integrity check, which must not trust the tallies).
TALLIED_BOARD = text(_TALLIED + _RANKED).bindparams(_contest_id())
SCRATCH_BOARD = text(_BOARD_CTES.format(counted=_COUNTED_FROM_VOTES) + _RANKED).bindparams(_contest_id())

# What the tallies lack, per (song, country): the votes' count minus the tally, in one statement (one
# snapshot: a vote change commits with its tally change, so any difference seen here is a real fault).
TALLY_ERRORS = text(
    f"""
SELECT song_id, country, SUM(votes) AS votes, SUM(ballots) AS ballots
FROM (
    SELECT song_id, COALESCE(country, '') AS country, weight AS votes, 1 AS ballots
    FROM votes
    WHERE contest_id = :contest_id AND {COUNTED_VOTE_SQL}
    UNION ALL
    SELECT song_id, country, -votes, -ballots FROM vote_tallies WHERE contest_id = :contest_id
) AS d
GROUP BY song_id, country
HAVING SUM(votes) <> 0 OR SUM(ballots) <> 0
ORDER BY song_id, country
"""  # noqa: S608 - constant SQL, values are bound parameters
).bindparams(_contest_id())
