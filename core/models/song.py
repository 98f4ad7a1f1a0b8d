from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, JsonType, UtcDateTime, utcnow


class SongStatus(StrEnum):
    UPLOADED = "uploaded"  # bytes received, waiting for the media worker
    PROCESSING = "processing"
    APPROVED = "approved"
    PENDING_REVIEW = "pending_review"  # the checks could not decide: a moderator will
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"


SONG_STATUSES = tuple(status.value for status in SongStatus)


class Song(Base):
    __tablename__ = "songs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('uploaded', 'processing', 'approved', 'pending_review', 'rejected', 'duplicate', "
            "'withdrawn')",
            name="status",
        ),
        CheckConstraint("size_bytes >= 0", name="size_bytes"),
        CheckConstraint("duration_seconds IS NULL OR duration_seconds >= 0", name="duration"),
        CheckConstraint("channels IS NULL OR channels > 0", name="channels"),
        Index("ix_songs_contest_status", "contest_id", "status"),
        Index("ix_songs_contestant_contest", "contestant_id", "contest_id"),
        Index("ix_songs_sha256", "sha256"),
        CheckConstraint("process_attempts >= 0", name="process_attempts"),
        # The sweeper looks for songs the media worker has not finished: keep that index small.
        Index(
            "ix_songs_unprocessed",
            "updated_at",
            postgresql_where=text("status IN ('uploaded', 'processing')"),
            sqlite_where=text("status IN ('uploaded', 'processing')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A contest with entries cannot be deleted (close it); an account with songs is banned, not deleted.
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="RESTRICT"))
    contestant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    artist_name: Mapped[str] = mapped_column(String(200))
    genre: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    credits: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    license: Mapped[str] = mapped_column(String(64), default="all-rights-reserved")
    status: Mapped[str] = mapped_column(String(16), default=SongStatus.UPLOADED)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    storage_key: Mapped[str | None] = mapped_column(String(255))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    detected_format: Mapped[str | None] = mapped_column(String(16))
    codec: Mapped[str | None] = mapped_column(String(32))
    duration_seconds: Mapped[float | None]
    bitrate: Mapped[int | None]
    sample_rate: Mapped[int | None]
    channels: Mapped[int | None]
    review_evidence: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Content-Type served for the file, from the format detected in its bytes (never from the client).
    mime_type: Mapped[str | None] = mapped_column(String(64))
    # Raw Chromaprint fingerprint: base64 of the little-endian uint32 array (uploads.fingerprint), or None
    # when the audio could not be fingerprinted. ~5 KB for the first 120 s of a song.
    fingerprint: Mapped[str | None] = mapped_column(Text)
    # Times the media worker claimed this song; a song that keeps crashing the worker is given up on.
    process_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
