"""Integration tests: the real app, a real database migrated by Alembic, a real broker and a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from core import migrate
from core.db import create_engine, create_sessionmaker
from core.models import User, UserRole
from core.passwords import hash_password_sync
from core.settings import Settings, get_settings
from tests.integration.geoip_files import write_geoip_databases
from tests.integration.services import Backends, discover

BACKENDS: Backends = discover()
GEOIP_CITY, GEOIP_ASN = write_geoip_databases(BACKENDS.data_dir / "geoip")

OPERATOR_TOKEN = "operator-token-for-the-tests-0123456789"

# The settings are read once per process, at the first get_settings() (no module reads them on import).
TEST_ENV = {
    "OVATION_DATABASE_URL": BACKENDS.database_url,
    "OVATION_REDIS_URL": BACKENDS.redis_url,
    "OVATION_DATA_DIR": str(BACKENDS.data_dir),
    "OVATION_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    # Tests share one client address; rate limits have their own tests with their own app.
    "OVATION_RATE_LIMIT_PER_MINUTE": "1000000",
    "OVATION_CREDENTIAL_RATE_LIMIT_PER_MINUTE": "1000000",
    "OVATION_LOG_LEVEL": "WARNING",
    "OVATION_VOTE_RATE_LIMIT_PER_MINUTE": "1000000",
    # Tests change accounts behind the API's back and expect the next request to see it.
    "OVATION_AUTH_CACHE_SECONDS": "0",
    "OVATION_GEOIP_CITY_DB": str(GEOIP_CITY),
    "OVATION_GEOIP_ASN_DB": str(GEOIP_ASN),
    # The test client's peer is called "testclient": trusting it lets tests choose the voter's address with
    # X-Forwarded-For, the way a reverse proxy would pass it on.
    "OVATION_TRUSTED_PROXIES": "testclient",
    # /ready's details and /metrics: the tests call them as an operator with this token.
    "OVATION_OPERATOR_TOKEN": OPERATOR_TOKEN,
}
os.environ.update(TEST_ENV)


PASSWORD = "a-long-test-passphrase-42"


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


@dataclass
class Api:
    """A browser-like client: keeps its cookies and sends the CSRF token back like the web pages do."""

    client: AsyncTestClient[Any]

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if method not in {"GET", "HEAD", "OPTIONS"}:
            token = self.client.cookies.get("csrftoken")
            if token is None:
                await self.client.get("/api/auth/csrf")
                token = self.client.cookies.get("csrftoken")
            kwargs.setdefault("headers", {}).setdefault("x-csrftoken", token)
        return await self.client.request(method, path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Any:
        return await self.request("PATCH", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Any:
        return await self.request("PUT", path, **kwargs)

    async def register(self, *, roles: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
        """Sign up and log in; returns the account as /api/auth/login answers it."""
        name = unique_name()
        body = {"email": f"{name}@example.com", "username": name, "password": PASSWORD, "roles": roles or []}
        body.update(overrides)
        response = await self.post("/api/auth/register", json=body)
        assert response.status_code == 202, response.text
        # Signing up does not log in (its answer must not depend on whether the address had an account):
        # the new account logs in with its password, its address still unconfirmed.
        login = {"login": body["username"], "password": body["password"]}
        logged_in = await self.post("/api/auth/login", json=login)
        assert logged_in.status_code == 200, logged_in.text
        result: dict[str, Any] = logged_in.json()
        return result


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


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


_PASSWORD_HASH = hash_password_sync(PASSWORD)


async def create_account(session: AsyncSession, *roles: str) -> tuple[str, int]:
    """An account made directly (registration has its own tests), sharing one password hash for speed."""
    name = unique_name()
    user = User(
        email=f"{name}@example.com",
        username=name,
        password_hash=_PASSWORD_HASH,
        email_verified=True,
        role_rows=[UserRole(role=role) for role in {"voter", *roles}],
    )
    session.add(user)
    await session.commit()
    return name, user.id


@pytest.fixture
async def admin_api(make_api: Any, db: AsyncSession) -> Api:
    name, _ = await create_account(db, "admin")
    client: Api = await make_api()
    response = await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client
