"""The role order: voter < contestant < moderator < admin. An actor acts only on accounts below its own role
(admins on other admins too), never on itself; admins lift bans with a reason; the last admin stays."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from core import migrate
from core.db import create_engine, create_sessionmaker
from core.models import AuditEntry, User, UserRole, Vote
from core.settings import DatabaseSettings, Settings
from tests.support.api import PASSWORD, Api, create_account
from tests.support.environment import BACKENDS
from tests.support.services import TEST_DATABASE, recreate_database
from tests.support.voting import open_contest, valid_vote


async def _signed_in(make_api: Any, db: AsyncSession, *roles: str) -> tuple[Api, int]:
    name, user_id = await create_account(db, *roles)
    client: Api = await make_api()
    response = await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client, user_id


async def _status(db: AsyncSession, user_id: int) -> str:
    db.expire_all()
    user = await db.get(User, user_id)
    assert user is not None
    return user.status


async def _audit_count(db: AsyncSession, target_id: int) -> int:
    return int(
        await db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.target_id == str(target_id))
        )
        or 0
    )


async def test_moderators_void_and_ban_only_voters_and_contestants(make_api, db) -> None:
    moderator, moderator_id = await _signed_in(make_api, db, "moderator")
    _, voter_id = await create_account(db)
    _, contestant_id = await create_account(db, "contestant")
    _, other_moderator_id = await create_account(db, "moderator")
    _, admin_id = await create_account(db, "admin")

    for target in (voter_id, contestant_id):
        banned = await moderator.post(
            f"/api/moderation/users/{target}/void", json={"note": "spam", "ban": True}
        )
        assert banned.status_code == 200, banned.text
        assert await _status(db, target) == "banned"

    refused = {
        other_moderator_id: ("outranked", "a moderator cannot ban a moderator"),
        admin_id: ("outranked", "a moderator cannot ban an admin"),
        moderator_id: ("own_account", "you cannot ban your own account"),
    }
    for target, (code, detail) in refused.items():
        for ban in (True, False):
            response = await moderator.post(
                f"/api/moderation/users/{target}/void", json={"note": "rogue", "ban": ban}
            )
            assert (response.status_code, response.json()["code"]) == (403, code), response.text
            if ban:
                assert detail in response.json()["detail"]
        assert await _status(db, target) == "active"
        assert await _audit_count(db, target) == 0
    assert (await moderator.get("/api/auth/me")).status_code == 200  # still signed in, not banned


async def test_admins_ban_moderators_and_other_admins_but_not_themselves(make_api, db) -> None:
    admin, admin_id = await _signed_in(make_api, db, "admin")
    _, moderator_id = await create_account(db, "moderator")
    _, other_admin_id = await create_account(db, "admin")
    for target in (moderator_id, other_admin_id):
        response = await admin.post(
            f"/api/moderation/users/{target}/void", json={"note": "left", "ban": True}
        )
        assert response.status_code == 200, response.text
        assert await _status(db, target) == "banned"
    own = await admin.post(f"/api/moderation/users/{admin_id}/void", json={"note": "oops", "ban": True})
    assert (own.status_code, own.json()["code"]) == (403, "own_account")
    assert await _status(db, admin_id) == "active"


async def test_moderators_judge_no_votes_of_their_own_or_of_higher_roles(make_api, db) -> None:
    contest = await open_contest(db)
    moderator, moderator_id = await _signed_in(make_api, db, "moderator")
    _, admin_id = await create_account(db, "admin")
    _, voter_id = await create_account(db)
    now = datetime.now(UTC)
    votes = {}
    for index, voter in enumerate((moderator_id, admin_id, voter_id)):
        vote = valid_vote(contest.id, contest.song_ids[0], voter, now, f"203.0.113.{index + 1}")
        vote.status, vote.case_key = "suspicious", "device:shared"
        db.add(vote)
        await db.flush()
        votes[voter] = vote.id
    await db.commit()

    own = await moderator.post(
        f"/api/moderation/votes/{votes[moderator_id]}/decision", json={"decision": "clear", "note": "me"}
    )
    assert (own.status_code, own.json()["code"]) == (403, "own_account")
    higher = await moderator.post(
        f"/api/moderation/votes/{votes[admin_id]}/decision", json={"decision": "confirm", "note": "x"}
    )
    assert (higher.status_code, higher.json()["code"]) == (403, "outranked")
    case = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": "device:shared", "decision": "clear", "note": "all fine"},
    )
    assert (case.status_code, case.json()["code"]) == (403, "own_account")
    db.expire_all()
    statuses = (await db.scalars(select(Vote.status).where(Vote.id.in_(votes.values())))).all()
    assert set(statuses) == {"suspicious"}
    lower = await moderator.post(
        f"/api/moderation/votes/{votes[voter_id]}/decision", json={"decision": "confirm", "note": "bot"}
    )
    assert lower.status_code == 200, lower.text


async def test_admins_unban_with_a_reason_that_is_audited(make_api, db) -> None:
    admin, admin_id = await _signed_in(make_api, db, "admin")
    moderator, _ = await _signed_in(make_api, db, "moderator")
    name, voter_id = await create_account(db)
    banned = await moderator.post(
        f"/api/moderation/users/{voter_id}/void", json={"note": "spam", "ban": True}
    )
    assert banned.status_code == 200

    by_moderator = await moderator.post(f"/api/admin/users/{voter_id}/unban", json={"reason": "appeal"})
    assert (by_moderator.status_code, by_moderator.json()["code"]) == (403, "missing_role")
    blank = await admin.post(f"/api/admin/users/{voter_id}/unban", json={"reason": "   "})
    assert (blank.status_code, blank.json()["code"]) == (400, "reason_required")
    missing = await admin.post(f"/api/admin/users/{voter_id}/unban", json={})
    assert (missing.status_code, missing.json()["code"]) == (400, "validation_error")
    assert await _status(db, voter_id) == "banned"

    unbanned = await admin.post(
        f"/api/admin/users/{voter_id}/unban", json={"reason": "appeal upheld: shared flat"}
    )
    assert unbanned.status_code == 200, unbanned.text
    assert unbanned.json()["status"] == "active"
    assert await _status(db, voter_id) == "active"
    entry = await db.scalar(
        select(AuditEntry).where(AuditEntry.action == "user.unban", AuditEntry.target_id == str(voter_id))
    )
    assert entry is not None
    assert entry.actor_id == admin_id
    assert entry.details == {"reason": "appeal upheld: shared flat", "ban_reason": "spam"}
    voter: Api = await make_api()
    login = await voter.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert login.status_code == 200, login.text

    again = await admin.post(f"/api/admin/users/{voter_id}/unban", json={"reason": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "not_banned")
    nobody = await admin.post("/api/admin/users/999999999/unban", json={"reason": "x"})
    assert (nobody.status_code, nobody.json()["code"]) == (404, "user_not_found")


async def test_admins_cannot_change_their_own_roles(make_api, db) -> None:
    admin, admin_id = await _signed_in(make_api, db, "admin")
    response = await admin.put(f"/api/admin/users/{admin_id}/roles", json={"roles": ["voter"]})
    assert (response.status_code, response.json()["code"]) == (403, "own_account")
    db.expire_all()
    assert "admin" in (await db.get(User, admin_id)).roles


# --- the last admin, on a database of its own: the suite's database has many admins -----------------------


@pytest.fixture(params=["postgresql", "sqlite"])
async def lone_deployment(request, settings: Settings, tmp_path: Path) -> Any:
    """A deployment whose database holds two admins and nobody else."""
    if request.param == "postgresql":
        if not BACKENDS.production:
            pytest.skip("PostgreSQL is not running here (CI fails instead: tests/integration/services.py)")
        url = await recreate_database(f"{TEST_DATABASE}_admins")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'admins.sqlite3'}"
    await asyncio.to_thread(migrate.upgrade, url)
    own = dataclasses.replace(settings, database=DatabaseSettings(url=url))
    engine = create_engine(own.database, pooled=False)
    clients: list[AsyncTestClient[Any]] = []

    async def admin() -> tuple[Api, int]:
        async with create_sessionmaker(engine)() as session:
            name, user_id = await create_account(session, "admin")
        client = AsyncTestClient(app=create_app(own))
        await client.__aenter__()
        clients.append(client)
        api = Api(client)
        response = await api.post("/api/auth/login", json={"login": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        await api.get("/api/auth/csrf")  # the token now, so both requests below leave at once
        return api, user_id

    async def active_admins() -> set[int]:
        async with create_sessionmaker(engine)() as session:
            rows = await session.scalars(
                select(User.id).join(UserRole).where(UserRole.role == "admin", User.status == "active")
            )
            return set(rows)

    @contextlib.asynccontextmanager
    async def admins_held() -> AsyncIterator[None]:
        """Hold the admins' rows in another transaction, so that requests started meanwhile pile up and run
        at once when it ends: the race between two admins, every time rather than by chance."""
        async with engine.connect() as connection:
            transaction = await connection.begin()
            if request.param == "postgresql":
                await connection.execute(
                    text(
                        "SELECT users.id FROM users JOIN user_roles ON user_roles.user_id = users.id"
                        " WHERE user_roles.role = 'admin' FOR UPDATE"
                    )
                )
            else:  # SQLite: a write takes the database's one write lock
                await connection.execute(text("UPDATE users SET status = status"))
            try:
                yield
            finally:
                await transaction.rollback()

    async def wait_until_blocked(count: int) -> None:
        if request.param != "postgresql":
            await asyncio.sleep(1)  # SQLite cannot say who waits for its lock; the outcome holds either way
            return
        async with engine.connect() as connection:
            for _ in range(100):
                waiting = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                if waiting >= count:
                    return
                await asyncio.sleep(0.1)

    yield admin, active_admins, admins_held, wait_until_blocked
    for client in clients:
        await client.__aexit__(None, None, None)
    await engine.dispose()


@pytest.mark.parametrize("removal", ["demote", "ban"])
async def test_two_admins_removing_each_other_at_once_leave_one(lone_deployment, removal: str) -> None:
    admin, active_admins, admins_held, wait_until_blocked = lone_deployment
    (first, first_id), (second, second_id) = await admin(), await admin()

    async def remove(client: Api, target: int) -> Any:
        if removal == "demote":
            return await client.put(f"/api/admin/users/{target}/roles", json={"roles": ["voter"]})
        return await client.post(f"/api/moderation/users/{target}/void", json={"note": "coup", "ban": True})

    async with admins_held():
        # The test client blocks its caller's event loop until the app answers: one thread per request.
        both = asyncio.gather(
            asyncio.to_thread(asyncio.run, remove(first, second_id)),
            asyncio.to_thread(asyncio.run, remove(second, first_id)),
        )
        await wait_until_blocked(2)
    answers = await both
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses[0] == 200, [answer.text for answer in answers]
    # The loser was removed first: no longer an admin (403 outranked) or banned (401) when its turn came.
    assert statuses[1] in (401, 403), [answer.text for answer in answers]
    remaining = await active_admins()
    assert len(remaining) == 1
    assert remaining <= {first_id, second_id}
