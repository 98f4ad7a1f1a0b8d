"""accounts: mail links, outgoing mail, login throttle, known devices, vote appeals; sessions know their owner

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Login failures move from two columns on users (a count and a lock, read and written around the password
check, so parallel guesses all got checked) to login_throttle, where each attempt takes its slot in one
atomic upsert. http_sessions gains user_id so that a password reset can end every session of the account;
existing sessions get theirs from the user id they hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@contextmanager
def _users_rebuilt() -> Iterator[BatchOperations]:
    """Alter users; SQLite rebuilds the table for it, and cannot carry its expression indexes (lower(email),
    lower(username)) across: they are dropped first and made again after."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.drop_index("uq_users_username_lower", table_name="users")
        op.drop_index("uq_users_email_lower", table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        yield batch_op
    if sqlite:
        op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
        op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password')", name=op.f("ck_account_tokens_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_account_tokens_digest")),
    )
    op.create_index("ix_account_tokens_user_purpose", "account_tokens", ["user_id", "purpose"])

    op.create_table(
        "outgoing_mail",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("claimed_until", UTC_DATETIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
    )
    op.create_index("ix_outgoing_mail_to_kind", "outgoing_mail", ["to_address", "kind", "created_at"])
    op.create_index(
        "ix_outgoing_mail_unsent",
        "outgoing_mail",
        ["created_at"],
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", UTC_DATETIME, nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_login_throttle_failures")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )

    op.create_table(
        "known_devices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("last_login_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_known_devices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "device_id", name=op.f("pk_known_devices")),
    )

    op.create_table(
        "vote_appeals",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("vote_id", BIG_ID, nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("length(note) BETWEEN 1 AND 500", name=op.f("ck_vote_appeals_note_length")),
        sa.ForeignKeyConstraint(
            ["vote_id"], ["votes.id"], name=op.f("fk_vote_appeals_vote_id_votes"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["users.id"], name=op.f("fk_vote_appeals_voter_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_appeals")),
        sa.UniqueConstraint("vote_id", name=op.f("uq_vote_appeals_vote_id")),
    )
    op.create_index(op.f("ix_vote_appeals_voter_id"), "vote_appeals", ["voter_id"])

    with op.batch_alter_table("http_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_http_sessions_user_id"), ["user_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_http_sessions_user_id_users"), "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
    # Sessions are Litestar's JSON ({"uid": <user id>, ...}); a uid whose account is gone ends its session.
    if op.get_bind().dialect.name == "postgresql":
        owner = "(convert_from(value, 'UTF8')::jsonb ->> 'uid')::integer"
    else:
        owner = "CAST(json_extract(CAST(value AS TEXT), '$.uid') AS INTEGER)"
    op.execute(f"UPDATE http_sessions SET user_id = {owner}")  # noqa: S608 - no input, a fixed expression
    op.execute(
        "DELETE FROM http_sessions WHERE user_id IS NOT NULL AND user_id NOT IN (SELECT id FROM users)"
    )

    with _users_rebuilt() as batch_op:
        batch_op.drop_constraint(op.f("ck_users_failed_login_count"), type_="check")
        batch_op.drop_column("failed_login_count")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    with _users_rebuilt() as batch_op:
        batch_op.add_column(sa.Column("locked_until", UTC_DATETIME, nullable=True))
        batch_op.add_column(
            sa.Column("failed_login_count", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.create_check_constraint(op.f("ck_users_failed_login_count"), "failed_login_count >= 0")

    with op.batch_alter_table("http_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_http_sessions_user_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_http_sessions_user_id"))
        batch_op.drop_column("user_id")

    op.drop_index(op.f("ix_vote_appeals_voter_id"), table_name="vote_appeals")
    op.drop_table("vote_appeals")
    op.drop_table("known_devices")
    op.drop_table("login_throttle")
    op.drop_index("ix_outgoing_mail_unsent", table_name="outgoing_mail")
    op.drop_index("ix_outgoing_mail_to_kind", table_name="outgoing_mail")
    op.drop_table("outgoing_mail")
    op.drop_index("ix_account_tokens_user_purpose", table_name="account_tokens")
    op.drop_table("account_tokens")
