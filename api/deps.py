"""Dependencies shared by controllers."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import Job, take_committed


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """A session per request; jobs the request asked for are sent once its transaction committed."""
    async with state.sessionmaker() as session:
        yield session
        jobs = take_committed(session)
    await send_jobs(state, jobs)


async def send_jobs(state: State, jobs: Iterable[Job]) -> None:
    """Send jobs whose transaction committed, through the process's dispatcher (built in the lifespan)."""
    await state.dispatcher.send_after_commit(jobs)
