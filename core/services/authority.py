"""Who may act on whom. Roles are ordered voter < contestant < moderator < admin, and an account ranks as the
highest role it holds. An actor acts only on accounts ranked below its own, never on itself. Admins, the top
role, may also act on other admins (someone has to be able to remove one); the last admin stays (lock_admins).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db_dialect import is_postgresql
from core.errors import Forbidden, NotAuthenticated
from core.models import AccountStatus, Role, User, UserRole

ROLE_ORDER = (Role.VOTER, Role.CONTESTANT, Role.MODERATOR, Role.ADMIN)
_RANK = {role.value: index for index, role in enumerate(ROLE_ORDER)}


def rank(roles: Iterable[str]) -> int:
    return max((_RANK[role] for role in roles if role in _RANK), default=0)


def top_role(roles: Iterable[str]) -> str:
    return ROLE_ORDER[rank(roles)].value


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def check_may_act_on(actor: User, target: User, action: str) -> None:
    """Raise unless ``actor`` may ``action`` (a verb: "ban", "judge the votes of") ``target``."""
    if actor.id == target.id:
        raise Forbidden(f"you cannot {action} your own account", code="own_account")
    actor_rank, target_rank = rank(actor.roles), rank(target.roles)
    if target_rank >= actor_rank and actor_rank < _RANK[Role.ADMIN]:
        raise Forbidden(
            f"{_a(top_role(actor.roles))} cannot {action} {_a(top_role(target.roles))}; ask an admin",
            code="outranked",
            extra={"user_id": target.id, "role": top_role(target.roles)},
        )


async def load_actor(session: AsyncSession, actor_id: int) -> User:
    """The acting account as the database has it now (roles may have changed since the session was read)."""
    actor = await session.get(User, actor_id)
    if actor is None or actor.status != AccountStatus.ACTIVE:
        raise NotAuthenticated("log in first", code="not_authenticated")
    return actor


async def lock_admins(session: AsyncSession) -> None:
    """Take the admins' rows before loading the actor and the target of a change that could remove an admin.

    Nobody acts on their own account, so an admin is only ever removed by another one; the last one would
    go only if two admins removed each other at the same moment. Here the second waits for the first to
    commit, then loads itself, no longer an admin, and is refused. PostgreSQL locks the rows in id order;
    SQLite has one writer, so an UPDATE that changes nothing takes its write lock (Python's sqlite3 only
    opens a transaction before a write, so reads before it would not hold one)."""
    admins = select(UserRole.user_id).where(UserRole.role == Role.ADMIN.value)
    if is_postgresql(session):
        await session.execute(select(User.id).where(User.id.in_(admins)).order_by(User.id).with_for_update())
    else:
        no_change = update(User).where(User.id.in_(admins)).values(status=User.status)
        await session.execute(no_change.execution_options(synchronize_session=False))
