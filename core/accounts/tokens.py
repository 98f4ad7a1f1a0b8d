"""Links sent by mail: a random token in the link, its keyed digest in the database.

The link carries 256 random bits. Only HMAC-SHA256(secret key, purpose and token) is stored, so a copy of the
table cannot be turned into working links, a token made for one purpose is worthless for another, and a
forged or altered one matches nothing. Each is used once (an atomic update), expires, and is superseded by
the next link of the same purpose for the same account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput
from core.models import AccountToken, TokenPurpose

MAX_TOKEN_LENGTH = 128


def _digest(token: str, purpose: TokenPurpose, secret: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{token}".encode(), hashlib.sha256).hexdigest()


async def issue(
    session: AsyncSession,
    *,
    user_id: int,
    purpose: TokenPurpose,
    email: str,
    lifetime: timedelta,
    now: datetime,
    secret: str,
) -> str:
    """A new link token for the account, in the caller's transaction; its earlier unused ones end."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None)
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            digest=_digest(token, purpose, secret),
            purpose=purpose,
            user_id=user_id,
            email=email,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def _refusal(found: AccountToken | None, now: datetime) -> InvalidInput:
    if found is None:
        return InvalidInput(
            "this link is not valid: open the newest link we mailed you, whole", code="link_invalid"
        )
    if found.used_at is not None:
        return InvalidInput(
            "this link was already used, or a newer one was sent since: ask for a new one", code="link_used"
        )
    return InvalidInput("this link has expired: ask for a new one", code="link_expired")


async def peek(
    session: AsyncSession, *, token: str, purpose: TokenPurpose, now: datetime, secret: str
) -> AccountToken:
    """The link's record while it is still usable, without using it; InvalidInput naming why not."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _refusal(None, now)
    found = await session.scalar(
        select(AccountToken).where(
            AccountToken.digest == _digest(token, purpose, secret), AccountToken.purpose == purpose
        )
    )
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise _refusal(found, now)
    return found


async def use(
    session: AsyncSession, *, token: str, purpose: TokenPurpose, now: datetime, secret: str
) -> AccountToken:
    """Use the link once, in the caller's transaction: of two parallel uses exactly one gets it."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _refusal(None, now)
    digest = _digest(token, purpose, secret)
    used: AccountToken | None = await session.scalar(
        update(AccountToken)
        .where(
            AccountToken.digest == digest,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(AccountToken)
    )
    if used is None:
        found = await session.scalar(select(AccountToken).where(AccountToken.digest == digest))
        raise _refusal(found, now)
    return used
