"""A forgotten password: the reset link works once and expires, the answer never tells whether an address has
an account, and a new password signs out every browser of the account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AccountToken, User, utcnow
from core.settings import Settings
from tests.support.api import PASSWORD, Api, create_account, unique_name
from tests.support.mail import mailed_token, mails

NEW_PASSWORD = "a-brand-new-passphrase-77"


@pytest.fixture
def outbox(settings: Settings) -> Path:
    return settings.mail.outbox_dir


async def _log_in(client: Api, login: str, password: str = PASSWORD) -> Any:
    return await client.post("/api/auth/login", json={"login": login, "password": password})


async def _reset_link(client: Api, db: AsyncSession, outbox: Path, email: str) -> str:
    assert (await client.post("/api/auth/password-reset", json={"email": email})).status_code == 202
    return await mailed_token(db, email, "reset_password", outbox)


async def test_asking_for_a_reset_answers_the_same_for_an_unknown_address(api: Api, db: AsyncSession) -> None:
    name, _ = await create_account(db)
    known = await api.post("/api/auth/password-reset", json={"email": f"{name}@example.com"})
    nobody = f"nobody-{unique_name()}@example.com"
    unknown = await api.post("/api/auth/password-reset", json={"email": nobody})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [mail.kind for mail in await mails(db, f"{name}@example.com")] == ["reset_password"]
    assert await mails(db, nobody) == []


async def test_a_new_password_signs_out_every_browser_of_the_account(
    make_api: Any, db: AsyncSession, outbox: Path
) -> None:
    name, _ = await create_account(db)
    laptop: Api = await make_api()
    phone: Api = await make_api()
    assert (await _log_in(laptop, name)).status_code == 200
    assert (await _log_in(phone, name)).status_code == 200

    stranger: Api = await make_api()
    token = await _reset_link(stranger, db, outbox, f"{name}@example.com")
    done = await stranger.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text

    assert (await laptop.get("/api/auth/me")).status_code == 401
    assert (await phone.get("/api/auth/me")).status_code == 401
    assert (await _log_in(stranger, name)).json()["code"] == "invalid_credentials"
    assert (await _log_in(stranger, name, NEW_PASSWORD)).status_code == 200

    reused = await stranger.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": PASSWORD}
    )
    assert reused.status_code == 400
    assert reused.json()["code"] == "link_used"


async def test_a_weak_password_is_refused_and_the_link_still_works(
    api: Api, db: AsyncSession, outbox: Path
) -> None:
    name, user_id = await create_account(db)
    token = await _reset_link(api, db, outbox, f"{name}@example.com")
    user = await db.get(User, user_id)
    assert user is not None
    before = user.password_hash
    weak = await api.post("/api/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert weak.status_code == 400
    assert weak.json()["code"] == "weak_password"
    await db.refresh(user)
    assert user.password_hash == before  # nothing half-written
    done = await api.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204


async def test_expired_forged_and_foreign_links_reset_nothing(
    api: Api, db: AsyncSession, outbox: Path
) -> None:
    name, user_id = await create_account(db)
    token = await _reset_link(api, db, outbox, f"{name}@example.com")
    for forged, code in [("A" * 43, "link_invalid"), (token[::-1], "link_invalid")]:
        refused = await api.post(
            "/api/auth/password-reset/confirm", json={"token": forged, "password": NEW_PASSWORD}
        )
        assert refused.json()["code"] == code
    # A confirmation link is no reset link, even for the same account.
    await db.execute(update(User).where(User.id == user_id).values(email_verified=False))
    await db.commit()
    await api.post("/api/auth/verify-email/resend", json={"email": f"{name}@example.com"})
    confirm = await mailed_token(db, f"{name}@example.com", "verify_email", outbox)
    foreign = await api.post(
        "/api/auth/password-reset/confirm", json={"token": confirm, "password": NEW_PASSWORD}
    )
    assert foreign.json()["code"] == "link_invalid"

    await db.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await db.commit()
    expired = await api.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert expired.status_code == 400
    assert expired.json()["code"] == "link_expired"
    assert (await _log_in(api, name)).status_code == 200  # the old password still works


async def test_a_reset_lifts_the_login_delay(make_api: Any, db: AsyncSession, outbox: Path, settings) -> None:
    name, _ = await create_account(db)
    attacker: Api = await make_api()
    for _ in range(settings.http.login_max_failures):
        await _log_in(attacker, name, "wrong-guess-123")
    owner: Api = await make_api()
    assert (await _log_in(owner, name)).json()["code"] == "account_locked"
    token = await _reset_link(owner, db, outbox, f"{name}@example.com")
    await owner.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert (await _log_in(owner, name, NEW_PASSWORD)).status_code == 200
