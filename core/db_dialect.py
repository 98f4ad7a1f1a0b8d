"""What differs between PostgreSQL and the embedded SQLite for statements built through SQLAlchemy Core.

The connection-level differences (engine options, the plain asyncpg pool) live in ``core.db``; the vote
writer is chosen once at startup in ``core.votes.writers``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert_for(dialect: str, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support (both dialects spell it alike, from different classes)."""
    factory = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return factory(table)


def upsert(session: AsyncSession, table: Any) -> Any:
    return upsert_for(session.get_bind().dialect.name, table)
