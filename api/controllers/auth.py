from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from litestar.utils.scope.state import ScopeState
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, current_user, sign_in, sign_out
from api.devices import device_of
from api.presenters import user_out
from api.schemas import LoginRequest, RegisterRequest, UserOut
from core.models import utcnow
from core.net import normalize_ip
from core.services import login, users
from core.services.login import LoginAttempt, LoginPolicy, address_bucket
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
        sign_out(request)

    @get("/me", operation_id="getCurrentUser")
    async def me(self, request: Request[Any, Any, Any]) -> UserOut:
        return user_out(current_user(request))


class CredentialsController(Controller):
    """Register and log in: mounted behind a stricter per-address rate limit (see api.app)."""

    path = "/"
    tags = ["auth"]

    @post("/register", operation_id="register", opt=PUBLIC)
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
        sign_in(request, user)
        return user_out(user)

    @post("/login", operation_id="login", opt=PUBLIC, status_code=HTTP_200_OK)
    async def login(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: JSONBody[LoginRequest],
        db: NamedDependency[AsyncSession],
    ) -> Response[UserOut]:
        """Log in with email or username. Failed attempts slow down further ones per account and per
        address; a browser that logged in to the account before has a budget of its own."""
        settings = state.settings
        device_id, device_cookie = device_of(request, settings)
        attempt = LoginAttempt(
            login=data.login,
            password=data.password,
            address=address_bucket(normalize_ip(request.client.host if request.client else None)),
            device_id=device_id,
            now=utcnow(),
        )
        user = await login.log_in(db, attempt, LoginPolicy.of(settings.http))
        sign_in(request, user)
        return Response(user_out(user), cookies=[device_cookie] if device_cookie else [])
