"""Leaderboard bookkeeping beside the board rows (core.models.leaderboard): per-contest state, snapshots of
ranks over time (charts, and the board shown to the public during a freeze) and integrity repairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

SNAPSHOT_REASONS = ("periodic", "freeze")
REPAIR_SOURCES = ("database", "cache")


class LeaderboardState(Base):
    """One row per contest whose board was computed. Its row lock serialises recomputes of a contest, and its
    version changes only when the board does (ETags, the live feed)."""

    __tablename__ = "leaderboard_states"
    __table_args__ = (CheckConstraint("version >= 0", name="version"),)

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    # sha256 of every (country, song, rank, votes): tells a changed board from a recomputed identical one.
    digest: Mapped[str] = mapped_column(String(64), default="")
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    snapshot_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    snapshot_version: Mapped[int | None]


class LeaderboardSnapshot(Base):
    """The board at one moment. Periodic snapshots keep the global board; the freeze snapshot keeps every
    country's board too, since the public reads it until the reveal."""

    __tablename__ = "leaderboard_snapshots"
    __table_args__ = (
        CheckConstraint("reason IN ('periodic', 'freeze')", name="reason"),
        Index("ix_leaderboard_snapshots_contest_taken", "contest_id", "taken_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=0)


class LeaderboardSnapshotEntry(Base):
    __tablename__ = "leaderboard_snapshot_entries"
    __table_args__ = (
        CheckConstraint("rank >= 1", name="rank"),
        CheckConstraint("votes >= 0", name="votes"),
        # A song's history (charts) reads by song.
        Index("ix_leaderboard_snapshot_entries_song", "song_id", "snapshot_id"),
    )

    snapshot_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("leaderboard_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int]
    votes: Mapped[int]


class LeaderboardRepair(Base):
    """A difference the integrity check found between a from-scratch count and the stored or cached board,
    and repaired. Rows are the record; /metrics counts them."""

    __tablename__ = "leaderboard_repairs"
    __table_args__ = (
        CheckConstraint("source IN ('database', 'cache')", name="source"),
        Index("ix_leaderboard_repairs_contest", "contest_id", "found_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    found_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
