"""vote quotas and retraction window

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_vote_counts",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("vote_day", sa.Date(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_daily_vote_counts_votes")),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_daily_vote_counts_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["users.id"], name=op.f("fk_daily_vote_counts_voter_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contest_id", "voter_id", "vote_day", name=op.f("pk_daily_vote_counts")),
    )
    op.create_table(
        "daily_song_vote_counts",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("vote_day", sa.Date(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_daily_song_vote_counts_votes")),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_daily_song_vote_counts_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["song_id"],
            ["songs.id"],
            name=op.f("fk_daily_song_vote_counts_song_id_songs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"],
            ["users.id"],
            name=op.f("fk_daily_song_vote_counts_voter_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "contest_id", "voter_id", "song_id", "vote_day", name=op.f("pk_daily_song_vote_counts")
        ),
    )
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retraction_minutes", sa.Integer(), server_default="10", nullable=False)
        )
        batch_op.create_check_constraint(op.f("ck_contests_retraction_minutes"), "retraction_minutes >= 0")


def downgrade() -> None:
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contests_retraction_minutes"), type_="check")
        batch_op.drop_column("retraction_minutes")

    op.drop_table("daily_song_vote_counts")
    op.drop_table("daily_vote_counts")
