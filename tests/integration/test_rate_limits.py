from __future__ import annotations

import asyncio
import dataclasses
import json
import time

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.app import create_app
from api.stores import FailOpenStore, RateLimitStore
from tests.support.api import Api, unique_name


async def test_credential_endpoints_are_rate_limited_per_address(settings) -> None:
    strict = dataclasses.replace(
        settings, http=dataclasses.replace(settings.http, credential_rate_limit_per_minute=3)
    )
    app = create_app(strict)
    async with AsyncTestClient(app=app) as client:
        client.blocking_portal.call(app.stores.get("credential_rate_limit").delete_all)
        api = Api(client)
        statuses = []
        for _ in range(4):
            response = await api.post(
                "/api/auth/login", json={"login": unique_name(), "password": "whatever-123"}
            )
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429]
        assert response.headers.get("retry-after") or response.headers.get("ratelimit-reset")
        # Other endpoints have their own, looser budget.
        assert (await api.get("/api/contests")).status_code == 200


async def test_general_rate_limit_answers_429_json(settings) -> None:
    strict = dataclasses.replace(settings, http=dataclasses.replace(settings.http, rate_limit_per_minute=2))
    app = create_app(strict)
    async with AsyncTestClient(app=app) as client:
        # Earlier tests came from the same test address: start this one with a clean history.
        client.blocking_portal.call(app.stores.get("rate_limit").delete_all)
        statuses = [(await client.get("/api/contests")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        last = await client.get("/api/contests")
        assert last.json()["status_code"] == 429
        assert last.json()["code"] == "rate_limited"
        assert (await client.get("/health")).status_code == 200  # probes are never limited


async def test_rate_limit_headers_count_this_request(settings) -> None:
    strict = dataclasses.replace(settings, http=dataclasses.replace(settings.http, rate_limit_per_minute=5))
    app = create_app(strict)
    async with AsyncTestClient(app=app) as client:
        client.blocking_portal.call(app.stores.get("rate_limit").delete_all)
        remaining = []
        for _ in range(3):
            response = await client.get("/api/contests")
            remaining.append(response.headers["ratelimit-remaining"])
        assert remaining == ["4", "3", "2"]
        assert response.headers["ratelimit-limit"] == "5"
        assert 0 < int(response.headers["ratelimit-reset"]) <= 60


async def test_concurrent_processes_sharing_a_limit_admit_exactly_the_limit(settings) -> None:
    # Two API processes are two Redis clients on one key. Litestar's own GET-then-SET lets both read the
    # same history and both admit; the store's one-step check-and-record must not.
    clients = [Redis.from_url(settings.broker.redis_url) for _ in range(2)]
    stores = [RateLimitStore(client, namespace="ovation").with_namespace("test_atomic") for client in clients]
    key = f"address:{unique_name()}"
    now = int(time.time())
    try:
        results = await asyncio.gather(
            *(stores[n % 2].record_request(key, now=now, window=60, limit=10) for n in range(50))
        )
        before = [json.loads(stored)["history"] if stored else [] for stored in results]
        admitted = [history for history in before if len(history) < 10]
        assert len(admitted) == 10
        assert sorted(len(history) for history in admitted) == list(range(10))
        stored_now = json.loads(await stores[0].get(key) or b"{}")
        assert len(stored_now["history"]) == 10
        assert stored_now["reset"] == now + 60
        # A new window starts once the old one is over.
        later = await stores[1].record_request(key, now=now + 61, window=60, limit=10)
        assert later is not None
        assert json.loads(later)["reset"] == now + 60
        assert len(json.loads(await stores[0].get(key) or b"{}")["history"]) == 1
    finally:
        await stores[0].delete(key)
        for client in clients:
            await client.aclose()


async def test_rate_limits_fail_open_when_redis_is_unreachable() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    store = FailOpenStore(RateLimitStore(unreachable, namespace="ovation"))
    try:
        assert await store.record_request("address:x", now=int(time.time()), window=60, limit=1) is None
    finally:
        await unreachable.aclose()


async def test_limits_survive_a_redis_restart_that_forgot_the_script(settings) -> None:
    # A restarted Redis has an empty script cache: the first call must load the script again, not fail open.
    client = Redis.from_url(settings.broker.redis_url)
    store = FailOpenStore(RateLimitStore(client, namespace="ovation").with_namespace("test_restart"))
    key = f"address:{unique_name()}"
    now = int(time.time())
    try:
        assert await store.record_request(key, now=now, window=60, limit=5) is None  # first request
        await client.script_flush()
        stored = await store.record_request(key, now=now, window=60, limit=5)
        assert stored is not None
        assert len(json.loads(stored)["history"]) == 1
    finally:
        await store.delete(key)
        await client.aclose()
