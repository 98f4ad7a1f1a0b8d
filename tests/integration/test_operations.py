from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.app import create_app
from core.jobs import Job, request_after_commit, send_all, take_committed
from core.models import WorkerHeartbeat
from tests.support.api import Api
from tests.support.environment import OPERATOR_TOKEN
from tests.support.jobs import send_job


async def test_health_ready_metrics_and_schema(api: Api, worker) -> None:
    assert (await api.get("/health")).json() == {"status": "ok"}
    operator = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    ready = await api.get("/ready", headers=operator)
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"] == "ok"
    assert any(f":{worker.pid}" in name for name in checks["workers"])

    metrics = await api.get("/metrics", headers=operator)
    assert metrics.status_code == 200
    assert "ovation_requests_total" in metrics.text

    schema = await api.get("/schema/openapi.json")
    assert schema.status_code == 200
    operations = [op for path in schema.json()["paths"].values() for op in path.values()]
    assert all(op.get("operationId") for op in operations)
    assert (await api.get("/schema")).status_code == 200


async def _wait_for_heartbeat(db, name: str) -> WorkerHeartbeat | None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        db.expire_all()
        row: WorkerHeartbeat | None = await db.scalar(
            select(WorkerHeartbeat).where(WorkerHeartbeat.name == name)
        )
        if row is not None:
            return row
        await asyncio.sleep(0.2)
    return None


async def test_jobs_are_sent_after_commit_and_dropped_on_rollback(db, worker) -> None:
    rolled_back, committed = f"rolled-back-{uuid.uuid4().hex}", f"committed-{uuid.uuid4().hex}"

    request_after_commit(db, Job("ovation.ops.heartbeat", (rolled_back,)))
    await db.rollback()
    assert take_committed(db) == []

    request_after_commit(db, Job("ovation.ops.heartbeat", (committed,)))
    assert take_committed(db) == []  # nothing is released before the commit
    await db.commit()
    jobs = take_committed(db)
    assert [job.args for job in jobs] == [(committed,)]
    assert await asyncio.to_thread(send_all, jobs, send_job) == 1

    # The real worker ran it; the rolled-back job was never sent, so it can never show up.
    assert await _wait_for_heartbeat(db, committed) is not None
    assert await db.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.name == rolled_back)) is None


async def test_pages_and_scripts_answer_304_to_a_browser_that_has_them(api: Api) -> None:
    for path in ("/", "/contests/some-contest", "/static/js/votes.js"):
        first = await api.get(path)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-cache"  # revalidated on every load...
        etag = first.headers["etag"]
        again = await api.get(path, headers={"If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b"")  # ...which now costs no body
        assert again.headers["etag"] == etag
        other = await api.get(path, headers={"If-None-Match": '"an-older-version"'})
        assert other.status_code == 200
        assert other.content == first.content


async def test_an_unreachable_database_answers_503_not_500(settings) -> None:
    if not settings.database.url.startswith("postgresql"):
        pytest.skip("the embedded database is a file: it cannot be unreachable")
    # Nothing listens on port 9 (discard): every connection is refused.
    url = settings.database.url.replace("@127.0.0.1:5432/", "@127.0.0.1:9/")
    down = dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=url))
    async with AsyncTestClient(app=create_app(down)) as client:  # starts: connections are made on use
        assert (await client.get("/health")).status_code == 200
        listing = await client.get("/api/contests")  # through the ORM
        client.cookies.set("ovation_session", "some-session-id")
        me = await client.get("/api/auth/me")  # the session read, on the plain asyncpg pool
        for response in (listing, me):
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "service_unavailable"
            assert response.headers["retry-after"] == "5"
