"""Session ids and CSRF tokens are made by the server, renewed at every change of who is signed in (login,
logout, role change), and never adopted from what a client plants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.api import PASSWORD, Api, create_account

SESSION = "ovation_session"
PLANTED = "a" * 64  # what an attacker put in the victim's browser (a subdomain cookie, a shared computer)


def plant(client: Api, name: str, value: str) -> None:
    """Set a cookie the way a browser holds one from the site itself (replacing any the server set)."""
    client.client.cookies.delete(name)
    client.client.cookies.set(name, value, domain="testserver.local")


async def _login(client: Api, name: str) -> Any:
    response = await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


async def _stored(db: AsyncSession, key: str | None) -> bool:
    found = await db.scalar(text("SELECT count(*) FROM http_sessions WHERE key = :key"), {"key": key})
    return bool(found)


async def test_a_planted_session_id_is_never_adopted_at_login(make_api: Any, db: AsyncSession) -> None:
    name, _ = await create_account(db)
    victim: Api = await make_api()
    plant(victim, SESSION, PLANTED)

    await _login(victim, name)

    issued = victim.client.cookies.get(SESSION)
    assert issued
    assert issued != PLANTED
    assert not await _stored(db, PLANTED)
    attacker: Api = await make_api()
    plant(attacker, SESSION, PLANTED)
    assert (await attacker.get("/api/auth/me")).status_code == 401
    assert (await victim.get("/api/auth/me")).json()["username"] == name


async def test_an_unknown_session_id_is_not_stored_or_sent_back(make_api: Any, db: AsyncSession) -> None:
    client: Api = await make_api()
    plant(client, SESSION, PLANTED)
    response = await client.get("/api/auth/csrf")
    assert response.status_code == 200
    assert not await _stored(db, PLANTED)
    assert f"{SESSION}={PLANTED}" not in " ".join(response.headers.get_list("set-cookie"))


async def test_the_session_id_changes_at_every_login_and_the_old_one_ends(
    make_api: Any, db: AsyncSession
) -> None:
    name, _ = await create_account(db)
    client: Api = await make_api()
    await _login(client, name)
    first = client.client.cookies.get(SESSION)
    await _login(client, name)  # logging in again from a signed-in browser
    second = client.client.cookies.get(SESSION)
    assert first
    assert second
    assert first != second
    assert not await _stored(db, first)

    stale: Api = await make_api()
    plant(stale, SESSION, first)
    assert (await stale.get("/api/auth/me")).status_code == 401


async def test_logout_ends_the_session_row(make_api: Any, db: AsyncSession) -> None:
    name, _ = await create_account(db)
    client: Api = await make_api()
    await _login(client, name)
    session_id = client.client.cookies.get(SESSION)
    assert (await client.post("/api/auth/logout")).status_code == 204
    assert not await _stored(db, session_id)


async def test_a_planted_csrf_token_is_not_honoured_after_login(make_api: Any, db: AsyncSession) -> None:
    name, _ = await create_account(db)
    attacker: Api = await make_api()
    planted = (await attacker.client.get("/api/auth/csrf")).json()["csrf_token"]  # a genuine token
    victim: Api = await make_api()
    plant(victim, "csrftoken", planted)

    login = await victim.client.post(
        "/api/auth/login", json={"login": name, "password": PASSWORD}, headers={"x-csrftoken": planted}
    )
    assert login.status_code == 200, login.text

    # The attacker's forged request carries the token it planted; the victim's browser sends the cookie.
    plant(victim, "csrftoken", planted)
    forged = await victim.client.post("/api/auth/logout", headers={"x-csrftoken": planted})
    assert forged.status_code == 403
    assert forged.json()["code"] == "csrf_failed"
    assert (await victim.get("/api/auth/me")).status_code == 200


async def test_csrf_tokens_are_renewed_at_login_and_logout(make_api: Any, db: AsyncSession) -> None:
    name, _ = await create_account(db)
    client: Api = await make_api()
    anonymous = (await client.client.get("/api/auth/csrf")).json()["csrf_token"]
    await _login(client, name)
    signed_in = client.client.cookies.get("csrftoken")
    assert signed_in
    assert signed_in != anonymous
    assert (await client.client.get("/api/auth/csrf")).json()["csrf_token"] == signed_in

    # The token from before the login no longer passes, even sent as cookie and header together.
    plant(client, "csrftoken", anonymous)
    refused = await client.client.post("/api/auth/logout", headers={"x-csrftoken": anonymous})
    assert refused.status_code == 403
    plant(client, "csrftoken", signed_in)
    assert (
        await client.client.post("/api/auth/logout", headers={"x-csrftoken": signed_in})
    ).status_code == 204

    after_logout = client.client.cookies.get("csrftoken")
    assert after_logout
    assert after_logout != signed_in
    await _login(client, name)
    plant(client, "csrftoken", signed_in)  # the token of the earlier, ended session
    assert (
        await client.client.post("/api/auth/logout", headers={"x-csrftoken": signed_in})
    ).status_code == 403


async def test_a_role_change_renews_the_session_id(make_api: Any, admin_api: Api, db: AsyncSession) -> None:
    name, user_id = await create_account(db)
    client: Api = await make_api()
    await _login(client, name)
    before = client.client.cookies.get(SESSION)

    granted = await admin_api.put(f"/api/admin/users/{user_id}/roles", json={"roles": ["moderator"]})
    assert granted.status_code == 200, granted.text

    me = await client.get("/api/auth/me")
    assert me.status_code == 200
    assert "moderator" in me.json()["roles"]
    after = client.client.cookies.get(SESSION)
    assert after
    assert after != before
    assert not await _stored(db, before)
    # The renewed session still passes CSRF with the token the response handed out.
    assert (await client.post("/api/auth/logout")).status_code == 204
