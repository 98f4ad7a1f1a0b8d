from __future__ import annotations

import asyncio
import dataclasses
import time

from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from api.app import create_app
from api.stores import FailOpenStore, RateLimitStore
from tests.support.api import Api, unique_name

UNAVAILABLE = "ovation_rate_limit_store_unavailable"


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
    key = stores[0].qualified(f"address:{unique_name()}")
    now = int(time.time())
    try:
        results = await asyncio.gather(
            *(stores[n % 2].record_requests([(key, 10)], now=now, window=60) for n in range(50))
        )
        before = [usage[0][0] for usage in results if usage is not None]
        admitted = [count for count in before if count < 10]
        assert len(admitted) == 10
        assert sorted(admitted) == list(range(10))
        assert {usage[0][1] for usage in results if usage is not None} == {now + 60}
        # A new window starts once the old one is over.
        later = await stores[1].record_requests([(key, 10)], now=now + 61, window=60)
        assert later == [(0, now + 121)]
        assert await stores[0].record_requests([(key, 10)], now=now + 61, window=60) == [(1, now + 121)]
    finally:
        await clients[0].delete(key)
        for client in clients:
            await client.aclose()


async def test_one_call_takes_several_budgets_and_stops_at_the_used_up_one(settings) -> None:
    # A vote passes the per-address and the per-account budget: one call, and an account at its limit does
    # not give the address its request back, as with two limiters in a row.
    client = Redis.from_url(settings.broker.redis_url)
    store = RateLimitStore(client, namespace="ovation")
    address = store.with_namespace("test_address").qualified(f"address:{unique_name()}")
    account = store.with_namespace("test_account").qualified(f"account:{unique_name()}")
    now = int(time.time())
    try:
        budgets = [(address, 5), (account, 2)]
        usage = [await store.record_requests(budgets, now=now, window=60) for _ in range(3)]
        assert usage[0] == [(0, now + 60), (0, now + 60)]
        assert usage[1] == [(1, now + 60), (1, now + 60)]
        assert usage[2] == [(2, now + 60), (2, now + 60)]  # the account's budget is used up: refused
        # The address budget counted the refused request (the outer limiter admitted it); the account did not.
        assert await store.record_requests([(address, 5)], now=now, window=60) == [(3, now + 60)]
        assert await store.record_requests([(account, 3)], now=now, window=60) == [(2, now + 60)]
        # An address at its limit refuses before the account's budget is touched.
        assert await store.record_requests([(address, 4), (account, 10)], now=now, window=60) == [
            (4, now + 60)
        ]
        assert await store.record_requests([(account, 10)], now=now, window=60) == [(3, now + 60)]
    finally:
        await client.delete(address, account)
        await client.aclose()


async def test_rate_limits_fail_open_when_redis_is_unreachable() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    store = FailOpenStore(RateLimitStore(unreachable, namespace="ovation"))
    before = REGISTRY.get_sample_value(f"{UNAVAILABLE}_total") or 0.0
    try:
        assert await store.record_requests([("address:x", 1)], now=int(time.time()), window=60) is None
        assert REGISTRY.get_sample_value(f"{UNAVAILABLE}_total") == before + 1  # counted in /metrics
    finally:
        await unreachable.aclose()


async def test_limits_survive_a_redis_restart_that_forgot_the_script(settings) -> None:
    # A restarted Redis has an empty script cache: the first call must load the script again, not fail open.
    client = Redis.from_url(settings.broker.redis_url)
    store = FailOpenStore(RateLimitStore(client, namespace="ovation").with_namespace("test_restart"))
    key = store.qualified(f"address:{unique_name()}")
    now = int(time.time())
    try:
        assert await store.record_requests([(key, 5)], now=now, window=60) == [(0, now + 60)]  # first request
        await client.script_flush()
        assert await store.record_requests([(key, 5)], now=now, window=60) == [(1, now + 60)]
    finally:
        await client.delete(key)
        await client.aclose()
