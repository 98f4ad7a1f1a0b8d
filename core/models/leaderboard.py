from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime, utcnow

GLOBAL_BOARD = ""  # the country column of the contest-wide board


class LeaderboardEntry(Base):
    """A song's place on a contest board; derived data, rebuilt by the recompute task.

    No index on rank: a recompute changes the rank of most rows (a new vote moves every song tied with the
    one it raised), and an indexed rank would make each of those updates write index entries instead of a
    HOT update in place (fillfactor 50 on PostgreSQL leaves the room; migration 0007)."""

    __tablename__ = "leaderboard_entries"
    __table_args__ = (
        CheckConstraint("rank >= 1", name="rank"),
        CheckConstraint("votes >= 0", name="votes"),
    )

    # Derived rows go with what they describe.
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True, default=GLOBAL_BOARD)
    song_id: Mapped[int] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int]
    votes: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
