from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base


class DailyVoteCount(Base):
    """Votes a voter cast in a contest on one UTC day. The vote limit is enforced by an upsert on this row,
    so concurrent requests serialise on it and the database, not the application, decides who gets in."""

    __tablename__ = "daily_vote_counts"
    __table_args__ = (CheckConstraint("votes >= 0", name="votes"),)

    # Counters mean nothing without the contest or the voter.
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    vote_day: Mapped[date] = mapped_column(Date, primary_key=True)
    votes: Mapped[int] = mapped_column(default=0)


class DailySongVoteCount(Base):
    """Votes a voter cast for one song on one UTC day (the per-song limit)."""

    __tablename__ = "daily_song_vote_counts"
    __table_args__ = (CheckConstraint("votes >= 0", name="votes"),)

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    song_id: Mapped[int] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True)
    vote_day: Mapped[date] = mapped_column(Date, primary_key=True)
    votes: Mapped[int] = mapped_column(default=0)
