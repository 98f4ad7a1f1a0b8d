from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, JsonType, UtcDateTime, utcnow


class VoteGroup(Base):
    """A coordinated group found on a contest's voter x song graph, with the evidence behind it."""

    __tablename__ = "vote_groups"
    __table_args__ = (
        CheckConstraint("accounts_count >= 0 AND votes_count >= 0", name="counts"),
        Index("ix_vote_groups_contest", "contest_id", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Evidence of a contest goes with it.
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    accounts: Mapped[list[int]] = mapped_column(JsonType)
    songs: Mapped[list[int]] = mapped_column(JsonType)
    windows: Mapped[list[list[str]]] = mapped_column(JsonType)  # [[start, end], ...] ISO 8601, UTC
    accounts_count: Mapped[int]
    votes_count: Mapped[int]
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType)  # density, lift, lockstep
    evidence: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
