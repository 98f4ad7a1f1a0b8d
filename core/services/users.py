"""Accounts: creation, validation of addresses and names, roles. Logging in is core.accounts.login."""

from __future__ import annotations

import re
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import passwords
from core.errors import Conflict, InvalidInput, NotFound
from core.models import AccountStatus, Role, User, UserRole
from core.services import audit, authority

# Printable ASCII only: no control characters, no look-alikes, nothing that means something in HTML.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,32}")
SELF_SERVICE_ROLES = frozenset({Role.VOTER, Role.CONTESTANT})
ALL_ROLES = frozenset(role.value for role in Role)


def normalize_email(email: str) -> str:
    """The address in the form stored and mailed to (ASCII: an international domain in its IDNA form), or
    InvalidInput naming what is wrong. Syntax only: the verification mail proves the address works."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"email is not a valid address: {exc}", code="invalid_email") from None
    return str(checked.ascii_email or checked.normalized)


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "username must be 3 to 32 letters, digits, '.', '_' or '-'", code="invalid_username"
        )
    return username


def check_roles(roles: Iterable[str], *, allowed: frozenset[str] = ALL_ROLES) -> set[str]:
    wanted = set(roles)
    unknown = wanted - ALL_ROLES
    if unknown:
        raise InvalidInput(
            f"unknown role(s): {', '.join(sorted(unknown))}; known roles: {', '.join(sorted(ALL_ROLES))}",
            code="unknown_role",
        )
    refused = wanted - allowed
    if refused:
        raise InvalidInput(
            f"role(s) {', '.join(sorted(refused))} are granted by an admin", code="role_not_allowed"
        )
    return wanted


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    username: str,
    password: str,
    roles: Iterable[str] = (Role.VOTER,),
    email_verified: bool = False,
    actor_id: int | None = None,
) -> User:
    email = normalize_email(email)
    username = check_username(username)
    problem = passwords.password_problem(password, username=username, email=email)
    if problem:
        raise InvalidInput(problem, code="weak_password")
    role_set = check_roles(roles) | {Role.VOTER.value}

    taken = await session.scalar(
        select(User.id).where(
            (func.lower(User.email) == email.lower()) | (func.lower(User.username) == username.lower())
        )
    )
    if taken is not None:
        raise Conflict("an account with this email or username already exists", code="account_exists")

    user = User(
        email=email,
        username=username,
        password_hash=await passwords.hash_password(password),
        email_verified=email_verified,
        role_rows=[UserRole(role=role) for role in sorted(role_set)],
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        # Two registrations raced past the check above: the unique index decides.
        await session.rollback()
        raise Conflict(
            "an account with this email or username already exists", code="account_exists"
        ) from None
    audit.record(
        session,
        actor_id=actor_id if actor_id is not None else user.id,
        action="user.create",
        target_type="user",
        target_id=user.id,
        details={"roles": sorted(role_set)},
    )
    return user


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def username_taken(session: AsyncSession, username: str) -> bool:
    found = await session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    return found is not None


async def get_active_user(session: AsyncSession, user_id: int) -> User | None:
    user = await session.get(User, user_id)
    if user is None or user.status != AccountStatus.ACTIVE:
        return None
    return user


async def set_roles(session: AsyncSession, *, user_id: int, roles: Iterable[str], actor_id: int) -> User:
    role_set = check_roles(roles) | {Role.VOTER.value}
    await authority.lock_admins(session)
    actor = await authority.load_actor(session, actor_id)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("no such user", code="user_not_found")
    authority.check_may_act_on(actor, user, "change the roles of")
    previous = sorted(user.roles)
    user.role_rows = [row for row in user.role_rows if row.role in role_set] + [
        UserRole(role=role) for role in sorted(role_set - user.roles)
    ]
    audit.record(
        session,
        actor_id=actor_id,
        action="user.set_roles",
        target_type="user",
        target_id=user.id,
        details={"before": previous, "after": sorted(role_set)},
    )
    await session.commit()
    return user


async def unban(session: AsyncSession, *, user_id: int, actor_id: int, reason: str) -> User:
    """Lift a ban, saying why; the audit entry keeps the reason and the ban it lifted. Votes that were
    voided with the ban stay rejected: that was a separate decision about the votes."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("an unban needs a reason", code="reason_required")
    actor = await authority.load_actor(session, actor_id)
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update(of=User))
    if user is None:
        raise NotFound("no such user", code="user_not_found")
    authority.check_may_act_on(actor, user, "unban")
    if user.status != AccountStatus.BANNED:
        raise Conflict("this account is not banned", code="not_banned")
    audit.record(
        session,
        actor_id=actor_id,
        action="user.unban",
        target_type="user",
        target_id=user.id,
        details={"reason": reason, "ban_reason": user.ban_reason},
    )
    user.status = AccountStatus.ACTIVE
    user.ban_reason = None
    await session.commit()
    return user
