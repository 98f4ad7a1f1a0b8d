from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from litestar.utils.scope.state import ScopeState
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, SESSION_USER_KEY, current_user
from api.openapi import error_responses
from api.presenters import user_out
from api.schemas import LoginRequest, RegisterRequest, UserOut
from core.models import utcnow
from core.services import users
from core.services.users import SELF_SERVICE_ROLES


class SessionController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @get("/csrf", operation_id="getCsrfToken", opt=PUBLIC)
    async def csrf(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        """The CSRF token to send back in the ``x-csrftoken`` header on every POST, PUT, PATCH and DELETE."""
        token = ScopeState.from_scope(request.scope).csrf_token
        return {"csrf_token": token if isinstance(token, str) else "", "header": "x-csrftoken"}

    @post("/logout", operation_id="logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        request.clear_session()

    @get("/me", operation_id="getCurrentUser")
    async def me(self, request: Request[Any, Any, Any]) -> UserOut:
        return user_out(current_user(request))


class CredentialsController(Controller):
    """Register and log in: mounted behind a stricter per-address rate limit (see api.app)."""

    path = "/"
    tags = ["auth"]

    @post("/register", operation_id="register", opt=PUBLIC, responses=error_responses(409))
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RegisterRequest],
        db: NamedDependency[AsyncSession],
    ) -> UserOut:
        """Create an account (voter, optionally contestant) and log it in."""
        users.check_roles(data.roles, allowed=frozenset(SELF_SERVICE_ROLES))
        user = await users.create_user(
            db, email=data.email, username=data.username, password=data.password, roles=data.roles
        )
        await db.commit()
        request.set_session({SESSION_USER_KEY: user.id})
        return user_out(user)

    @post("/login", operation_id="login", opt=PUBLIC, status_code=HTTP_200_OK, responses=error_responses(401))
    async def login(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: JSONBody[LoginRequest],
        db: NamedDependency[AsyncSession],
    ) -> UserOut:
        http = state.settings.http
        user = await users.authenticate(
            db,
            login=data.login,
            password=data.password,
            now=utcnow(),
            max_failures=http.login_max_failures,
            lockout=timedelta(seconds=http.login_lockout_seconds),
        )
        request.clear_session()
        request.set_session({SESSION_USER_KEY: user.id})
        return user_out(user)
