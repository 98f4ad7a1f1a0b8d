"""leaderboard state, snapshots, repairs and freeze

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leaderboard_repairs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint("source IN ('database', 'cache')", name=op.f("ck_leaderboard_repairs_source")),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_leaderboard_repairs_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_repairs")),
    )
    with op.batch_alter_table("leaderboard_repairs", schema=None) as batch_op:
        batch_op.create_index("ix_leaderboard_repairs_contest", ["contest_id", "found_at"], unique=False)

    op.create_table(
        "leaderboard_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("reason IN ('periodic', 'freeze')", name=op.f("ck_leaderboard_snapshots_reason")),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_leaderboard_snapshots_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_snapshots")),
    )
    with op.batch_alter_table("leaderboard_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leaderboard_snapshots_contest_taken", ["contest_id", "taken_at"], unique=False
        )

    op.create_table(
        "leaderboard_states",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot_version", sa.Integer(), nullable=True),
        sa.CheckConstraint("version >= 0", name=op.f("ck_leaderboard_states_version")),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_leaderboard_states_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contest_id", name=op.f("pk_leaderboard_states")),
    )
    op.create_table(
        "leaderboard_snapshot_entries",
        sa.Column("snapshot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_leaderboard_snapshot_entries_rank")),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_leaderboard_snapshot_entries_votes")),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["leaderboard_snapshots.id"],
            name=op.f("fk_leaderboard_snapshot_entries_snapshot_id_leaderboard_snapshots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["song_id"],
            ["songs.id"],
            name=op.f("fk_leaderboard_snapshot_entries_song_id_songs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "country", "song_id", name=op.f("pk_leaderboard_snapshot_entries")
        ),
    )
    with op.batch_alter_table("leaderboard_snapshot_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leaderboard_snapshot_entries_song", ["song_id", "snapshot_id"], unique=False
        )

    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("freeze_hours", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_check_constraint(op.f("ck_contests_freeze_hours"), "freeze_hours >= 0")


def downgrade() -> None:
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contests_freeze_hours"), type_="check")
        batch_op.drop_column("freeze_hours")

    with op.batch_alter_table("leaderboard_snapshot_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_snapshot_entries_song")
    op.drop_table("leaderboard_snapshot_entries")
    op.drop_table("leaderboard_states")
    with op.batch_alter_table("leaderboard_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_snapshots_contest_taken")
    op.drop_table("leaderboard_snapshots")
    with op.batch_alter_table("leaderboard_repairs", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_repairs_contest")
    op.drop_table("leaderboard_repairs")
