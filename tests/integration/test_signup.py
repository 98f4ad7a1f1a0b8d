"""Signing up with a confirmed address: the mailed link works once, expires, cannot be forged, and no answer
tells whether an address already has an account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AccountToken, User, utcnow
from core.settings import Settings
from tests.support.api import PASSWORD, Api, unique_name
from tests.support.mail import mailed_token, mails
from tests.support.voting import open_contest, vote


@pytest.fixture
def outbox(settings: Settings) -> Path:
    return settings.mail.outbox_dir


def _sign_up_body(**overrides: Any) -> dict[str, Any]:
    name = unique_name()
    return {"email": f"{name}@example.com", "username": name, "password": PASSWORD, **overrides}


def _session_cookie_set(response: Any) -> bool:
    return any(value.startswith("ovation_session=") for value in response.headers.get_list("set-cookie"))


async def _accounts_with(db: AsyncSession, email: str) -> int:
    found = await db.scalar(select(func.count(User.id)).where(func.lower(User.email) == email.lower()))
    return int(found or 0)


async def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
    make_api: Any, db: AsyncSession
) -> None:
    first: Api = await make_api()
    body = _sign_up_body()
    new = await first.post("/api/auth/register", json=body)
    second: Api = await make_api()
    again = await second.post(
        "/api/auth/register", json=_sign_up_body(email=body["email"].upper(), password=PASSWORD + "!")
    )

    assert new.status_code == again.status_code == 202
    assert new.json() == again.json()
    assert not _session_cookie_set(new)
    assert not _session_cookie_set(again)
    assert await _accounts_with(db, body["email"]) == 1
    # The mailbox tells the difference: a link for the new account, a note for the known address.
    assert [mail.kind for mail in await mails(db, body["email"])] == ["verify_email", "account_exists"]


async def test_a_taken_username_is_refused_whatever_the_address(api: Api) -> None:
    taken = (await api.register())["username"]
    for email in (f"{unique_name()}@example.com", (await api.get("/api/auth/me")).json()["email"]):
        response = await api.post(
            "/api/auth/register", json=_sign_up_body(username=taken.upper(), email=email)
        )
        assert response.status_code == 409
        assert response.json()["code"] == "username_taken"


async def test_the_confirmation_link_confirms_the_address_once(
    api: Api, db: AsyncSession, outbox: Path
) -> None:
    body = _sign_up_body()
    assert (await api.post("/api/auth/register", json=body)).status_code == 202
    token = await mailed_token(db, body["email"], "verify_email", outbox)

    confirmed = await api.post("/api/auth/verify-email", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"email": body["email"], "username": body["username"]}
    login = await api.post("/api/auth/login", json={"login": body["username"], "password": PASSWORD})
    assert login.json()["email_verified"] is True

    reused = await api.post("/api/auth/verify-email", json={"token": token})
    assert reused.status_code == 400
    assert reused.json()["code"] == "link_used"


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), "link_invalid"),
        (lambda token: "x" * 43, "link_invalid"),
        (lambda token: token + "=", "link_invalid"),
        (lambda token: "", "validation_error"),
        (lambda token: "t" * 500, "validation_error"),
    ],
)
async def test_a_forged_or_altered_link_confirms_nothing(
    api: Api, db: AsyncSession, outbox: Path, spoil: Any, code: str
) -> None:
    body = _sign_up_body()
    await api.post("/api/auth/register", json=body)
    token = await mailed_token(db, body["email"], "verify_email", outbox)
    refused = await api.post("/api/auth/verify-email", json={"token": spoil(token)})
    assert refused.status_code == 400
    assert refused.json()["code"] == code
    assert refused.json()["detail"]
    assert (await db.scalar(select(User.email_verified).where(User.username == body["username"]))) is False
    assert (await api.post("/api/auth/verify-email", json={"token": token})).status_code == 200  # unspent


async def test_an_expired_link_says_so_and_a_new_one_can_be_asked_for(
    make_api: Any, db: AsyncSession, outbox: Path
) -> None:
    client: Api = await make_api()
    body = _sign_up_body()
    await client.post("/api/auth/register", json=body)
    old = await mailed_token(db, body["email"], "verify_email", outbox)
    await db.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await db.commit()

    expired = await client.post("/api/auth/verify-email", json={"token": old})
    assert expired.status_code == 400
    assert expired.json()["code"] == "link_expired"

    # Asking again within a minute sends nothing more (the answer is the same); later it does.
    await db.execute(update(AccountToken).values(created_at=utcnow() - timedelta(minutes=5)))
    for mail in await mails(db, body["email"]):
        mail.created_at = utcnow() - timedelta(minutes=5)
    await db.commit()
    resent = await client.post("/api/auth/verify-email/resend", json={"email": body["email"]})
    assert resent.status_code == 202
    repeated = await client.post("/api/auth/verify-email/resend", json={"email": body["email"]})
    assert repeated.json() == resent.json()
    assert [mail.kind for mail in await mails(db, body["email"])] == ["verify_email", "verify_email"]

    new = await mailed_token(db, body["email"], "verify_email", outbox)
    assert new != old
    assert (await client.post("/api/auth/verify-email", json={"token": new})).status_code == 200


async def test_resending_to_an_address_without_an_account_answers_the_same_and_mails_nothing(
    api: Api, db: AsyncSession
) -> None:
    registered = await api.register()
    known = await api.post("/api/auth/verify-email/resend", json={"email": registered["email"]})
    nobody = f"nobody-{unique_name()}@example.com"
    unknown = await api.post("/api/auth/verify-email/resend", json={"email": nobody})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert await mails(db, nobody) == []


async def test_a_confirmed_address_lets_the_account_vote_where_contests_require_one(
    api: Api, db: AsyncSession, outbox: Path
) -> None:
    contest = await open_contest(db, songs=1, require_verified_email=True)
    body = _sign_up_body()
    await api.post("/api/auth/register", json=body)
    await api.post("/api/auth/login", json={"login": body["username"], "password": PASSWORD})
    refused = await vote(api, contest.id, contest.song_ids[0])
    assert refused.status_code == 403, refused.text

    token = await mailed_token(db, body["email"], "verify_email", outbox)
    assert (await api.post("/api/auth/verify-email", json={"token": token})).status_code == 200
    cast = await vote(api, contest.id, contest.song_ids[0])
    assert cast.status_code == 201, cast.text
