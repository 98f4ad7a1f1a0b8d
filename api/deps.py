"""Dependencies shared by controllers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import send_all, take_committed
from workers.app import needs_sending, send_job


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """A session per request; jobs the request asked for are sent once its transaction committed."""
    async with state.sessionmaker() as session:
        yield session
        jobs = [job for job in take_committed(session) if needs_sending(job)]
    if jobs:
        # Sending talks to the broker synchronously: keep it off the event loop.
        await asyncio.to_thread(send_all, jobs, send_job)
