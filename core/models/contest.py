from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, JsonType, UtcDateTime, utcnow


class ContestStatus(StrEnum):
    DRAFT = "draft"  # only admins see it
    OPEN = "open"  # public; submission and voting follow their windows
    CLOSED = "closed"  # closed early or after voting; results final


DEFAULT_AUDIO_FORMATS = ["mp3", "flac", "ogg", "opus", "wav", "m4a"]


class Contest(Base):
    __tablename__ = "contests"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("submission_opens_at < submission_closes_at", name="submission_window"),
        CheckConstraint("voting_opens_at < voting_closes_at", name="voting_window"),
        CheckConstraint("submission_opens_at <= voting_opens_at", name="submission_before_voting"),
        CheckConstraint("votes_per_voter_per_day >= 1", name="votes_per_voter_per_day"),
        CheckConstraint(
            "votes_per_song_per_day >= 1 AND votes_per_song_per_day <= votes_per_voter_per_day",
            name="votes_per_song_per_day",
        ),
        CheckConstraint("max_entries_per_contestant >= 1", name="max_entries"),
        CheckConstraint("max_file_bytes > 0", name="max_file_bytes"),
        CheckConstraint(
            "min_duration_seconds >= 0 AND max_duration_seconds > min_duration_seconds",
            name="duration_bounds",
        ),
        CheckConstraint("min_account_age_hours >= 0", name="min_account_age"),
        CheckConstraint("retraction_minutes >= 0", name="retraction_minutes"),
        CheckConstraint("length(slug) BETWEEN 3 AND 64", name="slug_length"),
        CheckConstraint("freeze_hours >= 0", name="freeze_hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ContestStatus.DRAFT)
    submission_opens_at: Mapped[datetime] = mapped_column(UtcDateTime())
    submission_closes_at: Mapped[datetime] = mapped_column(UtcDateTime())
    voting_opens_at: Mapped[datetime] = mapped_column(UtcDateTime())
    voting_closes_at: Mapped[datetime] = mapped_column(UtcDateTime())

    # Rules.
    votes_per_voter_per_day: Mapped[int] = mapped_column(default=10)
    votes_per_song_per_day: Mapped[int] = mapped_column(default=1)
    eligible_countries: Mapped[list[str] | None] = mapped_column(JsonType)  # None: every country
    allow_unknown_country: Mapped[bool] = mapped_column(default=True)
    max_entries_per_contestant: Mapped[int] = mapped_column(default=3)
    allowed_formats: Mapped[list[str]] = mapped_column(JsonType, default=lambda: list(DEFAULT_AUDIO_FORMATS))
    max_file_bytes: Mapped[int] = mapped_column(BigInteger, default=100 * 1024 * 1024)
    min_duration_seconds: Mapped[int] = mapped_column(default=30)
    max_duration_seconds: Mapped[int] = mapped_column(default=600)
    require_verified_email: Mapped[bool] = mapped_column(default=False)
    min_account_age_hours: Mapped[int] = mapped_column(default=0)
    leaderboard_hidden: Mapped[bool] = mapped_column(default=False)
    # The public sees the board as it was this many hours before voting closes, until it closes (0: never).
    freeze_hours: Mapped[int] = mapped_column(default=0, server_default="0")
    # How long after casting a voter may take a vote back (0: never).
    retraction_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    fraud_config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)

    # Contests outlive their creators' accounts.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    def submission_open(self, now: datetime) -> bool:
        return (
            self.status == ContestStatus.OPEN and self.submission_opens_at <= now < self.submission_closes_at
        )

    def voting_open(self, now: datetime) -> bool:
        return self.status == ContestStatus.OPEN and self.voting_opens_at <= now < self.voting_closes_at
