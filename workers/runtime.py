"""One long-lived event loop and engine per worker process (and thread), built on first use.

Celery tasks are synchronous; the domain services are async. Building the engine once per process keeps its
connection pool warm across tasks, and keying it by process id means a forked child never reuses its parent's
connections.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import create_engine, create_sessionmaker
from core.jobs import send_all, take_committed
from core.process import freeze_startup_objects
from core.settings import get_settings

T = TypeVar("T")


@dataclass
class Runtime:
    pid: int
    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]


_local = threading.local()


def runtime() -> Runtime:
    current: Runtime | None = getattr(_local, "runtime", None)
    if current is None or current.pid != os.getpid():
        loop = asyncio.new_event_loop()
        engine = create_engine(get_settings().database)
        current = Runtime(os.getpid(), loop, engine, create_sessionmaker(engine))
        _local.runtime = current
        freeze_startup_objects()
    return current


def run_service(service: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one domain service in a fresh session, then send the jobs it requested once it committed."""
    from workers.app import send_job  # late: the Celery app imports the tasks that import this module

    current = runtime()

    async def _run() -> tuple[T, list]:  # type: ignore[type-arg]
        async with current.sessionmaker() as session:
            result = await service(session)
            return result, take_committed(session)

    result, jobs = current.loop.run_until_complete(_run())
    send_all(jobs, send_job)
    return result


def shutdown() -> None:
    current: Runtime | None = getattr(_local, "runtime", None)
    if current is not None and current.pid == os.getpid():
        current.loop.run_until_complete(current.engine.dispose())
        current.loop.close()
        _local.runtime = None
