"""Operational facts: worker heartbeats and readiness."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import HttpSession, WorkerHeartbeat


async def record_heartbeat(session: AsyncSession, *, name: str, now: datetime) -> None:
    await session.merge(WorkerHeartbeat(name=name, seen_at=now))
    await session.commit()


async def heartbeats(session: AsyncSession) -> Sequence[WorkerHeartbeat]:
    return (await session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.name))).all()


async def database_reachable(session: AsyncSession) -> bool:
    await session.execute(text("SELECT 1"))
    return True


async def purge_expired_sessions(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(HttpSession).where(HttpSession.expires_at < now))
    await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
