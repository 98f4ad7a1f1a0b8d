from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, JsonType, UtcDateTime, utcnow


class VoteStatus(StrEnum):
    PENDING = "pending"  # recorded, not yet scored
    VALID = "valid"  # scored below the review threshold: counts
    SUSPICIOUS = "suspicious"  # scored above it: does not count until a moderator clears it
    REJECTED = "rejected"  # confirmed fraudulent by a moderator: never counts
    CLEARED = "cleared"  # suspicious, then cleared by a moderator: counts


COUNTED_STATUSES = (VoteStatus.VALID.value, VoteStatus.CLEARED.value)


class Vote(Base):
    """One vote. Votes are never deleted: they are rejected or retracted with a reason, and recounted."""

    __tablename__ = "votes"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'valid', 'suspicious', 'rejected', 'cleared')", name="status"),
        CheckConstraint("weight >= 0", name="weight"),
        CheckConstraint("fraud_score IS NULL OR (fraud_score BETWEEN 0 AND 100)", name="fraud_score"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        # The scorer claims pending votes of a contest: keep that index small.
        Index(
            "ix_votes_pending",
            "contest_id",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_votes_contest_cast_at", "contest_id", "cast_at"),
        Index("ix_votes_voter_contest_day", "voter_id", "contest_id", "vote_day"),
        Index("ix_votes_song_status", "song_id", "status"),
        Index("ix_votes_contest_prefix", "contest_id", "network_prefix"),
        Index("ix_votes_review_queue", "contest_id", "status", "case_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Votes are evidence: deleting a contest, song or account that has votes is refused.
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="RESTRICT"))
    song_id: Mapped[int] = mapped_column(ForeignKey("songs.id", ondelete="RESTRICT"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    cast_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    vote_day: Mapped[date] = mapped_column(Date)

    ip: Mapped[str] = mapped_column(String(45))
    network_prefix: Mapped[str] = mapped_column(String(49))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    device_fingerprint: Mapped[str | None] = mapped_column(String(128))
    device_cookie_id: Mapped[str | None] = mapped_column(String(64))
    accept_language: Mapped[str | None] = mapped_column(String(256))
    client_timezone: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(128))
    city: Mapped[str | None] = mapped_column(String(128))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    asn: Mapped[int | None]
    as_org: Mapped[str | None] = mapped_column(String(256))
    # The account's past when the vote was scored (core/services/scoring.py); NULL before migration 0010.
    previous_vote_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    known_network: Mapped[bool | None]
    known_device: Mapped[bool | None]

    weight: Mapped[int] = mapped_column(SmallInteger, default=1)
    status: Mapped[str] = mapped_column(String(16), default=VoteStatus.PENDING)
    fraud_score: Mapped[int | None] = mapped_column(SmallInteger)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    scored_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    retracted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    review_note: Mapped[str | None] = mapped_column(String(1000))
    # What links a suspicious vote to others for review: "group:<id>", "device:<id>" or "prefix:<cidr>".
    case_key: Mapped[str | None] = mapped_column(String(96))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("vote_groups.id", ondelete="SET NULL"))
