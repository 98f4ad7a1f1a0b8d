"""song processing: fingerprint, detected MIME type, attempt counter, index of unprocessed songs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPROCESSED = "status IN ('uploaded', 'processing')"


def upgrade() -> None:
    with op.batch_alter_table("songs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mime_type", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("process_attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_check_constraint(op.f("ck_songs_process_attempts"), "process_attempts >= 0")
        batch_op.create_index(
            "ix_songs_unprocessed",
            ["updated_at"],
            unique=False,
            postgresql_where=sa.text(UNPROCESSED),
            sqlite_where=sa.text(UNPROCESSED),
        )


def downgrade() -> None:
    with op.batch_alter_table("songs", schema=None) as batch_op:
        batch_op.drop_index("ix_songs_unprocessed")
        batch_op.drop_constraint(op.f("ck_songs_process_attempts"), type_="check")
        batch_op.drop_column("process_attempts")
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("mime_type")
