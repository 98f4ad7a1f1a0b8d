"""Cookie sessions (server-side store) and role guards."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.security.session_auth import SessionAuth
from litestar.types import Empty, Message, ScopeSession

from api.stores import DatabaseSessionStore
from core.errors import Forbidden, NotAuthenticated
from core.models import Role, User
from core.services import users
from core.settings import Settings

SESSION_USER_KEY = "uid"
UNAUTHENTICATED_PATHS = ["^/schema", "^/health$", "^/ready$", "^/metrics"]  # never look at the session
PUBLIC = {"exclude_from_auth": True}  # opt for handlers anyone may call
# Public reads change nothing, so they need no CSRF token, and not minting one (plus a cookie) for every
# anonymous request keeps leaderboard and song reads cheap. The token comes from GET /api/auth/csrf.
PUBLIC_READ = {"exclude_from_auth": True, "exclude_from_csrf": True}
# For a handler that reads the account itself from the session's user id (session_user_id) with the rest of
# what it needs, in one query: the auth middleware's account load would be a second one. CSRF still applies.
SIGNED_IN_SESSION = {"exclude_from_auth": True, "requires_session": True}


class RecentUsers:
    """Accounts loaded in the last moment, per process: a voter's burst of requests costs one query. A ban
    applies within ``ttl`` seconds on every API process."""

    def __init__(self, ttl: float = 2.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._users: dict[int, tuple[float, User | None]] = {}

    def get(self, user_id: int) -> tuple[bool, User | None]:
        entry = self._users.get(user_id)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return False, None
        return True, entry[1]

    def put(self, user_id: int, user: User | None) -> None:
        if len(self._users) >= self.size:
            self._users.clear()
        self._users[user_id] = (time.monotonic(), user)


async def retrieve_user(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> User | None:
    user_id = session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    recent: RecentUsers = connection.app.state.recent_users
    known, user = recent.get(user_id)
    if known:
        return user
    async with connection.app.state.sessionmaker() as db:
        # A banned or deleted account loses its sessions (within the cache's moment).
        user = await users.get_active_user(db, user_id)
    recent.put(user_id, user)
    return user


class LeanSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions, minus a store write and a cookie where they change nothing:
    - an empty session that never existed is not saved (public pages and leaderboard reads stay read-only);
    - an unchanged session whose stored expiry is still more than half its lifetime away is neither written
      nor sent back as a Set-Cookie. The browser's cookie got the same lifetime when the row was last
      written, so it is as fresh as the row; both are renewed together once half of it has passed."""

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        session_id = connection.cookies.get(self.config.key)
        if not scope_session and session_id is None:
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        if (
            scope_session is not Empty
            and session_id
            and isinstance(store, DatabaseSessionStore)
            and store.is_current(
                session_id, self.serialize_data(scope_session, connection.scope), self.config.max_age
            )
        ):
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class LeanSessionConfig(ServerSideSessionConfig):
    _backend_class = LeanSessionBackend


def session_auth(settings: Settings) -> SessionAuth[User, ServerSideSessionBackend]:
    return SessionAuth[User, ServerSideSessionBackend](
        retrieve_user_handler=retrieve_user,
        session_backend_config=LeanSessionConfig(
            store="sessions",
            key="ovation_session",
            max_age=14 * 24 * 3600,
            secure=settings.http.secure_cookies,
            httponly=True,
            samesite="lax",
        ),
        exclude=UNAUTHENTICATED_PATHS,
        exclude_opt_key="exclude_from_auth",
    )


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    user = connection.scope.get("user")
    if not isinstance(user, User):
        raise NotAuthenticated("log in first", code="not_authenticated")
    return user


def session_user_id(connection: ASGIConnection[Any, Any, Any, Any]) -> int:
    """The logged-in account's id from the session, unchecked: the caller confirms the account is active."""
    user_id = connection.session.get(SESSION_USER_KEY) if "session" in connection.scope else None
    if not isinstance(user_id, int):
        raise NotAuthenticated("log in first", code="not_authenticated")
    return user_id


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
