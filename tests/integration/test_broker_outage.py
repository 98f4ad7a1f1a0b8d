"""The database is the record, the broker a doorbell: votes cast while Redis is down are kept and scored once
it is back, each exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from core.models import Vote
from tests.support.api import PASSWORD, unique_name
from tests.support.environment import BACKENDS
from tests.support.processes import Platform, PrivateRedis, process_env
from tests.support.voting import eventually, open_contest

pytestmark = pytest.mark.slow


async def test_votes_cast_while_redis_is_down_are_scored_exactly_once_after(db, tmp_path: Path) -> None:
    if not BACKENDS.production:
        pytest.skip("needs PostgreSQL and a redis-server binary (embedded mode has no Redis to stop)")
    redis = PrivateRedis(tmp_path)
    redis.start()
    platform = Platform(
        process_env(
            OVATION_REDIS_URL=redis.url,
            OVATION_DATA_DIR=str(tmp_path / "data"),
            OVATION_TRUSTED_PROXIES="",
            OVATION_SWEEP_INTERVAL_SECONDS="2",
            OVATION_SWEEP_STALE_SECONDS="1",
        ),
        tmp_path,
    )
    try:
        platform.start()
        contest = await open_contest(db, songs=4, votes_per_voter_per_day=20, votes_per_song_per_day=5)
        async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as client:
            token = (await client.get("/api/auth/csrf")).json()["csrf_token"]
            headers = {"x-csrftoken": token}
            name = unique_name()
            registered = await client.post(
                "/api/auth/register",
                json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
                headers=headers,
            )
            assert registered.status_code == 202, registered.text
            login = {"login": name, "password": PASSWORD}
            logged_in = await client.post("/api/auth/login", json=login, headers=headers)
            assert logged_in.status_code == 200, logged_in.text
            headers = {"x-csrftoken": client.cookies["csrftoken"]}  # renewed with the session

            redis.stop()
            cast = []
            for song_id in contest.song_ids * 3:
                response = await client.post(
                    f"/api/contests/{contest.id}/votes", json={"song_id": song_id}, headers=headers
                )
                assert response.status_code == 201, response.text
                cast.append(response.json()["id"])
            assert (await client.get("/ready")).status_code == 503  # and it says so

        async def statuses() -> list[Vote]:
            db.expire_all()
            return list((await db.scalars(select(Vote).where(Vote.id.in_(cast)))).all())

        await asyncio.sleep(3)  # sweeps come and go while the broker is away
        assert {vote.status for vote in await statuses()} == {"pending"}

        redis.start()

        async def all_scored() -> list[Vote] | None:
            rows = await statuses()
            return rows if all(vote.scored_at is not None for vote in rows) else None

        scored = await eventually(all_scored, within=60)
        assert len(scored) == len(cast) == 12
        first_scoring = {vote.id: vote.scored_at for vote in scored}
        await asyncio.sleep(5)  # further sweeps find nothing pending: no vote is scored twice
        assert {vote.id: vote.scored_at for vote in await statuses()} == first_scoring
    finally:
        platform.stop()
        redis.stop()
