"""Ending an account's login sessions (a password reset or change): their rows go, so every API process
refuses them at once, and within its short read cache (OVATION_AUTH_CACHE_SECONDS) the one that served it."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import HttpSession


async def end_sessions(session: AsyncSession, user_id: int) -> list[str]:
    """Delete every session of the account (in the caller's transaction); returns their ids."""
    result = await session.execute(
        delete(HttpSession).where(HttpSession.user_id == user_id).returning(HttpSession.key)
    )
    return list(result.scalars())
