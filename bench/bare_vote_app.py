"""The issue's reference point for the vote path: a bare Litestar handler doing one raw asyncpg INSERT.

Run by bench/vote_ingest.py under the same uvicorn settings as ``ovation api`` and driven by the same wrk
script, so that the run prints what the stack alone costs on this machine, beside the API and the floor.
No session, rate limits, CSRF, rules, GeoIP or counters: it parses the same JSON body, takes the client
address from X-Forwarded-For and inserts the vote row the floor inserts (geo fields fixed).

    OVATION_BARE_DSN=postgresql://... OVATION_BARE_CONTEST=1 OVATION_BARE_VOTER=1 \
        python -m uvicorn bench.bare_vote_app:create_app --factory
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import msgspec
from litestar import Litestar, Request, get, post
from litestar.datastructures import State

from core.db import keep_session_state
from core.net import network_prefix

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


@post("/bare/votes", status_code=201)
async def bare_vote(request: Request[None, None, State], state: State, data: BareVote) -> dict[str, int]:
    ip = request.headers.get("x-forwarded-for") or (request.client.host if request.client else "127.0.0.1")
    now = datetime.now(UTC)
    async with state.pool.acquire() as connection:
        vote_id = await connection.fetchval(
            INSERT_VOTE,
            state.contest_id,
            data.song_id,
            state.voter_id,
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
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        app.state.pool = await asyncpg.create_pool(
            os.environ["OVATION_BARE_DSN"], min_size=16, max_size=16, reset=keep_session_state
        )
        app.state.contest_id = int(os.environ["OVATION_BARE_CONTEST"])
        app.state.voter_id = int(os.environ["OVATION_BARE_VOTER"])
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[bare_vote, health], lifespan=[lifespan], openapi_config=None)
