"""A forgotten password: a reset link by mail, then a new password that ends every session of the account.

Asking for a link answers the same for any address; only an active account's address gets mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import passwords
from core.accounts import messages, throttle, tokens
from core.accounts.sessions import end_sessions
from core.accounts.signup import REPEAT_SECONDS, Links
from core.errors import InvalidInput
from core.mail.outbox import sent_recently
from core.models import TokenPurpose, User
from core.services import audit, users


@dataclass(frozen=True, slots=True)
class PasswordReset:
    user_id: int
    ended_sessions: list[str]  # ids of the sessions that were signed out


async def request_reset(session: AsyncSession, *, email: str, now: datetime, links: Links) -> None:
    """Mail a reset link to an active account's address; for any other address, nothing. Commits."""
    email = users.normalize_email(email)
    user = await users.find_by_email(session, email)
    since = now - timedelta(seconds=REPEAT_SECONDS)
    if (
        user is not None
        and user.is_active
        and not await sent_recently(session, to=user.email, kind="reset_password", since=since)
    ):
        token = await tokens.issue(
            session,
            user_id=user.id,
            purpose=TokenPurpose.RESET_PASSWORD,
            email=user.email,
            lifetime=timedelta(minutes=links.mail.reset_link_minutes),
            now=now,
            secret=links.secret,
        )
        message = messages.reset_password(links.mail, username=user.username, token=token)
        await messages.post(session, user.email, message)
    await session.commit()


async def reset_password(
    session: AsyncSession, *, token: str, password: str, now: datetime, links: Links
) -> PasswordReset:
    """Set a new password with a reset link. A weak password is refused before the link is used, so the
    same link works for a second try; the change, the link's use and the sessions' end commit together."""
    purpose = TokenPurpose.RESET_PASSWORD
    link = await tokens.peek(session, token=token, purpose=purpose, now=now, secret=links.secret)
    user = await session.get(User, link.user_id)
    if user is None or not user.is_active:
        raise InvalidInput("this link's account cannot log in any more", code="link_invalid")
    problem = passwords.password_problem(password, username=user.username, email=user.email)
    if problem:
        raise InvalidInput(problem, code="weak_password")
    password_hash = await passwords.hash_password(password)
    await tokens.use(session, token=token, purpose=purpose, now=now, secret=links.secret)
    user.password_hash = password_hash
    if link.email.lower() == user.email.lower():
        user.email_verified = True  # the link reached the account's address: that proves it
    ended = await end_sessions(session, user.id)
    await throttle.clear_account(session, user.id)  # the owner proved the mailbox: no delay left
    audit.record(
        session,
        actor_id=user.id,
        action="user.password_reset",
        target_type="user",
        target_id=user.id,
        details={"sessions_ended": len(ended)},
    )
    await session.commit()
    return PasswordReset(user.id, ended)
