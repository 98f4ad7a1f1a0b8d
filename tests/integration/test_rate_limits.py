from __future__ import annotations

import dataclasses

from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.integration.conftest import Api, unique_name


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
