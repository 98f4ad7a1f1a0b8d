"""The owner's changes to their account: password (other browsers signed out), address (moves only once the
new one is confirmed), becoming a contestant (no second account, a new session id)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import User
from core.settings import Settings
from tests.support.api import PASSWORD, Api, create_account, unique_name
from tests.support.mail import mailed_token, mails

NEW_PASSWORD = "another-fine-passphrase-31"


@pytest.fixture
def outbox(settings: Settings) -> Path:
    return settings.mail.outbox_dir


async def _signed_in(make_api: Any, name: str) -> Api:
    client: Api = await make_api()
    response = await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


async def test_changing_the_password_signs_out_the_other_browsers(make_api: Any, db: AsyncSession) -> None:
    name, _ = await create_account(db)
    here = await _signed_in(make_api, name)
    elsewhere = await _signed_in(make_api, name)
    before = here.client.cookies.get("ovation_session")

    wrong = await here.post(
        "/api/account/password", json={"current_password": "not-my-password-1", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "wrong_password"
    weak = await here.post(
        "/api/account/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert weak.json()["code"] == "weak_password"
    assert (await elsewhere.get("/api/auth/me")).status_code == 200  # nothing changed yet

    changed = await here.post(
        "/api/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert here.client.cookies.get("ovation_session") != before
    assert (await here.get("/api/auth/me")).status_code == 200
    assert (await elsewhere.get("/api/auth/me")).status_code == 401
    assert [mail.kind for mail in await mails(db, f"{name}@example.com")] == ["password_changed"]


async def test_the_address_moves_only_when_the_new_one_is_confirmed(
    make_api: Any, db: AsyncSession, outbox: Path
) -> None:
    name, _ = await create_account(db)
    client = await _signed_in(make_api, name)
    new_email = f"{unique_name()}@example.org"
    asked = await client.post("/api/account/email", json={"password": PASSWORD, "new_email": new_email})
    assert asked.status_code == 202, asked.text
    assert (await client.get("/api/auth/me")).json()["email"] == f"{name}@example.com"

    token = await mailed_token(db, new_email, "verify_email", outbox)
    confirmed = await client.post("/api/auth/verify-email", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    me = (await client.get("/api/auth/me")).json()
    assert me["email"] == new_email
    assert me["email_verified"] is True
    assert [mail.kind for mail in await mails(db, f"{name}@example.com")] == ["address_changed"]


async def test_moving_to_an_address_that_has_an_account_answers_the_same_and_changes_nothing(
    make_api: Any, db: AsyncSession
) -> None:
    name, user_id = await create_account(db)
    other, _ = await create_account(db)
    client = await _signed_in(make_api, name)
    free = await client.post(
        "/api/account/email", json={"password": PASSWORD, "new_email": f"{unique_name()}@example.org"}
    )
    taken = await client.post(
        "/api/account/email", json={"password": PASSWORD, "new_email": f"{other}@example.com"}
    )
    assert free.status_code == taken.status_code == 202
    assert free.json() == taken.json()
    assert [mail.kind for mail in await mails(db, f"{other}@example.com")] == ["address_taken"]
    user = await db.get(User, user_id, populate_existing=True)
    assert user is not None
    assert user.email == f"{name}@example.com"

    wrong = await client.post(
        "/api/account/email",
        json={"password": "not-my-password-1", "new_email": f"{unique_name()}@example.org"},
    )
    assert wrong.json()["code"] == "wrong_password"
    same = await client.post(
        "/api/account/email", json={"password": PASSWORD, "new_email": f"{name}@example.com"}
    )
    assert same.json()["code"] == "same_email"
    bad = await client.post("/api/account/email", json={"password": PASSWORD, "new_email": "<b>@example.org"})
    assert bad.json()["code"] == "invalid_email"


async def test_a_voter_becomes_a_contestant_under_a_new_session_id(make_api: Any, db: AsyncSession) -> None:
    name, _ = await create_account(db)
    client = await _signed_in(make_api, name)
    before = client.client.cookies.get("ovation_session")
    became = await client.post("/api/account/contestant")
    assert became.status_code == 200, became.text
    assert became.json()["roles"] == ["contestant", "voter"]
    assert client.client.cookies.get("ovation_session") != before
    assert (await client.get("/api/me/songs")).status_code == 200  # the contestant's own page works
    again = await client.post("/api/account/contestant")  # twice is the same as once
    assert again.json()["roles"] == ["contestant", "voter"]


async def test_account_changes_need_a_signed_in_session(api: Api) -> None:
    for path, body in [
        ("/api/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        ("/api/account/email", {"password": PASSWORD, "new_email": "someone@example.org"}),
        ("/api/account/contestant", None),
    ]:
        response = await api.post(path, json=body)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
