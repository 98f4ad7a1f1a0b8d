"""The issue's reference point for the vote path: a bare Litestar handler doing one raw asyncpg INSERT, and
the same handler with the API's layers added one at a time.

Run by bench/vote_ingest.py under the same uvicorn settings as ``ovation api`` and driven by the same wrk
script, so that the run prints what the stack costs on this machine, beside the API and the floor. The bare
handler has no session, rate limits, CSRF, rules, GeoIP or counters: it parses the same JSON body, takes the
client address from X-Forwarded-For and inserts the vote row the floor inserts (geo fields fixed).
``OVATION_BARE_LAYERS`` adds the API's own middleware, configured as the API configures it (comma-separated,
in this order): ``metrics`` (Prometheus), ``session`` (server-side session read from the database; the voter
comes from it), ``csrf``, ``limits`` (the per-address limiter behind the trusted-proxy middleware, and the
per-account limiter, on Redis).

    OVATION_BARE_DSN=postgresql://... OVATION_BARE_CONTEST=1 OVATION_BARE_VOTER=1 [OVATION_BARE_LAYERS=...] \
        python -m uvicorn bench.bare_vote_app:create_app --factory
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Request, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.plugins.prometheus import PrometheusConfig
from litestar.stores.base import Store
from redis.asyncio import Redis

from api.app import trusted_proxy_middleware
from api.auth import CSRF_COOKIE, SIGNED_IN_SESSION, session_auth, session_user_id
from api.csrf import SessionBoundCSRFMiddleware
from api.ratelimit import ADDRESS_LIMIT_ON_ROUTE, account_or_address, rate_limit, rate_limit_config
from api.stores import DatabaseSessionStore, FailOpenStore, RateLimitStore
from core.db import create_engine, create_sessionmaker, keep_session_state
from core.net import network_prefix
from core.settings import get_settings

LAYERS = ("metrics", "session", "csrf", "limits")

INSERT_VOTE = (
    "INSERT INTO votes (contest_id, song_id, voter_id, cast_at, vote_day, ip, network_prefix, user_agent, "
    "device_fingerprint, device_cookie_id, accept_language, client_timezone, country, region, city, "
    "latitude, longitude, asn, as_org, weight, status, reasons) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 1, 'pending', '[]'::jsonb) RETURNING id"
)


class BareVote(msgspec.Struct):
    song_id: int
    fingerprint: str | None = None
    timezone: str | None = None


@post("/bare/votes", status_code=201, opt={**SIGNED_IN_SESSION, ADDRESS_LIMIT_ON_ROUTE: True})
async def bare_vote(request: Request[Any, Any, State], state: State, data: BareVote) -> dict[str, int]:
    ip = request.headers.get("x-forwarded-for") or (request.client.host if request.client else "127.0.0.1")
    voter_id = session_user_id(request) if "session" in request.scope else state.voter_id
    now = datetime.now(UTC)
    async with state.pool.acquire() as connection:
        vote_id = await connection.fetchval(
            INSERT_VOTE,
            state.contest_id,
            data.song_id,
            voter_id,
            now,
            now.date(),
            ip,
            network_prefix(ip),
            request.headers.get("user-agent"),
            data.fingerprint,
            (request.cookies.get("ovation_device") or "").split(".", 1)[0] or None,
            request.headers.get("accept-language"),
            data.timezone,
            "SE",
            "Stockholm County",
            "Stockholm",
            59.33,
            18.06,
            None,
            None,
        )
    return {"id": vote_id}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    layers = {layer for layer in os.environ.get("OVATION_BARE_LAYERS", "").split(",") if layer}
    if unknown := layers - set(LAYERS):
        raise ValueError(f"unknown layers {sorted(unknown)}; known: {', '.join(LAYERS)}")
    settings = get_settings()
    sessions = DatabaseSessionStore(read_ttl=settings.http.auth_cache_seconds)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        app.state.pool = await asyncpg.create_pool(
            os.environ["OVATION_BARE_DSN"], min_size=16, max_size=16, reset=keep_session_state
        )
        app.state.contest_id = int(os.environ["OVATION_BARE_CONTEST"])
        app.state.voter_id = int(os.environ["OVATION_BARE_VOTER"])
        engine = create_engine(settings.database)
        sessions.bind(create_sessionmaker(engine), app.state.pool)
        try:
            yield
        finally:
            await app.state.pool.close()
            await engine.dispose()

    csrf = "csrf" in layers
    middleware: list[Any] = []
    stores: dict[str, Store] = {"sessions": sessions}
    if "limits" in layers:
        client = Redis.from_url(settings.broker.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        root = FailOpenStore(RateLimitStore(client, namespace="ovation_bare"))
        stores.update({name: root.with_namespace(name) for name in ("rate_limit", "vote_rate_limit")})
        # As in the API: the per-address limiter keys on the address the trusted proxy passes on.
        middleware.append(trusted_proxy_middleware(settings.http.trusted_proxies))
        # As in the API: the vote limiter takes the per-address budget in its own Redis call.
        address = rate_limit_config(
            settings.http.rate_limit_per_minute, "rate_limit", exclude_opt_key=ADDRESS_LIMIT_ON_ROUTE
        )
        middleware.append(address.middleware)
    if "metrics" in layers:
        middleware.append(PrometheusConfig(app_name="bare", prefix="bare", group_path=True).middleware)
    if "limits" in layers:
        middleware.append(
            rate_limit(
                settings.http.vote_rate_limit_per_minute,
                "vote_rate_limit",
                identifier_for_request=account_or_address,
                also=address,
            )
        )
    if csrf:  # as in the API: last, inside the session middleware, tokens bound to the session
        config = CSRFConfig(secret=settings.secret_key, cookie_name=CSRF_COOKIE, cookie_samesite="lax")
        middleware.append(DefineMiddleware(SessionBoundCSRFMiddleware, config=config))
    return Litestar(
        route_handlers=[bare_vote, health],
        lifespan=[lifespan],
        middleware=middleware,
        stores=stores,
        on_app_init=[session_auth(settings).on_app_init] if "session" in layers else [],
        openapi_config=None,
    )
