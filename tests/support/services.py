"""Finds the real PostgreSQL and Redis the integration tests run against, or falls back to the embedded mode.

With CI=true a missing service fails the run: CI must prove the production backends, not skip them.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis

POSTGRES_ADMIN_DSN = os.environ.get("OVATION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OVATION_TEST_REDIS", "redis://127.0.0.1:6379/15")
# Both overridable so that two checkouts can run their suites side by side.
TEST_DATABASE = os.environ.get("OVATION_TEST_DATABASE", "ovation_test")


@dataclass(frozen=True)
class Backends:
    database_url: str  # SQLAlchemy URL
    redis_url: str  # empty in embedded mode
    data_dir: Path
    production: bool
    postgres_admin_dsn: str | None


def _postgres_reachable() -> bool:
    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


async def recreate_database(name: str) -> str:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


def discover() -> Backends:
    data_dir = Path(tempfile.mkdtemp(prefix="ovation-tests-"))
    postgres, cache = _postgres_reachable(), _redis_reachable()
    if postgres and cache:
        url = asyncio.run(recreate_database(TEST_DATABASE))
        redis.Redis.from_url(REDIS_URL).flushdb()
        return Backends(url, REDIS_URL, data_dir, True, POSTGRES_ADMIN_DSN)
    missing = [name for name, ok in (("PostgreSQL", postgres), ("Redis", cache)) if not ok]
    message = f"{' and '.join(missing)} unreachable ({POSTGRES_ADMIN_DSN}, {REDIS_URL})"
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(f"{message}: CI must run against the real services")
    print(
        f"\n*** {message}: running the integration tests on the embedded backends (SQLite, file broker) ***\n"
    )
    return Backends(f"sqlite+aiosqlite:///{data_dir / 'ovation.sqlite3'}", "", data_dir, False, None)
