"""Cookie sessions (server-side store) and role guards.

Session ids are made by the server only. Litestar's server-side backend keeps whatever id the browser's cookie
holds, even one the store never issued: an attacker who plants ``ovation_session=<value>`` in a victim's
browser would own the session the victim then logs into. Here an id is used only when the store knows it,
and ``sign_in`` gives every login, registration and role change a new one (the old one is deleted), so an id
learned before cannot follow the account across those changes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders, State
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.security.session_auth import SessionAuth
from litestar.types import Message, Scope, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from api.stores import DatabaseSessionStore
from core.accounts.signup import Links
from core.errors import Forbidden, NotAuthenticated
from core.models import Role, User
from core.services import users
from core.settings import Settings

SESSION_USER_KEY = "uid"
UNAUTHENTICATED_PATHS = ["^/schema", "^/health$", "^/ready$", "^/metrics"]  # never look at the session
# The roles the session was started with: when an admin changes them, the next request renews the id.
SESSION_ROLES_KEY = "roles"
SESSION_COOKIE = "ovation_session"
SESSION_ID_BYTES = 32
CSRF_COOKIE = "csrftoken"  # bound to the session (api.csrf)
# Kept in the request's scope state: the id whose stored session the request carries, and the new id it
# leaves the browser with.
_LOADED = "ovation.session.loaded"
_RENEWED = "ovation.session.renewed"
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


def roles_mark(roles: frozenset[str]) -> str:
    return ",".join(sorted(roles))


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def sign_in(connection: ASGIConnection[Any, Any, Any, Any], user: User) -> None:
    """Start ``user``'s session under a new id; the browser's previous session, if any, ends."""
    connection.set_session({SESSION_USER_KEY: user.id, SESSION_ROLES_KEY: roles_mark(user.roles)})
    _state(connection.scope)[_RENEWED] = secrets.token_hex(SESSION_ID_BYTES)


def sign_out(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.clear_session()


def forget_sessions(connection: ASGIConnection[Any, Any, Any, Any], keys: list[str]) -> None:
    """Sessions a service deleted: this process stops serving them from its read cache at once."""
    store = connection.app.stores.get("sessions")
    if isinstance(store, DatabaseSessionStore):
        store.forget(keys)


def remember_account(connection: ASGIConnection[Any, Any, Any, Any], user: User) -> None:
    """An account this request just changed: this process's next requests see the change at once (others
    within OVATION_AUTH_CACHE_SECONDS)."""
    recent: RecentUsers = connection.app.state.recent_users
    recent.put(user.id, user)


def links_of(state: State) -> Links:
    settings = state.settings
    return Links(mail=settings.mail, secret=settings.secret_key)


def loaded_session_id(scope: Scope) -> str | None:
    """The id of the stored session this request came with (None: none, or one the store does not know)."""
    loaded: str | None = _state(scope).get(_LOADED)
    return loaded


def session_id_after(scope: Scope) -> str | None:
    """The session id the response leaves the browser with: None when the session is ended or empty."""
    session = scope.get("session")
    if not isinstance(session, dict) or not session:
        return None
    state = _state(scope)
    target: str | None = state.get(_RENEWED) or state.get(_LOADED)
    if target is None:  # data set without sign_in: a new id all the same, never one the client sent
        target = state[_RENEWED] = secrets.token_hex(SESSION_ID_BYTES)
    return target


async def retrieve_user(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> User | None:
    user_id = session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    recent: RecentUsers = connection.app.state.recent_users
    known, user = recent.get(user_id)
    if not known:
        async with connection.app.state.sessionmaker() as db:
            # A banned or deleted account loses its sessions (within the cache's moment).
            user = await users.get_active_user(db, user_id)
        recent.put(user_id, user)
    if user is not None and session.get(SESSION_ROLES_KEY) != roles_mark(user.roles):
        sign_in(connection, user)  # the roles changed since the session began: a new id for the new rights
    return user


class LeanSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions under ids the server made (see the module's note), minus a store
    write and a cookie where they change nothing:
    - an empty session that never existed is not saved (public pages and leaderboard reads stay read-only);
    - an unchanged session whose stored expiry is still more than half its lifetime away is neither written
      nor sent back as a Set-Cookie. The browser's cookie got the same lifetime when the row was last
      written, so it is as fresh as the row; both are renewed together once half of it has passed.
    Rows record their account (``user_id``), so that a password reset can end all of its sessions."""

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id or session_id == "null" or len(session_id) > 128:
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        data = await self.get(session_id, store=store)
        if data is None:
            return {}
        _state(connection.scope)[_LOADED] = session_id
        return self.deserialize_data(data)

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        return loaded_session_id(connection.scope) or self.generate_session_id()

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        scope = connection.scope
        store = self.config.get_store_from_app(scope["app"])
        loaded, target = loaded_session_id(scope), session_id_after(scope)
        headers = MutableScopeHeaders.from_message(message)
        cookie_params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        if loaded and loaded != target:
            await self.delete(loaded, store=store)  # renewed or ended: the old id is over
            if not any(value.startswith(f"{CSRF_COOKIE}=") for value in headers.getall("set-cookie", [])):
                # Ended where the CSRF middleware did not run (the auth middleware refused a banned
                # account): its token, bound to the old id, goes too, so the page fetches a new one.
                expired = Cookie(key=CSRF_COOKIE, value="", expires=0, path="/", samesite="lax")
                headers.add("Set-Cookie", expired.to_header(header=""))
        if target is None or not isinstance(scope_session, dict):
            if connection.cookies.get(self.config.key, "null") != "null":  # an id that is over, or never was
                cookie = Cookie(value="null", key=self.config.key, expires=0, **cookie_params)
                headers.add("Set-Cookie", cookie.to_header(header=""))
            return
        data = self.serialize_data(scope_session, scope)
        if isinstance(store, DatabaseSessionStore):
            if target == loaded and store.is_current(target, data, self.config.max_age):
                return
            owner = scope_session.get(SESSION_USER_KEY)
            await store.set(
                target, data, self.config.max_age, user_id=owner if isinstance(owner, int) else None
            )
        else:
            await self.set(target, data, store=store)
        headers.add(
            "Set-Cookie", Cookie(value=target, key=self.config.key, **cookie_params).to_header(header="")
        )


@dataclass
class LeanSessionConfig(ServerSideSessionConfig):
    _backend_class = LeanSessionBackend


def session_auth(settings: Settings) -> SessionAuth[User, ServerSideSessionBackend]:
    return SessionAuth[User, ServerSideSessionBackend](
        retrieve_user_handler=retrieve_user,
        session_backend_config=LeanSessionConfig(
            store="sessions",
            key=SESSION_COOKIE,
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
