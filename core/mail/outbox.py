"""The outgoing-mail table as a queue: rows are added with the change that causes them, a worker claims one
at a time, and the sweeper re-requests what is still unsent (the broker may have lost the request)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import request_after_commit, send_mail_job
from core.mail.delivery import Letter
from core.models import OutgoingMail

# How long a worker holds a claimed message before another may try it (longer than an SMTP timeout).
CLAIM_SECONDS = 120
MAX_ATTEMPTS = 10  # then it stays unsent (and logged) for an operator to look at


async def queue_mail(session: AsyncSession, *, to: str, subject: str, body: str, kind: str) -> int:
    """Add a message to the caller's transaction; the mail task is requested once it commits."""
    mail = OutgoingMail(to_address=to, subject=subject, body=body, kind=kind)
    session.add(mail)
    await session.flush()
    request_after_commit(session, send_mail_job(mail.id))
    return mail.id


async def sent_recently(session: AsyncSession, *, to: str, kind: str, since: datetime) -> bool:
    """Whether a message of this kind to this address was queued since then (repeats are not sent)."""
    found = await session.scalar(
        select(func.count(OutgoingMail.id)).where(
            func.lower(OutgoingMail.to_address) == to.lower(),
            OutgoingMail.kind == kind,
            OutgoingMail.created_at >= since,
        )
    )
    return bool(found)


async def claim(session: AsyncSession, mail_id: int, now: datetime) -> Letter | None:
    """Take an unsent message for sending (and commit); None when it was sent or another worker has it."""
    row = (
        await session.execute(
            update(OutgoingMail)
            .where(
                OutgoingMail.id == mail_id,
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.attempts < MAX_ATTEMPTS,
                or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now),
            )
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=OutgoingMail.attempts + 1)
            .returning(OutgoingMail.to_address, OutgoingMail.subject, OutgoingMail.body)
        )
    ).first()
    await session.commit()
    return Letter(mail_id, row.to_address, row.subject, row.body) if row is not None else None


async def mark_sent(session: AsyncSession, mail_id: int, now: datetime) -> None:
    # The body goes: a link in it now lives only in the recipient's mailbox (or the outbox folder).
    await session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(sent_at=now, body="", claimed_until=None, last_error=None)
    )
    await session.commit()


async def mark_failed(session: AsyncSession, mail_id: int, error: str) -> None:
    await session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(claimed_until=None, last_error=error[:500])
    )
    await session.commit()


async def unsent(session: AsyncSession, *, older_than: datetime, now: datetime) -> list[int]:
    """Messages whose request may have been lost: unsent, not claimed, attempts left."""
    rows = await session.scalars(
        select(OutgoingMail.id)
        .where(
            and_(
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.created_at < older_than,
                OutgoingMail.attempts < MAX_ATTEMPTS,
                or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now),
            )
        )
        .order_by(OutgoingMail.id)
        .limit(1000)
    )
    return list(rows)
