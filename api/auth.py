"""Cookie sessions (server-side store) and role guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.security.session_auth import SessionAuth

from core.errors import Forbidden, NotAuthenticated
from core.models import Role, User
from core.services import users
from core.settings import Settings

SESSION_USER_KEY = "uid"
PUBLIC = {"exclude_from_auth": True}  # opt for handlers anyone may call


async def retrieve_user(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> User | None:
    user_id = session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    async with connection.app.state.sessionmaker() as db:
        # A banned or deleted account loses its sessions at once.
        return await users.get_active_user(db, user_id)


def session_auth(settings: Settings) -> SessionAuth[User, ServerSideSessionBackend]:
    return SessionAuth[User, ServerSideSessionBackend](
        retrieve_user_handler=retrieve_user,
        session_backend_config=ServerSideSessionConfig(
            store="sessions",
            key="ovation_session",
            max_age=14 * 24 * 3600,
            secure=settings.http.secure_cookies,
            httponly=True,
            samesite="lax",
        ),
        exclude=["^/schema", "^/health$", "^/ready$", "^/metrics"],
        exclude_opt_key="exclude_from_auth",
    )


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    user = connection.scope.get("user")
    if not isinstance(user, User):
        raise NotAuthenticated("log in first", code="not_authenticated")
    return user


def requires_role(*roles: Role) -> Any:
    names = tuple(role.value for role in roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        if not current_user(connection).has_role(*names):
            raise Forbidden(f"this needs the {' or '.join(names)} role", code="missing_role")

    guard.__name__ = f"requires_{'_or_'.join(names)}"
    return guard


async def optional_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The logged-in user on a public route (auth middleware skipped it), or None."""
    user_id = connection.session.get(SESSION_USER_KEY) if "session" in connection.scope else None
    if not isinstance(user_id, int):
        return None
    async with connection.app.state.sessionmaker() as db:
        return await users.get_active_user(db, user_id)
