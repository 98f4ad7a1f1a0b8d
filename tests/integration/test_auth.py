from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.api import PASSWORD, Api, unique_name


async def test_register_login_me_logout(api: Api) -> None:
    user = await api.register(roles=["contestant"])
    assert sorted(user["roles"]) == ["contestant", "voter"]
    me = await api.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == user["username"]

    assert (await api.post("/api/auth/logout")).status_code == 204
    after = await api.get("/api/auth/me")
    assert after.status_code == 401
    assert after.json()["code"] == "not_authenticated"

    login = await api.post("/api/auth/login", json={"login": user["email"].upper(), "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["last_login_at"] is not None
    assert (await api.get("/api/auth/me")).json()["id"] == user["id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "not-an-email", "username": "validname", "password": PASSWORD}, 400, "invalid_email"),
        (
            # A NUL anywhere in a body is refused before any field is read (api.bodies).
            {"email": "nul\u0000byte@example.com", "username": "validname", "password": PASSWORD},
            400,
            "nul_character",
        ),
        (
            {"email": "<script>alert(1)</script>@example.com", "username": "validname", "password": PASSWORD},
            400,
            "invalid_email",
        ),
        (
            {"email": "a@example.com", "username": "valid\u0007name", "password": PASSWORD},
            400,
            "invalid_username",
        ),
        (
            {"email": "a@example.com\n", "username": "valid\u0000name", "password": PASSWORD},
            400,
            "nul_character",
        ),
        (
            {"email": "a@example.com", "username": "zero\u200bwidth", "password": PASSWORD},
            400,
            "invalid_username",
        ),
        ({"email": "a@example.com", "username": "bell\u0007", "password": PASSWORD}, 400, "invalid_username"),
        ({"email": "a@example.com", "username": "x", "password": PASSWORD}, 400, "validation_error"),
        ({"email": "a@example.com", "username": "bad name!", "password": PASSWORD}, 400, "invalid_username"),
        ({"email": "a@example.com", "username": "validname", "password": "short"}, 400, "weak_password"),
        (
            {"email": "a@example.com", "username": "validname", "password": "password123"},
            400,
            "weak_password",
        ),
        ({"email": "a@example.com", "username": "validname"}, 400, "validation_error"),
        ({"email": "a" * 300 + "@example.com", "username": "validname", "password": PASSWORD}, 400, None),
        ({"email": "a@example.com", "username": "validname", "password": "p" * 500}, 400, "validation_error"),
        (
            {"email": "a@example.com", "username": "validname", "password": PASSWORD, "roles": ["wizard"]},
            400,
            "unknown_role",
        ),
        (
            {"email": "a@example.com", "username": "validname", "password": PASSWORD, "roles": ["admin"]},
            400,
            "role_not_allowed",
        ),
        (
            {"email": "a@example.com", "username": "validname", "password": PASSWORD, "extra": 1},
            400,
            "validation_error",
        ),
    ],
)
async def test_register_rejects_bad_input(
    api: Api, body: dict[str, object], status: int, code: str | None
) -> None:
    response = await api.post("/api/auth/register", json=body)
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["status_code"] == status
    assert payload["detail"]
    if code:
        assert payload["code"] == code


async def test_malformed_json_is_a_400_naming_the_problem(api: Api) -> None:
    response = await api.post(
        "/api/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"
    assert response.json()["detail"].startswith("malformed request body:")


async def test_duplicate_username_and_email_are_case_insensitive(api: Api, make_api, db) -> None:
    # A taken username is 409; a taken address is not revealed (issue 13): it is answered like a new one,
    # and no second account is made (tests/integration/test_signup.py has the rest).
    user = await api.register()
    other: Api = await make_api()
    response = await other.post(
        "/api/auth/register",
        json={
            "email": unique_name() + "@example.com",
            "username": user["username"].upper(),
            "password": PASSWORD,
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    response = await other.post(
        "/api/auth/register",
        json={"email": user["email"].upper(), "username": unique_name(), "password": PASSWORD},
    )
    assert response.status_code == 202
    count = await db.scalar(text("SELECT count(*) FROM users WHERE lower(email) = :e"), {"e": user["email"]})
    assert count == 1


async def test_wrong_credentials_then_lockout(api: Api, make_api, settings) -> None:
    user = await api.register()
    attacker: Api = await make_api()
    for _ in range(settings.http.login_max_failures):
        wrong = await attacker.post(
            "/api/auth/login", json={"login": user["username"], "password": "wrong-guess-123"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "invalid_credentials"
    locked = await attacker.post("/api/auth/login", json={"login": user["username"], "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
    assert int(locked.headers["retry-after"]) > 0


async def test_unknown_account_looks_like_a_wrong_password(api: Api) -> None:
    response = await api.post(
        "/api/auth/login", json={"login": "nobody-" + unique_name(), "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_missing_csrf_token_is_refused(api: Api) -> None:
    await api.register()
    response = await api.client.post("/api/auth/logout")  # raw client: no x-csrftoken header
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    forged = await api.client.post("/api/auth/logout", headers={"x-csrftoken": "0" * 64})
    assert forged.status_code == 403
    assert (await api.get("/api/auth/me")).status_code == 200  # still logged in


async def test_expired_or_unknown_session_is_401(api: Api) -> None:
    await api.register()
    api.client.cookies.set("ovation_session", "f" * 64)
    response = await api.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_banned_account_loses_its_session_and_cannot_log_in(api: Api, db) -> None:
    from core.models import User

    user = await api.register()
    row = await db.get(User, user["id"])
    row.status = "banned"
    await db.commit()
    assert (await api.get("/api/auth/me")).status_code == 401
    response = await api.post("/api/auth/login", json={"login": user["username"], "password": PASSWORD})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "account_banned"


async def test_only_admins_set_roles(api: Api, admin_api: Api) -> None:
    user = await api.register()
    refused = await api.put(f"/api/admin/users/{user['id']}/roles", json={"roles": ["moderator"]})
    assert refused.status_code == 403
    assert refused.json()["code"] == "missing_role"
    granted = await admin_api.put(f"/api/admin/users/{user['id']}/roles", json={"roles": ["moderator"]})
    assert granted.status_code == 200, granted.text
    assert granted.json()["roles"] == ["moderator", "voter"]
    unknown = await admin_api.put(f"/api/admin/users/{user['id']}/roles", json={"roles": ["wizard"]})
    assert unknown.status_code == 400
    missing = await admin_api.put("/api/admin/users/999999999/roles", json={"roles": ["moderator"]})
    assert missing.status_code == 404


def _session_cookie_sent(response: Any) -> bool:
    return any(value.startswith("ovation_session=") for value in response.headers.get_list("set-cookie"))


async def test_session_cookie_is_sent_again_only_when_the_session_changes_or_is_renewed(api: Api, db) -> None:
    registered = await api.register()  # logging in writes the session and sends its cookie
    assert registered["id"]
    session_id = api.client.cookies.get("ovation_session")
    assert session_id

    # Unchanged and far from expiry: no write, no Set-Cookie on each signed-in request.
    me = await api.get("/api/auth/me")
    assert me.status_code == 200
    assert not _session_cookie_sent(me)

    # Past half its lifetime: the row and the browser's cookie are renewed together.
    await db.execute(
        text("UPDATE http_sessions SET expires_at = now() + interval '1 day' WHERE key = :key"),
        {"key": session_id},
    )
    await db.commit()
    renewed = await api.get("/api/auth/me")
    assert renewed.status_code == 200
    assert _session_cookie_sent(renewed)
    expires_at = await db.scalar(
        text("SELECT expires_at FROM http_sessions WHERE key = :key"), {"key": session_id}
    )
    assert expires_at > datetime.now(UTC) + timedelta(days=13)

    # Logging out clears the cookie.
    logout = await api.post("/api/auth/logout")
    assert logout.status_code == 204
    assert _session_cookie_sent(logout)
    assert (await api.get("/api/auth/me")).status_code == 401
