"""Finding accounts: the admin's user search (by name or address, role and status)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import User, UserRole


def _like_pattern(text: str) -> str:
    # The search text is matched literally: % and _ typed by the admin are not wildcards.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def search_users(
    session: AsyncSession,
    *,
    query: str | None,
    role: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> Sequence[User]:
    """Accounts whose username or email contains ``query`` (any case), newest first; an all-digits query
    also finds the account with that id."""
    statement = select(User).order_by(User.id.desc())
    text = (query or "").strip()
    if text:
        pattern = _like_pattern(text)
        matches = (func.lower(User.username).like(pattern, escape="\\")) | (
            func.lower(User.email).like(pattern, escape="\\")
        )
        if text.isdigit() and len(text) <= 9:
            matches = matches | (User.id == int(text))
        statement = statement.where(matches)
    if role:
        statement = statement.where(
            select(UserRole.user_id).where(UserRole.user_id == User.id, UserRole.role == role).exists()
        )
    if status:
        statement = statement.where(User.status == status)
    return (await session.scalars(statement.limit(limit).offset(offset))).unique().all()
