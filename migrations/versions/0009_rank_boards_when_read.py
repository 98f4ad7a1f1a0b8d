"""leaderboard rows keep votes; the rank is derived when read

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

A new vote moves every song tied with the one it raised, so a stored rank changed on thousands of rows per
second; with the rank derived when read (RANK() over votes), a recompute writes only the rows whose votes
changed. Ranked boards live in the cache and in snapshots, which keep their rank.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_leaderboard_entries_rank"), type_="check")
        batch_op.drop_column("rank")


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE leaderboard_entries SET rank = (
            SELECT COUNT(*) + 1 FROM leaderboard_entries AS other
            WHERE other.contest_id = leaderboard_entries.contest_id
              AND other.country = leaderboard_entries.country
              AND other.votes > leaderboard_entries.votes
        )
        """
    )
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.alter_column("rank", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(op.f("ck_leaderboard_entries_rank"), "rank >= 1")
