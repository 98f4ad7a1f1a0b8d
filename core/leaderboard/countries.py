"""Which per-country boards a contest has: the countries its counted votes come from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import VoteTally


async def countries_with_votes(session: AsyncSession, contest_id: int) -> list[str]:
    """Codes in alphabetical order; votes of unknown origin ('') have no board of their own."""
    rows = await session.scalars(
        select(VoteTally.country)
        .where(VoteTally.contest_id == contest_id, VoteTally.ballots > 0, VoteTally.country != "")
        .distinct()
        .order_by(VoteTally.country)
    )
    return list(rows.all())
