"""Login throttling: exact under parallel guesses on both databases, slower per account and per address, and
never a way to lock the owner (an admin too) out of their own browser."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import migrate
from core.accounts.throttle import address_key
from core.db import create_engine, create_sessionmaker
from core.settings import DatabaseSettings, Settings
from tests.support.api import PASSWORD, Api, create_account
from tests.support.environment import BACKENDS
from tests.support.net import free_port
from tests.support.processes import process_env
from tests.support.voting import eventually

PARALLEL_GUESSES = 18
WRONG = "wrong-guess-123"


@pytest.fixture(params=["postgresql", "sqlite"])
async def served(
    request: Any, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncSession]]:
    """A real ``ovation api`` process (uvicorn: requests really run side by side) on either database, a
    client of it, and a session on the same database."""
    env = process_env(OVATION_DATA_DIR=str(tmp_path))
    if request.param == "sqlite":
        for name in ("OVATION_DATABASE_URL", "OVATION_REDIS_URL"):  # the embedded mode
            env.pop(name, None)
        database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'ovation.sqlite3'}")
        await asyncio.to_thread(migrate.upgrade, database.url)  # Alembic runs an event loop of its own
    elif BACKENDS.production:
        database = settings.database
    else:
        pytest.skip("PostgreSQL unreachable outside CI: the embedded run covers SQLite only")
    port = free_port()
    log = (tmp_path / "api.log").open("wb")
    api = subprocess.Popen(  # noqa: ASYNC220 - started once, before the client; not awaited
        [sys.executable, "-m", "ovation", "api", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    engine = create_engine(database, pooled=False)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await eventually(lambda: _healthy(client), within=30)
            async with create_sessionmaker(engine)() as session:
                # Every test process on this machine logs in from loopback, and the contract fuzzer sends
                # wrong passwords by the hundred: this test starts with loopback's address budget unused.
                await session.execute(
                    text("DELETE FROM login_throttle WHERE key = :key"), {"key": address_key("127.0.0.1")}
                )
                await session.commit()
                yield client, session
    finally:
        api.terminate()
        api.wait(timeout=20)
        log.close()
        await engine.dispose()


async def _healthy(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/health")).status_code == 200
    except httpx.TransportError:
        return False


async def _guess(client: Api, login: str, password: str = WRONG, **headers: str) -> Any:
    return await client.post("/api/auth/login", json={"login": login, "password": password}, headers=headers)


async def test_parallel_wrong_passwords_are_checked_exactly_as_often_as_the_limit(
    served: tuple[httpx.AsyncClient, AsyncSession], settings: Settings
) -> None:
    client, db = served
    name, _ = await create_account(db)
    headers = {"x-csrftoken": (await client.get("/api/auth/csrf")).json()["csrf_token"]}
    body = {"login": name, "password": WRONG}
    answers = await asyncio.gather(
        *[client.post("/api/auth/login", json=body, headers=headers) for _ in range(PARALLEL_GUESSES)]
    )
    codes = Counter(answer.json()["code"] for answer in answers)
    assert codes == {
        "invalid_credentials": settings.http.login_max_failures,
        "account_locked": PARALLEL_GUESSES - settings.http.login_max_failures,
    }
    # Each request reads the clock when it starts, so a refused one is told the delay give or take the
    # seconds the burst took.
    waits = [int(answer.headers["retry-after"]) for answer in answers if answer.status_code == 429]
    assert all(0 < wait <= settings.http.login_delay_seconds + 1 for wait in waits), waits


async def test_the_delay_doubles_with_each_further_failure(
    api: Api, db: AsyncSession, settings: Settings
) -> None:
    name, user_id = await create_account(db)
    for _ in range(settings.http.login_max_failures):
        assert (await _guess(api, name)).status_code == 401
    first = await _guess(api, name)
    assert first.status_code == 429
    assert int(first.headers["retry-after"]) == settings.http.login_delay_seconds

    async def delay_over() -> None:
        await db.execute(
            text("UPDATE login_throttle SET blocked_until = now() - interval '1 second' WHERE key = :key"),
            {"key": f"account:{user_id}"},
        )
        await db.commit()

    await delay_over()
    assert (await _guess(api, name)).status_code == 401  # one more guess, checked
    second = await _guess(api, name)
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) == 2 * settings.http.login_delay_seconds

    await delay_over()
    right = await _guess(api, name, PASSWORD)  # the right password after the delay: in, and forgiven
    assert right.status_code == 200, right.text
    await api.post("/api/auth/logout")
    assert (await _guess(api, name)).status_code == 401


async def test_the_owners_browser_logs_in_while_a_stranger_is_held_back(
    make_api: Any, db: AsyncSession, settings: Settings
) -> None:
    name, _ = await create_account(db, "admin")
    owner: Api = await make_api()
    assert (await _guess(owner, name, PASSWORD)).status_code == 200  # this browser is now known
    assert (await owner.post("/api/auth/logout")).status_code == 204

    stranger: Api = await make_api()
    for _ in range(settings.http.login_max_failures):
        await _guess(stranger, name)
    assert (await _guess(stranger, name, PASSWORD)).json()["code"] == "account_locked"  # even the right one

    back = await _guess(owner, name, PASSWORD)
    assert back.status_code == 200, back.text
    # A forged device cookie is not the owner's browser.
    stranger.client.cookies.delete("ovation_device")
    stranger.client.cookies.set("ovation_device", "0" * 32 + "." + "0" * 32, domain="testserver.local")
    assert (await _guess(stranger, name, PASSWORD)).json()["code"] == "account_locked"

    # The known browser has a budget of its own, delayed like any other once spent.
    await owner.post("/api/auth/logout")
    for _ in range(settings.http.login_max_failures):
        assert (await _guess(owner, name)).status_code == 401
    assert (await _guess(owner, name, PASSWORD)).json()["code"] == "account_locked"


async def test_guesses_from_one_address_are_held_back_across_accounts(
    make_api: Any, db: AsyncSession, settings: Settings
) -> None:
    attacker: Api = await make_api()
    address = {"x-forwarded-for": "198.51.100.23"}
    for number in range(settings.http.login_address_max_failures):
        answer = await _guess(attacker, f"nobody-{number}", **address)
        assert answer.json()["code"] == "invalid_credentials"
    held = await _guess(attacker, "nobody-else", **address)
    assert held.status_code == 429
    assert held.json()["code"] == "login_throttled"

    name, _ = await create_account(db)
    neighbour: Api = await make_api()
    assert (
        await _guess(neighbour, name, PASSWORD, **{"x-forwarded-for": "198.51.100.24"})
    ).status_code == 200
