from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, UtcDateTime, utcnow


class VoteAppeal(Base):
    """A voter's one appeal against the hold on a vote of theirs, with a short note for the moderator.
    The moderator's decision on the vote (its status and note) is the answer."""

    __tablename__ = "vote_appeals"
    __table_args__ = (CheckConstraint("length(note) BETWEEN 1 AND 500", name="note_length"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # One appeal per vote, kept like the vote itself.
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="RESTRICT"), unique=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
