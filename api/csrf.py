"""CSRF tokens bound to the login session they were issued for.

Litestar's CSRFMiddleware (double submit: a ``csrftoken`` cookie and the same value in ``x-csrftoken``) signs
a token with the secret key alone, so a token outlives logout and login, and one planted in a victim's browser
before they log in still passes afterwards. Litestar builds that middleware itself from ``csrf_config`` and
has no hook for what is signed, so this subclass replaces it: the same cookie, header, form field, safe
methods, exclusions and 403, with the HMAC taken over the token and the session id. When the response moves
the browser to another session (login, registration, role change, logout), a new token for it is sent.
"""

from __future__ import annotations

import secrets
from hmac import compare_digest
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRF_SECRET_BYTES, CSRF_SECRET_LENGTH, CSRFMiddleware, generate_csrf_hash
from litestar.types import Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from api.auth import CSRF_COOKIE, loaded_session_id, session_id_after

CSRF_HEADER = "x-csrftoken"
FAILED = "CSRF token verification failed"


def _signature(token_secret: str, session_id: str, secret: str) -> str:
    return generate_csrf_hash(token=f"{token_secret}:{session_id}", secret=secret)


def issue_token(session_id: str, secret: str) -> str:
    token_secret = secrets.token_hex(CSRF_SECRET_BYTES)
    return token_secret + _signature(token_secret, session_id, secret)


def token_valid_for(token: str | None, session_id: str, secret: str) -> bool:
    if not token or len(token) != 2 * CSRF_SECRET_LENGTH:
        return False
    token_secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return compare_digest(signature, _signature(token_secret, session_id, secret))


def check_header_token(request: Request[Any, Any, Any], secret: str) -> None:
    """The middleware's check for a route that must not have its body parsed: the header only."""
    sent, cookie = request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE)
    matching = bool(sent and cookie and compare_digest(sent, cookie))
    if not (matching and token_valid_for(cookie, loaded_session_id(request.scope) or "", secret)):
        raise PermissionDeniedException(f"{FAILED}: send the csrftoken cookie's value in X-CSRFToken")


class SessionBoundCSRFMiddleware(CSRFMiddleware):
    """Mounted as app middleware, inside the session middleware: the session is loaded when it runs."""

    def issue(self, session_id: str) -> str:
        return issue_token(session_id, self.config.secret)

    def valid_for(self, token: str | None, session_id: str) -> bool:
        return token_valid_for(token, session_id, self.config.secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return

        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name)
        # The session the request really belongs to: an id the store does not know counts as none.
        session_id = loaded_session_id(scope) or ""
        if request.method not in self.config.safe_methods:
            sent = request.headers.get(self.config.header_name)
            content_type, _ = request.content_type
            if not sent and content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
                sent = (await request.form()).get("_csrf_token")
            if not (
                sent and cookie and compare_digest(str(sent), cookie) and self.valid_for(cookie, session_id)
            ):
                raise PermissionDeniedException(FAILED)

        state = ScopeState.from_scope(scope)
        token, bound_to = (cookie, session_id) if self.valid_for(cookie, session_id) else (None, None)
        # A role change may have renewed the session before this point (the auth middleware runs first).
        current = session_id_after(scope) or ""
        if token is None or bound_to != current:
            token, bound_to = self.issue(current), current
        state.csrf_token = token
        to_send = token if token != cookie else None

        async def send_wrapper(message: Message) -> None:
            nonlocal to_send
            if message["type"] == "http.response.start":
                final = session_id_after(scope) or ""
                if final != bound_to:  # the handler signed in or out: a token for the new session
                    to_send = self.issue(final)
                if to_send is not None:
                    self._add_cookie(message, to_send)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _add_cookie(self, message: Message, token: str) -> None:
        cookie = Cookie(
            key=self.config.cookie_name,
            value=token,
            path=self.config.cookie_path,
            secure=self.config.cookie_secure,
            httponly=self.config.cookie_httponly,
            samesite=self.config.cookie_samesite,
            domain=self.config.cookie_domain,
        )
        MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
