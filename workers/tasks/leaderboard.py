"""Leaderboard queue: recompute a contest's boards; the periodic integrity check."""

from __future__ import annotations

import os

from celery import shared_task
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import RECOMPUTE_TASK, VERIFY_TASK
from core.leaderboard import compute, integrity
from core.leaderboard.cache import BoardCache, open_board_cache
from core.models import utcnow
from core.settings import get_settings
from workers.runtime import run_service, runtime

_caches: dict[tuple[int, int], BoardCache] = {}


def cache() -> BoardCache:
    """One cache client per worker process and event loop (an asyncio Redis client belongs to its loop)."""
    key = (os.getpid(), id(runtime().loop))
    if key not in _caches:
        _caches[key] = open_board_cache(get_settings())
    return _caches[key]


@shared_task(
    name=RECOMPUTE_TASK,
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def recompute(contest_id: int) -> dict[str, object]:
    result = run_service(lambda session: compute.recompute(session, cache(), contest_id, now=utcnow()))
    if result is None:
        return {"contest_id": contest_id, "missing": True}
    return {"contest_id": contest_id, "version": result.version, "changed": result.changed}


@shared_task(name=VERIFY_TASK)
def verify(contest_id: int | None = None) -> dict[str, object]:
    """Count every active board again from the votes; repair (and record) what the stored or cached board
    got wrong. With ``contest_id``, that contest only."""

    async def run(session: AsyncSession) -> list[integrity.Finding]:
        now = utcnow()
        ids = [contest_id] if contest_id else await integrity.contests_to_verify(session, now=now)
        return await integrity.verify(session, cache(), ids, now=now)

    findings = run_service(run)
    return {"repaired": [[f.contest_id, f.source, f.differences] for f in findings]}
