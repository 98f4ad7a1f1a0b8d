"""Dependencies shared by controllers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import Job, send_all, take_committed
from workers.app import needs_sending, send_job


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """A session per request; jobs the request asked for are sent once its transaction committed."""
    async with state.sessionmaker() as session:
        yield session
        jobs = take_committed(session)
    await send_jobs(jobs)


async def send_jobs(jobs: Iterable[Job]) -> None:
    """Send jobs whose transaction committed; debounced ones this process just sent cost nothing."""
    due = [job for job in jobs if needs_sending(job)]
    if due:
        # Sending talks to the broker synchronously: keep it off the event loop.
        await asyncio.to_thread(send_all, due, send_job)
