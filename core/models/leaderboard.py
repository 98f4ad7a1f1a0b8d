from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime, utcnow

GLOBAL_BOARD = ""  # the country column of the contest-wide board


class LeaderboardEntry(Base):
    """A song's votes on a contest board; derived data, kept by the recompute task.

    No rank column: a new vote moves every song tied with the one it raised, so a stored rank changed on
    thousands of rows a second. Readers rank with RANK() over votes (migration 0009); the recompute writes
    only the rows whose votes changed (HOT updates: fillfactor 50 on PostgreSQL, migration 0007)."""

    __tablename__ = "leaderboard_entries"
    __table_args__ = (CheckConstraint("votes >= 0", name="votes"),)

    # Derived rows go with what they describe.
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True, default=GLOBAL_BOARD)
    song_id: Mapped[int] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True)
    votes: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
