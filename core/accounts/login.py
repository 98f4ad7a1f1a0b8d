"""Logging in: the password is checked only once the throttle granted the attempt (core.accounts.throttle).

An attempt counts against the address it comes from and the account it names. A browser that logged in to
the account before (its signed device cookie, recorded in known_devices) counts against a budget of its own
instead: a stranger's guesses, however many, delay the stranger and never lock the owner out.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import passwords
from core.accounts import throttle
from core.accounts.throttle import ThrottlePolicy
from core.db_dialect import upsert
from core.errors import NotAuthenticated, Throttled
from core.models import AccountStatus, KnownDevice, User
from core.services import audit
from core.settings import HttpSettings


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    account: ThrottlePolicy  # also each known device's own budget
    address: ThrottlePolicy  # higher: a household or office behind one address shares it

    @classmethod
    def of(cls, http: HttpSettings) -> LoginPolicy:
        def policy(limit: int) -> ThrottlePolicy:
            return ThrottlePolicy(limit, http.login_delay_seconds, http.login_lockout_seconds)

        return cls(account=policy(http.login_max_failures), address=policy(http.login_address_max_failures))


def address_bucket(ip: str | None) -> str | None:
    """What login failures are counted under: an IPv4 address, or an IPv6 /64 (one host can use all of it)."""
    if ip is None:
        return None
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    login: str
    password: str
    address: str | None  # the client's address
    device_id: str | None  # from the signed device cookie; None without one
    now: datetime


@dataclass(frozen=True, slots=True)
class _Key:
    key: str
    policy: ThrottlePolicy
    refused_code: str
    per_account: bool  # cleared by the right password (an address only gets its slot back)


def _wrong() -> NotAuthenticated:
    return NotAuthenticated("wrong email/username or password", code="invalid_credentials")


async def _find(session: AsyncSession, login: str) -> User | None:
    login = login.strip().lower()
    return await session.scalar(
        select(User).where((func.lower(User.email) == login) | (func.lower(User.username) == login))
    )


async def _known_device(session: AsyncSession, user_id: int, device_id: str | None) -> bool:
    if device_id is None:
        return False
    found = await session.scalar(
        select(KnownDevice.user_id).where(KnownDevice.user_id == user_id, KnownDevice.device_id == device_id)
    )
    return found is not None


async def _remember_device(session: AsyncSession, user_id: int, device_id: str, now: datetime) -> None:
    statement = upsert(session, KnownDevice).values(user_id=user_id, device_id=device_id, last_login_at=now)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["user_id", "device_id"], set_={"last_login_at": now})
    )


def _keys(user_id: int | None, known_device: bool, attempt: LoginAttempt, policy: LoginPolicy) -> list[_Key]:
    if user_id is not None and known_device and attempt.device_id is not None:
        return [_Key(throttle.device_key(user_id, attempt.device_id), policy.account, "account_locked", True)]
    keys = []
    if attempt.address is not None:
        keys.append(_Key(throttle.address_key(attempt.address), policy.address, "login_throttled", False))
    if user_id is not None:
        keys.append(_Key(throttle.account_key(user_id), policy.account, "account_locked", True))
    return keys


async def log_in(session: AsyncSession, attempt: LoginAttempt, policy: LoginPolicy) -> User:
    found = await _find(session, attempt.login)
    known = found is not None and await _known_device(session, found.id, attempt.device_id)
    user_id = found.id if found is not None else None
    password_hash = found.password_hash if found is not None else None
    await session.rollback()  # each slot below is a short write of its own, never behind this read
    keys = _keys(user_id, known, attempt, policy)

    taken: list[_Key] = []
    delays_begin = False
    for key in keys:
        slot = await throttle.take_attempt(session, key.key, key.policy, attempt.now)
        if not slot.granted:
            for earlier in taken:  # no password was checked: nothing to count
                await throttle.give_back(session, earlier.key, earlier.policy)
            raise Throttled(
                f"too many failed logins: try again in {slot.retry_after} seconds",
                retry_after=slot.retry_after,
                code=key.refused_code,
            )
        delays_begin = delays_begin or (slot.reaches_limit and key.per_account)
        taken.append(key)

    valid = await passwords.verify_password(attempt.password, password_hash)
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None or not valid:
        if user is not None and delays_begin:
            audit.record(
                session,
                actor_id=None,
                action="user.login_delayed",
                target_type="user",
                target_id=user.id,
                details={"failures": policy.account.limit, "known_device": known},
            )
            await session.commit()
        raise _wrong()

    await throttle.clear(session, *[key.key for key in taken if key.per_account])
    if user.status == AccountStatus.BANNED:
        await session.commit()
        raise NotAuthenticated("this account is banned", code="account_banned")
    if attempt.device_id is not None:
        await _remember_device(session, user.id, attempt.device_id, attempt.now)
    user.last_login_at = attempt.now
    if passwords.needs_rehash(user.password_hash):  # parameters were raised since this hash was made
        user.password_hash = await passwords.hash_password(attempt.password)
    await session.commit()
    for key in taken:
        if not key.per_account:
            await throttle.give_back(session, key.key, key.policy)  # the address's failures stay counted
    return user
