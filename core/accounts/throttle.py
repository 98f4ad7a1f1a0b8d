"""Login throttling that stays exact under parallel attempts, on PostgreSQL and SQLite alike.

Each attempt first takes a slot for its key (an account, an address, an account on one of its known devices)
in one atomic upsert, and only then is its password checked. Below the limit a slot is free; from the limit
on, each slot also sets the time before which the next one is refused, and that delay doubles with every
further failure up to a ceiling. Because the slot and the next delay are written by the same statement,
parallel guesses are checked exactly as often as the limit allows, however many arrive at once. A correct
password clears the account's record (an address only gets its slot back: failures stay counted). A key's
record is forgotten after a day without attempts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, delete, literal, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db_dialect import upsert
from core.models import LoginThrottle
from core.models.base import UtcDateTime

FORGET_AFTER = timedelta(days=1)
_TABLE = cast(Table, LoginThrottle.__table__)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    limit: int  # failures allowed before delays begin
    first_delay_seconds: float
    longest_delay_seconds: float

    def delays(self) -> list[float]:
        """The delay after the limit-th failure, the next one, ... up to and including the longest."""
        steps, delay = [], max(self.first_delay_seconds, 1.0)
        while delay < self.longest_delay_seconds:
            steps.append(delay)
            delay *= 2
        steps.append(max(self.longest_delay_seconds, 1.0))
        return steps


def account_key(user_id: int) -> str:
    return f"account:{user_id}"


def address_key(address: str) -> str:
    return f"address:{address}"


def device_key(user_id: int, device_id: str) -> str:
    return f"device:{user_id}:{device_id}"


def _block_after(failures: Any, policy: ThrottlePolicy, now: datetime) -> Any:
    """SQL: when the next attempt is allowed after ``failures`` failures (NULL below the limit). Built as a
    CASE over the few steps of the ladder, which both databases evaluate the same way."""
    delays = policy.delays()
    steps = [
        (failures == policy.limit + index, literal(now + timedelta(seconds=delay), UtcDateTime()))
        for index, delay in enumerate(delays[:-1])
    ]
    longest = literal(now + timedelta(seconds=delays[-1]), UtcDateTime())
    return case((failures < policy.limit, null()), *steps, else_=longest)


def _first_block(policy: ThrottlePolicy, now: datetime) -> datetime | None:
    return now + timedelta(seconds=policy.delays()[0]) if policy.limit <= 1 else None


@dataclass(frozen=True, slots=True)
class Slot:
    granted: bool
    retry_after: int = 0  # seconds to wait, when refused
    reaches_limit: bool = False  # granted as the limit-th failure in a row: delays begin after it


async def take_attempt(session: AsyncSession, key: str, policy: ThrottlePolicy, now: datetime) -> Slot:
    """Take one attempt's slot for ``key`` and commit."""
    column = _TABLE.c
    forgotten = column.updated_at < bindparam("forget_before", now - FORGET_AFTER, type_=UtcDateTime())
    failures = case((forgotten, 1), else_=column.failures + 1)
    insert = upsert(session, _TABLE)
    statement = (
        insert.values(key=key, failures=1, blocked_until=_first_block(policy, now), updated_at=now)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": failures,
                "blocked_until": _block_after(failures, policy, now),
                "updated_at": now,
            },
            where=or_(forgotten, column.blocked_until.is_(None), column.blocked_until <= now),
        )
        .returning(column.failures)
    )
    granted = (await session.execute(statement)).first()
    blocked_until = None
    if granted is None:
        blocked_until = await session.scalar(
            select(LoginThrottle.blocked_until).where(LoginThrottle.key == key)
        )
    await session.commit()
    if granted is not None:
        return Slot(True, reaches_limit=int(granted[0]) == policy.limit)
    return Slot(
        False, retry_after=max(1, math.ceil((blocked_until - now).total_seconds())) if blocked_until else 1
    )


async def give_back(session: AsyncSession, key: str, policy: ThrottlePolicy) -> None:
    """Return a slot whose attempt checked no password, or proved the right one (an address's slot)."""
    column = _TABLE.c
    await session.execute(
        update(_TABLE)
        .where(and_(column.key == key, column.failures > 0))
        .values(
            failures=column.failures - 1,
            blocked_until=case((column.failures - 1 < policy.limit, null()), else_=column.blocked_until),
        )
    )
    await session.commit()


async def clear(session: AsyncSession, *keys: str) -> None:
    """Forget a key's failures: its owner proved the password."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


async def clear_account(session: AsyncSession, user_id: int) -> None:
    """Forget an account's failures, on every device of it (in the caller's transaction)."""
    await session.execute(
        delete(LoginThrottle).where(
            (LoginThrottle.key == account_key(user_id))
            | LoginThrottle.key.startswith(f"device:{user_id}:", autoescape=True)
        )
    )


async def delayed_accounts(
    session: AsyncSession, user_ids: list[int], *, now: datetime
) -> dict[int, datetime]:
    """Of these accounts, those whose logins must wait now (after failures), and until when."""
    if not user_ids:
        return {}
    keys = {account_key(user_id): user_id for user_id in user_ids}
    rows = await session.execute(
        select(LoginThrottle.key, LoginThrottle.blocked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.blocked_until > now
        )
    )
    return {keys[key]: until for key, until in rows if until is not None}
