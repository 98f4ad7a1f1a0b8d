"""vote tallies kept by triggers on votes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

Counted votes per (contest, song, country), maintained by the database in the same transaction as every
change to a vote, so that the leaderboard recompute reads a few thousand tally rows instead of scanning every
vote of the contest. A vote counts while ``status IN ('valid', 'cleared') AND retracted_at IS NULL``, with its
weight.

PostgreSQL: INSERT has a row-level trigger whose WHEN clause lets the ingest of pending votes (the hot path)
through without calling any function; UPDATE and DELETE have statement-level triggers over the transition
tables, which add up the -old/+new deltas of the whole statement and apply them in one upsert, in key order
(two transactions then lock tally rows in the same order and cannot deadlock on them). SQLite (embedded mode)
has row-level triggers doing the same upserts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = "status IN ('valid', 'cleared') AND retracted_at IS NULL"


def _counted(row: str) -> str:
    return f"{row}.status IN ('valid', 'cleared') AND {row}.retracted_at IS NULL"


# --- PostgreSQL ---------------------------------------------------------------------------------------------

_PG_APPLY = """
    INSERT INTO vote_tallies AS t (contest_id, song_id, country, votes, ballots)
    SELECT contest_id, song_id, country, SUM(votes), SUM(ballots)
    FROM ({deltas}) AS d
    GROUP BY contest_id, song_id, country
    HAVING SUM(votes) <> 0 OR SUM(ballots) <> 0
    ORDER BY contest_id, song_id, country
    ON CONFLICT (contest_id, song_id, country)
    DO UPDATE SET votes = t.votes + EXCLUDED.votes, ballots = t.ballots + EXCLUDED.ballots;
"""
_PG_REMOVED = (
    f"SELECT contest_id, song_id, COALESCE(country, '') AS country, -weight AS votes, -1 AS ballots "  # noqa: S608
    f"FROM old_votes WHERE {COUNTED}"
)
_PG_ADDED = (
    f"SELECT contest_id, song_id, COALESCE(country, '') AS country, weight AS votes, 1 AS ballots "  # noqa: S608
    f"FROM new_votes WHERE {COUNTED}"
)

PG_UPGRADE = [
    """
CREATE FUNCTION vote_tallies_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vote_tallies AS t (contest_id, song_id, country, votes, ballots)
    VALUES (NEW.contest_id, NEW.song_id, COALESCE(NEW.country, ''), NEW.weight, 1)
    ON CONFLICT (contest_id, song_id, country)
    DO UPDATE SET votes = t.votes + EXCLUDED.votes, ballots = t.ballots + 1;
    RETURN NULL;
END $$
""",
    f"""
CREATE FUNCTION vote_tallies_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_PG_APPLY.format(deltas=_PG_REMOVED + " UNION ALL " + _PG_ADDED)}
    RETURN NULL;
END $$
""",
    f"""
CREATE FUNCTION vote_tallies_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_PG_APPLY.format(deltas=_PG_REMOVED)}
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION vote_tallies_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM vote_tallies;
    RETURN NULL;
END $$
""",
    f"""
CREATE TRIGGER vote_tallies_insert AFTER INSERT ON votes
FOR EACH ROW WHEN ({_counted("NEW")})
EXECUTE FUNCTION vote_tallies_on_insert()
""",
    """
CREATE TRIGGER vote_tallies_update AFTER UPDATE ON votes
REFERENCING OLD TABLE AS old_votes NEW TABLE AS new_votes
FOR EACH STATEMENT EXECUTE FUNCTION vote_tallies_on_update()
""",
    """
CREATE TRIGGER vote_tallies_delete AFTER DELETE ON votes
REFERENCING OLD TABLE AS old_votes
FOR EACH STATEMENT EXECUTE FUNCTION vote_tallies_on_delete()
""",
    """
