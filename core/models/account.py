from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, UtcDateTime, utcnow


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"  # proves the address (the one at sign-up, or a new one)
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a password


class AccountToken(Base):
    """A link sent by mail. Only a keyed digest of the token is kept (HMAC with the secret key): neither a
    copy of this table nor a guess makes a working link. Used once; a newer link of the same purpose
    supersedes the older ones."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('verify_email', 'reset_password')", name="purpose"),
        Index("ix_account_tokens_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    # Links go with the account.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The address the link was sent to: for verification, the one it proves (an email change moves to it).
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OutgoingMail(Base):
    """A message to send, written in the transaction that asked for it; the mail worker sends it after the
    commit (SMTP, or the outbox folder in the embedded mode) and the sweeper retries what is still unsent.
    The body is emptied once sent: a link in it stays only in the recipient's mailbox."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        Index("ix_outgoing_mail_to_kind", "to_address", "kind", "created_at"),
        Index(
            "ix_outgoing_mail_unsent",
            "created_at",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    # What it is about (verify_email, reset_password, ...): repeats of one kind to one address are held back.
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A worker sending it holds it until then; past it (the worker died), another may.
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class LoginThrottle(Base):
    """Failed-login bookkeeping per key (an account, an address, an account on one of its known devices).
    Each attempt takes a slot in one atomic upsert before its password is checked, so parallel guesses get
    exactly as many checks as the limit allows (see core.accounts.throttle)."""

    __tablename__ = "login_throttle"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures"),)

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class KnownDevice(Base):
    """A browser (its signed device cookie) that logged in to an account with the right password. It keeps
    its own login budget, so a stranger's failed guesses cannot lock the owner out."""

    __tablename__ = "known_devices"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_login_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
