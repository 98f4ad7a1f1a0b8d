"""Integration tests: the real app, a real database migrated by Alembic, a real broker and a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from core import migrate
from core.db import create_engine, create_sessionmaker
from core.settings import Settings, get_settings
from tests.support.api import PASSWORD, Api, create_account
from tests.support.environment import BACKENDS, TEST_ENV


@pytest.fixture(scope="session")
def settings() -> Settings:
    migrate.upgrade(BACKENDS.database_url)
    return get_settings()


@pytest.fixture(scope="session")
def worker(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process consuming every queue, like production runs it."""
    log = open(BACKENDS.data_dir / "worker.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "ovation", "worker", "--concurrency", "2", "--loglevel", "INFO"],
        env={**os.environ, **TEST_ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_worker(process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for_worker(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import asyncio

    from core.services import ops

    async def seen() -> bool:
        engine = create_engine(get_settings().database, pooled=False)
        try:
            async with create_sessionmaker(engine)() as session:
                return any(f":{process.pid}" in beat.name for beat in await ops.heartbeats(session))
        finally:
            await engine.dispose()

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}; see {BACKENDS.data_dir}/worker.log")
        if asyncio.run(seen()):
            return
        time.sleep(0.3)
    raise RuntimeError(f"worker did not report in within {timeout}s; see {BACKENDS.data_dir}/worker.log")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings.database, pooled=False)
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
async def api(app: Any) -> AsyncIterator[Api]:
    async with AsyncTestClient(app=app) as client:
        yield Api(client)


@pytest.fixture
async def make_api(settings: Settings) -> AsyncIterator[Any]:
    """Several independent clients, each with its own cookies and its own app instance (the test client runs
    each app on its own event loop; like several API processes, they share the database and the stores)."""
    clients: list[AsyncTestClient[Any]] = []

    async def make() -> Api:
        client = AsyncTestClient(app=create_app(settings))
        await client.__aenter__()
        clients.append(client)
        return Api(client)

    yield make
    for client in clients:
        await client.__aexit__(None, None, None)


@pytest.fixture
async def admin_api(make_api: Any, db: AsyncSession) -> Api:
    name, _ = await create_account(db, "admin")
    client: Api = await make_api()
    response = await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client
