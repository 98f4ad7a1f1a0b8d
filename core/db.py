"""Engines and sessions. One engine per process and event loop: never share a pooled engine across loops."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
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
    kwargs: dict[str, Any] = {"echo": settings.echo}
    if settings.is_sqlite:
        kwargs["poolclass"] = NullPool
    elif pooled:
        # No pre-ping: it costs a transaction (three round trips) per checkout, about a third of the vote
        # path. A connection that died is invalidated by SQLAlchemy on first error; recycling bounds age.
        # No overflow: overflow connections are closed on return, and under steady load that means a new
        # connection (with its type-codec set-up queries) for many requests. Callers wait for a pooled one.
        kwargs.update(pool_size=settings.pool_size, max_overflow=0, pool_recycle=1800, pool_timeout=10)
    else:
        kwargs["poolclass"] = NullPool
    engine = create_async_engine(settings.url, **kwargs)
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
