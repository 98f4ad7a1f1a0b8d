"""Clients and accounts for tests that talk to the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import User, UserRole
from core.passwords import hash_password_sync

PASSWORD = "a-long-test-passphrase-42"


@dataclass
class Api:
    """A browser-like client: keeps its cookies and sends the CSRF token back like the web pages do."""

    client: AsyncTestClient[Any]

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if method not in {"GET", "HEAD", "OPTIONS"}:
            token = self.client.cookies.get("csrftoken")
            if token is None:
                await self.client.get("/api/auth/csrf")
                token = self.client.cookies.get("csrftoken")
            kwargs.setdefault("headers", {}).setdefault("x-csrftoken", token)
        return await self.client.request(method, path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Any:
        return await self.request("PATCH", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Any:
        return await self.request("PUT", path, **kwargs)

    async def register(self, *, roles: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
        """Sign up and log in; returns the account as /api/auth/login answers it."""
        name = unique_name()
        body = {"email": f"{name}@example.com", "username": name, "password": PASSWORD, "roles": roles or []}
        body.update(overrides)
        response = await self.post("/api/auth/register", json=body)
        assert response.status_code == 202, response.text
        # Signing up does not log in (its answer must not depend on whether the address had an account):
        # the new account logs in with its password, its address still unconfirmed.
        login = {"login": body["username"], "password": body["password"]}
        logged_in = await self.post("/api/auth/login", json=login)
        assert logged_in.status_code == 200, logged_in.text
        result: dict[str, Any] = logged_in.json()
        return result


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


_PASSWORD_HASH = hash_password_sync(PASSWORD)


async def create_account(session: AsyncSession, *roles: str) -> tuple[str, int]:
    """An account made directly (registration has its own tests), sharing one password hash for speed."""
    name = unique_name()
    user = User(
        email=f"{name}@example.com",
        username=name,
        password_hash=_PASSWORD_HASH,
        email_verified=True,
        role_rows=[UserRole(role=role) for role in {"voter", *roles}],
    )
    session.add(user)
    await session.commit()
    return name, user.id
