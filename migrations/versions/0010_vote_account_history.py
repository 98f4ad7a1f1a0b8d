"""votes record what the account's past said when it was scored

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28

The scorer looks up, for each vote it claims, the account's previous vote (any contest) and whether the
account had voted from this network (ASN, or prefix without GeoIP) or with this device before; it stores
them with the verdict so that later batches read them with the 24 h history instead of recomputing them.
NULL: the vote was scored before this existed (the detector that uses them ignores it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_vote_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("known_network", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("known_device", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_column("known_device")
        batch_op.drop_column("known_network")
        batch_op.drop_column("previous_vote_at")
