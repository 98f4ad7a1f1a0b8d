"""One long-lived event loop, engine and dispatcher per worker process (and thread).

Celery tasks are synchronous; the domain services are async. Building the engine once per process keeps its
connection pool warm across tasks, and keying it by process id means a forked child never reuses its parent's
connections. A prefork child builds its runtime at ``worker_process_init``; other pools build it on first use.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from celery import current_app
from celery.signals import worker_process_init, worker_process_shutdown
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import create_engine, create_sessionmaker
from core.jobs import Job, take_committed
from core.jobs.dispatch import Dispatcher
from core.process import freeze_startup_objects
from core.settings import get_settings

T = TypeVar("T")


@dataclass
class Runtime:
    pid: int
    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher


_local = threading.local()


def runtime() -> Runtime:
    current: Runtime | None = getattr(_local, "runtime", None)
    if current is None or current.pid != os.getpid():
        settings = get_settings()
        loop = asyncio.new_event_loop()
        engine = create_engine(settings.database)
        # The worker's own app sends the follow-up jobs: it already holds the broker connection pool.
        dispatcher = Dispatcher.open(settings, celery=current_app)
        current = Runtime(os.getpid(), loop, engine, create_sessionmaker(engine), dispatcher)
        _local.runtime = current
        freeze_startup_objects()
    return current


def run_service(service: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one domain service in a fresh session, then send the jobs it requested once it committed."""
    current = runtime()

    async def _run() -> tuple[T, list[Job]]:
        async with current.sessionmaker() as session:
            result = await service(session)
            return result, take_committed(session)

    result, jobs = current.loop.run_until_complete(_run())
    current.dispatcher.send_all(jobs)
    return result


def send_jobs(jobs: list[Job]) -> int:
    """Send jobs from a task (the sweeper's re-requests); failures are logged and left to the next sweep."""
    return runtime().dispatcher.send_all(jobs)


def shutdown() -> None:
    current: Runtime | None = getattr(_local, "runtime", None)
    if current is not None and current.pid == os.getpid():
        current.loop.run_until_complete(current.engine.dispose())
        current.loop.close()
        current.dispatcher.debouncer.close()
        _local.runtime = None


@worker_process_init.connect
def _build_at_process_init(**_: Any) -> None:
    runtime()


@worker_process_shutdown.connect
def _close_at_process_exit(**_: Any) -> None:
    shutdown()
