"""Signing up and confirming the address.

The answer to a sign-up is the same whether or not the address already has an account: a new address gets a
confirmation link, a known one a message saying it already has an account. The password is hashed before
anything is looked up, so both take as long. Usernames are public (they sign songs), so a taken one is said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import passwords
from core.accounts import messages, tokens
from core.errors import Conflict, InvalidInput
from core.mail.outbox import sent_recently
from core.models import Role, TokenPurpose, User, UserRole
from core.services import audit, users
from core.settings import MailSettings

# A second message of one kind to one address within this long is not sent (the answer is the same): a
# stranger cannot fill someone's mailbox by asking again and again.
REPEAT_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Links:
    """What a mailed link needs: where the pages are, how long links live, the key that signs them."""

    mail: MailSettings
    secret: str


def _taken_username() -> Conflict:
    return Conflict("this username is taken: choose another", code="username_taken")


async def sign_up(
    session: AsyncSession,
    *,
    email: str,
    username: str,
    password: str,
    roles: Iterable[str],
    now: datetime,
    links: Links,
) -> None:
    """Create an unconfirmed account and mail its link, or mail the owner of the address; commits."""
    email = users.normalize_email(email)
    username = users.check_username(username)
    role_set = users.check_roles(roles, allowed=frozenset(users.SELF_SERVICE_ROLES)) | {Role.VOTER.value}
    problem = passwords.password_problem(password, username=username, email=email)
    if problem:
        raise InvalidInput(problem, code="weak_password")
    password_hash = await passwords.hash_password(password)
    if await users.username_taken(session, username):  # first: its answer must not depend on the address
        raise _taken_username()
    owner = await users.find_by_email(session, email)
    if owner is None:
        user = User(
            email=email,
            username=username,
            password_hash=password_hash,
            email_verified=False,
            created_at=now,
            role_rows=[UserRole(role=role) for role in sorted(role_set)],
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:  # a parallel sign-up took the address or the name: the unique index decides
            await session.rollback()
            owner = await users.find_by_email(session, email)
            if owner is None:
                raise _taken_username() from None
    if owner is not None:
        await _tell_owner(session, owner, now=now, links=links)
    else:
        audit.record(
            session,
            actor_id=user.id,
            action="user.sign_up",
            target_type="user",
            target_id=user.id,
            details={"roles": sorted(role_set)},
        )
        await send_verification(session, user, email=user.email, now=now, links=links)
    await session.commit()


async def send_verification(
    session: AsyncSession, user: User, *, email: str, now: datetime, links: Links
) -> None:
    """Mail a link that confirms ``email`` for the account (its own, or the one it moves to)."""
    token = await tokens.issue(
        session,
        user_id=user.id,
        purpose=TokenPurpose.VERIFY_EMAIL,
        email=email,
        lifetime=timedelta(hours=links.mail.verify_link_hours),
        now=now,
        secret=links.secret,
    )
    message = messages.verify_email(links.mail, username=user.username, email=email, token=token)
    await messages.post(session, email, message)


async def _tell_owner(session: AsyncSession, owner: User, *, now: datetime, links: Links) -> None:
    since = now - timedelta(seconds=REPEAT_SECONDS)
    if await sent_recently(session, to=owner.email, kind="account_exists", since=since):
        return
    verify_token = None
    if not owner.email_verified:
        verify_token = await tokens.issue(
            session,
            user_id=owner.id,
            purpose=TokenPurpose.VERIFY_EMAIL,
            email=owner.email,
            lifetime=timedelta(hours=links.mail.verify_link_hours),
            now=now,
            secret=links.secret,
        )
    message = messages.account_exists(links.mail, username=owner.username, verify_token=verify_token)
    await messages.post(session, owner.email, message)


async def resend_verification(session: AsyncSession, *, email: str, now: datetime, links: Links) -> None:
    """Mail a new link to an unconfirmed account's address; for any other address, nothing. Commits."""
    email = users.normalize_email(email)
    user = await users.find_by_email(session, email)
    since = now - timedelta(seconds=REPEAT_SECONDS)
    if (
        user is not None
        and user.is_active
        and not user.email_verified
        and not await sent_recently(session, to=user.email, kind="verify_email", since=since)
    ):
        await send_verification(session, user, email=user.email, now=now, links=links)
    await session.commit()


async def verify_email(session: AsyncSession, *, token: str, now: datetime, links: Links) -> User:
    """Use a confirmation link: the address it was sent to becomes the account's, confirmed. Commits."""
    link = await tokens.use(
        session, token=token, purpose=TokenPurpose.VERIFY_EMAIL, now=now, secret=links.secret
    )
    user = await session.get(User, link.user_id)
    if user is None:  # the account was deleted (its links go with it, so this is a race)
        await session.rollback()
        raise InvalidInput("this link's account no longer exists", code="link_invalid")
    previous = user.email
    if previous.lower() != link.email.lower():
        holder = await users.find_by_email(session, link.email)
        if holder is not None and holder.id != user.id:
            await session.rollback()
            raise Conflict("this address belongs to another account now", code="email_taken")
        user.email = link.email
        notice = messages.address_changed(links.mail, username=user.username, new_email=link.email)
        await messages.post(session, previous, notice)
    user.email_verified = True
    audit.record(
        session,
        actor_id=user.id,
        action="user.email_verified",
        target_type="user",
        target_id=user.id,
        details={"email": link.email, "previous": previous}
        if previous != link.email
        else {"email": link.email},
    )
    try:
        await session.commit()
    except IntegrityError:  # another account took the address at the same moment
        await session.rollback()
        raise Conflict("this address belongs to another account now", code="email_taken") from None
    return user
