from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class HttpSession(Base):
    """Server-side login sessions. Kept in the database, not Redis, so that a Redis outage logs nobody out
    and blocks no vote."""

    __tablename__ = "http_sessions"
    __table_args__ = (Index("ix_http_sessions_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Whose session it is, so that a password reset can end every session of the account.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