CREATE TRIGGER vote_tallies_truncate AFTER TRUNCATE ON votes
FOR EACH STATEMENT EXECUTE FUNCTION vote_tallies_on_truncate()
""",
]
PG_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS vote_tallies_truncate ON votes",
    "DROP TRIGGER IF EXISTS vote_tallies_delete ON votes",
    "DROP TRIGGER IF EXISTS vote_tallies_update ON votes",
    "DROP TRIGGER IF EXISTS vote_tallies_insert ON votes",
    "DROP FUNCTION IF EXISTS vote_tallies_on_truncate()",
    "DROP FUNCTION IF EXISTS vote_tallies_on_delete()",
    "DROP FUNCTION IF EXISTS vote_tallies_on_update()",
    "DROP FUNCTION IF EXISTS vote_tallies_on_insert()",
]

# --- SQLite ---------------------------------------------------------------------------------------------------


def _sqlite_upsert(row: str, sign: str) -> str:
    """Add (sign '+') or take away (sign '-') the OLD or NEW row's vote, if it counts."""
    return f"""
    INSERT INTO vote_tallies (contest_id, song_id, country, votes, ballots)
    SELECT {row}.contest_id, {row}.song_id, COALESCE({row}.country, ''), {sign}{row}.weight, {sign}1
    WHERE {_counted(row)}
    ON CONFLICT (contest_id, song_id, country)
    DO UPDATE SET votes = votes + excluded.votes, ballots = ballots + excluded.ballots;"""


SQLITE_UPGRADE = [
    f"CREATE TRIGGER vote_tallies_insert AFTER INSERT ON votes WHEN {_counted('NEW')} "
    f"BEGIN {_sqlite_upsert('NEW', '')} END",
    # Only the columns that decide whether and where a vote counts.
    "CREATE TRIGGER vote_tallies_update AFTER UPDATE OF contest_id, song_id, country, weight, status, "
    f"retracted_at ON votes BEGIN {_sqlite_upsert('OLD', '-')} {_sqlite_upsert('NEW', '')} END",
    f"CREATE TRIGGER vote_tallies_delete AFTER DELETE ON votes BEGIN {_sqlite_upsert('OLD', '-')} END",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS vote_tallies_delete",
    "DROP TRIGGER IF EXISTS vote_tallies_update",
    "DROP TRIGGER IF EXISTS vote_tallies_insert",
]

BACKFILL = f"""
INSERT INTO vote_tallies (contest_id, song_id, country, votes, ballots)
SELECT contest_id, song_id, COALESCE(country, ''), SUM(weight), COUNT(*)
FROM votes
WHERE {COUNTED}
GROUP BY contest_id, song_id, COALESCE(country, '')
"""  # noqa: S608 - constant SQL


def upgrade() -> None:
    op.create_table(
        "vote_tallies",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("ballots", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_vote_tallies_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_vote_tallies_song_id_songs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contest_id", "song_id", "country", name=op.f("pk_vote_tallies")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Votes cast while the backfill runs must wait for it: they would be counted twice or not at all.
        op.execute("LOCK TABLE votes IN SHARE MODE")
    op.execute(BACKFILL)
    for statement in PG_UPGRADE if postgres else SQLITE_UPGRADE:
        op.execute(statement)

    with op.batch_alter_table("leaderboard_repairs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_leaderboard_repairs_source"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_leaderboard_repairs_source"), "source IN ('database', 'cache', 'tallies')"
        )

    # A recompute changes the rank of most board rows: without an index on rank, and with room left in each
    # page, those updates are HOT (in place, no index entries).
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_board_rank")
    if postgres:
        op.execute("ALTER TABLE leaderboard_entries SET (fillfactor = 50)")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE leaderboard_entries RESET (fillfactor)")
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.create_index("ix_leaderboard_board_rank", ["contest_id", "country", "rank"], unique=False)

    op.execute("DELETE FROM leaderboard_repairs WHERE source = 'tallies'")
    with op.batch_alter_table("leaderboard_repairs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_leaderboard_repairs_source"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_leaderboard_repairs_source"), "source IN ('database', 'cache')"
        )

    for statement in PG_DOWNGRADE if postgres else SQLITE_DOWNGRADE:
        op.execute(statement)
    op.drop_table("vote_tallies")
