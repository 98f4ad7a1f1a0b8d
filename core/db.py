"""Engines and sessions. One engine per process and event loop: never share a pooled engine across loops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from core.settings import DatabaseSettings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked; WAL lets the API read while a worker writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: DatabaseSettings, *, pooled: bool = True) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(settings.url, echo=settings.echo, poolclass=NullPool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if not pooled:
        return create_async_engine(settings.url, echo=settings.echo, poolclass=NullPool)
    # No pre-ping: it costs a transaction (three round trips) per checkout, about a third of the vote
    # path. A connection that died is invalidated by SQLAlchemy on first error; recycling bounds age.
    # No overflow: overflow connections are closed on return, and under steady load that means a new
    # connection (with its type-codec set-up queries) for many requests. Callers wait for a pooled one.
    return create_async_engine(
        settings.url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=0,
        pool_recycle=1800,
        pool_timeout=10,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def keep_session_state(connection: asyncpg.Connection) -> None:
    """A pool ``reset`` that adds nothing: on release asyncpg already rolls back an open transaction, and its
    default reset query (UNLISTEN, RESET ALL, ...) would cost one more round trip per use. Users of the pool
    run plain statements and change no session state."""


async def create_raw_pool(settings: DatabaseSettings) -> asyncpg.Pool | None:
    """A plain asyncpg pool for the hottest paths (casting a vote, reading a login session), or None off
    PostgreSQL. Each call there is one round trip; through the ORM session the same work costs a BEGIN and a
    ROLLBACK or COMMIT around it, and several times the CPU."""
    url = make_url(settings.url)
    if url.get_backend_name() != "postgresql":
        return None
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.create_pool(
        dsn,
        min_size=0,  # connect on first use: the API starts (and answers 503s) while the database is down
        max_size=settings.pool_size,
        reset=keep_session_state,
        max_inactive_connection_lifetime=300,
    )


@dataclass(frozen=True, slots=True)
class Database:
    """The API process's engine, its sessions, and the plain pool (None off PostgreSQL)."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    raw_pool: asyncpg.Pool | None

    async def close(self) -> None:
        if self.raw_pool is not None:
            await self.raw_pool.close()
        await self.engine.dispose()


async def open_database(settings: DatabaseSettings) -> Database:
    engine = create_engine(settings)
    return Database(engine, create_sessionmaker(engine), await create_raw_pool(settings))
