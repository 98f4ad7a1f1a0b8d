"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ban_reason", sa.String(length=500), nullable=True),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'banned')", name=op.f("ck_users_status")),
        sa.CheckConstraint("failed_login_count >= 0", name=op.f("ck_users_failed_login_count")),
        sa.CheckConstraint("length(username) BETWEEN 3 AND 32", name=op.f("ck_users_username_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    # Case-insensitive uniqueness on every backend.
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "contests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submission_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voting_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voting_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("votes_per_voter_per_day", sa.Integer(), nullable=False),
        sa.Column("votes_per_song_per_day", sa.Integer(), nullable=False),
        sa.Column(
            "eligible_countries",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("allow_unknown_country", sa.Boolean(), nullable=False),
        sa.Column("max_entries_per_contestant", sa.Integer(), nullable=False),
        sa.Column(
            "allowed_formats",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("max_file_bytes", sa.BigInteger(), nullable=False),
        sa.Column("min_duration_seconds", sa.Integer(), nullable=False),
        sa.Column("max_duration_seconds", sa.Integer(), nullable=False),
        sa.Column("require_verified_email", sa.Boolean(), nullable=False),
        sa.Column("min_account_age_hours", sa.Integer(), nullable=False),
        sa.Column("leaderboard_hidden", sa.Boolean(), nullable=False),
        sa.Column(
            "fraud_config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f("ck_contests_status")),
        sa.CheckConstraint("length(slug) BETWEEN 3 AND 64", name=op.f("ck_contests_slug_length")),
        sa.CheckConstraint("max_entries_per_contestant >= 1", name=op.f("ck_contests_max_entries")),
        sa.CheckConstraint("max_file_bytes > 0", name=op.f("ck_contests_max_file_bytes")),
        sa.CheckConstraint("min_account_age_hours >= 0", name=op.f("ck_contests_min_account_age")),
        sa.CheckConstraint(
            "min_duration_seconds >= 0 AND max_duration_seconds > min_duration_seconds",
            name=op.f("ck_contests_duration_bounds"),
        ),
        sa.CheckConstraint(
            "submission_opens_at < submission_closes_at", name=op.f("ck_contests_submission_window")
        ),
        sa.CheckConstraint(
            "submission_opens_at <= voting_opens_at", name=op.f("ck_contests_submission_before_voting")
        ),
        sa.CheckConstraint(
            "votes_per_song_per_day >= 1 AND votes_per_song_per_day <= votes_per_voter_per_day",
            name=op.f("ck_contests_votes_per_song_per_day"),
        ),
        sa.CheckConstraint("votes_per_voter_per_day >= 1", name=op.f("ck_contests_votes_per_voter_per_day")),
        sa.CheckConstraint("voting_opens_at < voting_closes_at", name=op.f("ck_contests_voting_window")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_contests_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contests")),
        sa.UniqueConstraint("slug", name=op.f("uq_contests_slug")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "role IN ('voter', 'contestant', 'moderator', 'admin')", name=op.f("ck_user_roles_role")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "songs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("contestant_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("artist_name", sa.String(length=200), nullable=False),
        sa.Column("genre", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "credits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("license", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("detected_format", sa.String(length=16), nullable=True),
        sa.Column("codec", sa.String(length=32), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("bitrate", sa.Integer(), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column(
            "review_evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('uploaded', 'processing', 'approved', 'pending_review', 'rejected', 'duplicate', 'withdrawn')",
            name=op.f("ck_songs_status"),
        ),
        sa.CheckConstraint("channels IS NULL OR channels > 0", name=op.f("ck_songs_channels")),
        sa.CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0", name=op.f("ck_songs_duration")
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_songs_size_bytes")),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.id"], name=op.f("fk_songs_contest_id_contests"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["contestant_id"], ["users.id"], name=op.f("fk_songs_contestant_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_songs")),
    )
    with op.batch_alter_table("songs", schema=None) as batch_op:
        batch_op.create_index("ix_songs_contest_status", ["contest_id", "status"], unique=False)
        batch_op.create_index("ix_songs_contestant_contest", ["contestant_id", "contest_id"], unique=False)
        batch_op.create_index("ix_songs_sha256", ["sha256"], unique=False)

    op.create_table(
        "leaderboard_entries",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_leaderboard_entries_rank")),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_leaderboard_entries_votes")),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_leaderboard_entries_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_leaderboard_entries_song_id_songs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contest_id", "country", "song_id", name=op.f("pk_leaderboard_entries")),
    )
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.create_index("ix_leaderboard_board_rank", ["contest_id", "country", "rank"], unique=False)

    op.create_table(
        "votes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vote_day", sa.Date(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("network_prefix", sa.String(length=49), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("device_fingerprint", sa.String(length=128), nullable=True),
        sa.Column("device_cookie_id", sa.String(length=64), nullable=True),
        sa.Column("accept_language", sa.String(length=256), nullable=True),
        sa.Column("client_timezone", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=128), nullable=True),
        sa.Column("city", sa.String(length=128), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("asn", sa.Integer(), nullable=True),
        sa.Column("as_org", sa.String(length=256), nullable=True),
        sa.Column("weight", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fraud_score", sa.SmallInteger(), nullable=True),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'valid', 'suspicious', 'rejected', 'cleared')",
            name=op.f("ck_votes_status"),
        ),
        sa.CheckConstraint(
            "fraud_score IS NULL OR (fraud_score BETWEEN 0 AND 100)", name=op.f("ck_votes_fraud_score")
        ),
        sa.CheckConstraint(
            "latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name=op.f("ck_votes_latitude")
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name=op.f("ck_votes_longitude")
        ),
        sa.CheckConstraint("weight >= 0", name=op.f("ck_votes_weight")),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.id"], name=op.f("fk_votes_contest_id_contests"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_votes_reviewed_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_votes_song_id_songs"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["users.id"], name=op.f("fk_votes_voter_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
    )
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.create_index("ix_votes_contest_cast_at", ["contest_id", "cast_at"], unique=False)
        batch_op.create_index("ix_votes_contest_prefix", ["contest_id", "network_prefix"], unique=False)
        batch_op.create_index(
            "ix_votes_pending",
            ["contest_id", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index("ix_votes_song_status", ["song_id", "status"], unique=False)
        batch_op.create_index(
            "ix_votes_voter_contest_day", ["voter_id", "contest_id", "vote_day"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index("ix_votes_voter_contest_day")
        batch_op.drop_index("ix_votes_song_status")
        batch_op.drop_index(
            "ix_votes_pending",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_votes_contest_prefix")
        batch_op.drop_index("ix_votes_contest_cast_at")

    op.drop_table("votes")
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_board_rank")

    op.drop_table("leaderboard_entries")
    with op.batch_alter_table("songs", schema=None) as batch_op:
        batch_op.drop_index("ix_songs_sha256")
        batch_op.drop_index("ix_songs_contestant_contest")
        batch_op.drop_index("ix_songs_contest_status")

    op.drop_table("songs")
    op.drop_table("user_roles")
    op.drop_table("contests")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_target")
        batch_op.drop_index("ix_audit_created_at")

    op.drop_table("audit_log")
    op.drop_table("worker_heartbeats")
    op.drop_index("uq_users_username_lower", table_name="users")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
