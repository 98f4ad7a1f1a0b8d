"""Changes a signed-in owner makes to their account: the password, the address (confirmed by mail before it
counts), becoming a contestant. The password and address changes ask for the current password, throttled
like a login, so a borrowed session alone cannot take the account over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import passwords
from core.accounts import messages, throttle
from core.accounts.sessions import end_sessions
from core.accounts.signup import REPEAT_SECONDS, Links, send_verification
from core.accounts.throttle import ThrottlePolicy
from core.errors import InvalidInput, NotFound, Throttled
from core.mail.outbox import sent_recently
from core.models import Role, User, UserRole
from core.services import audit, users


async def _owner(session: AsyncSession, user_id: int) -> User:
    user = await users.get_active_user(session, user_id)
    if user is None:
        raise NotFound("no such account", code="user_not_found")
    return user


async def _check_password(
    session: AsyncSession, user_id: int, password: str, *, now: datetime, policy: ThrottlePolicy
) -> User:
    """The account, once ``password`` is its current one; wrong guesses are slowed like logins."""
    key = throttle.account_key(user_id)
    slot = await throttle.take_attempt(session, key, policy, now)
    if not slot.granted:
        raise Throttled(
            f"too many wrong passwords: try again in {slot.retry_after} seconds",
            retry_after=slot.retry_after,
            code="account_locked",
        )
    user = await _owner(session, user_id)
    if not await passwords.verify_password(password, user.password_hash):
        raise InvalidInput("your current password is not this one", code="wrong_password")
    await throttle.clear(session, key)
    return user


async def change_password(
    session: AsyncSession,
    *,
    user_id: int,
    current: str,
    new: str,
    now: datetime,
    links: Links,
    policy: ThrottlePolicy,
) -> list[str]:
    """Set a new password; every session of the account ends (the caller starts a new one for this
    browser). Returns the ended sessions' ids. Commits."""
    user = await _check_password(session, user_id, current, now=now, policy=policy)
    problem = passwords.password_problem(new, username=user.username, email=user.email)
    if problem:
        await session.commit()  # the cleared throttle stands; nothing else was written
        raise InvalidInput(problem, code="weak_password")
    user.password_hash = await passwords.hash_password(new)
    ended = await end_sessions(session, user.id)
    audit.record(
        session,
        actor_id=user.id,
        action="user.password_changed",
        target_type="user",
        target_id=user.id,
        details={"sessions_ended": len(ended)},
    )
    await messages.post(session, user.email, messages.password_changed(links.mail, username=user.username))
    await session.commit()
    return ended


async def change_email(
    session: AsyncSession,
    *,
    user_id: int,
    password: str,
    new_email: str,
    now: datetime,
    links: Links,
    policy: ThrottlePolicy,
) -> None:
    """Mail a confirmation link to the new address; the account moves to it when the link is opened. An
    address that has an account gets a note instead, and the answer is the same. Commits."""
    new_email = users.normalize_email(new_email)
    user = await _check_password(session, user_id, password, now=now, policy=policy)
    if new_email.lower() == user.email.lower():
        await session.commit()
        raise InvalidInput("this is already your address", code="same_email")
    holder = await users.find_by_email(session, new_email)
    since = now - timedelta(seconds=REPEAT_SECONDS)
    if holder is None:
        await send_verification(session, user, email=new_email, now=now, links=links)
    elif not await sent_recently(session, to=new_email, kind="address_taken", since=since):
        await messages.post(session, new_email, messages.address_taken(links.mail))
    audit.record(
        session,
        actor_id=user.id,
        action="user.email_change_requested",
        target_type="user",
        target_id=user.id,
        details={},  # not the address: the audit log must not tell which addresses have accounts
    )
    await session.commit()


async def become_contestant(session: AsyncSession, *, user_id: int) -> User:
    """Add the contestant role to one's own account (no second account needed). Commits."""
    user = await _owner(session, user_id)
    if not user.has_role(Role.CONTESTANT):
        user.role_rows.append(UserRole(role=Role.CONTESTANT.value))
        audit.record(
            session,
            actor_id=user.id,
            action="user.become_contestant",
            target_type="user",
            target_id=user.id,
            details={"roles": sorted(user.roles)},
        )
    await session.commit()
    return user
