"""Leaderboard bookkeeping beside the board rows (core.models.leaderboard): counted-vote tallies, per-contest
state, snapshots of ranks over time (charts, and the board shown to the public during a freeze) and integrity
repairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

SNAPSHOT_REASONS = ("periodic", "freeze")
REPAIR_SOURCES = ("database", "cache", "tallies")


class VoteTally(Base):
    """Counted votes per (contest, song, country), kept exact by triggers on ``votes`` in the same transaction
    as every change to a vote (migration 0007), so that no code path can forget them: a vote counts while its
    status is valid or cleared and it is not retracted. The recompute reads these few rows instead of
    scanning the votes; the integrity check counts from the votes again and repairs them.

    Rows are never deleted when they fall to zero (a later vote reuses them); ``ballots`` (how many counted
    votes) tells a song with counted votes of weight 0 from a song without any."""

    __tablename__ = "vote_tallies"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True, default="")  # '' unknown
    votes: Mapped[int] = mapped_column(default=0)  # sum of the counted votes' weights
    ballots: Mapped[int] = mapped_column(default=0)


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
    """A difference the integrity check found between a from-scratch count and the stored or cached board or
    the vote tallies, and repaired. Rows are the record; /metrics counts them."""

    __tablename__ = "leaderboard_repairs"
    __table_args__ = (
        CheckConstraint("source IN ('database', 'cache', 'tallies')", name="source"),
        Index("ix_leaderboard_repairs_contest", "contest_id", "found_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    found_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
