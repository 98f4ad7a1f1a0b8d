"""Litestar's rate-limit middleware with its check and record done in one Redis call for every limit a request
passes, and the binding limit's headers on the response."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from time import time
from typing import Any, Protocol, runtime_checkable

from litestar.connection import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    CacheObject,
    RateLimitConfig,
    RateLimitMiddleware,
)
from litestar.types import Message, Receive, Scope, Send

from api.auth import SESSION_USER_KEY
from api.stores import Budget, Usage

# On a handler whose own limiter also takes the per-address budget (in the same Redis call): the app-wide
# per-address limiter leaves it alone.
ADDRESS_LIMIT_ON_ROUTE = "address_limit_on_route"


@runtime_checkable
class RecordsRequests(Protocol):
    def qualified(self, key: str) -> str: ...

    async def record_requests(
        self, budgets: Sequence[Budget], *, now: int, window: int
    ) -> list[Usage] | None: ...


@dataclass
class CombinedRateLimitConfig(RateLimitConfig):
    """A limiter that also takes the budget of ``also`` (the app-wide per-address one) in its single call."""

    also: RateLimitConfig | None = None


def _cache_key(identifier: str, request: Request[Any, Any, Any]) -> str:
    # Litestar's key layout (RateLimitMiddleware.cache_key_from_request), one class name for every limiter.
    key = f"{AtomicRateLimitMiddleware.__name__}::{identifier}"
    route_handler = request.scope["route_handler"]
    if getattr(route_handler, "is_mount", False):
        key += "::mount"
    if getattr(route_handler, "is_static", False):
        key += "::static"
    return key


class AtomicRateLimitMiddleware(RateLimitMiddleware):
    """Same limits, headers and 429 as Litestar's. On a store that records atomically (``RateLimitStore``)
    one Redis call checks and records every budget the request passes (a vote: per address and per
    account), holds a count per key instead of a list of request times, and needs no process-wide lock
    (Litestar's limiter holds one around its GET and SET, so all requests of a process queued on it).
    Other stores (the embedded mode's files) take Litestar's own path."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        store = self.config.get_store_from_app(app)
        if not isinstance(store, RecordsRequests):
            await super().__call__(scope, receive, send)
            return
        request: Request[Any, Any, Any] = app.request_class(scope)
        if not await self.should_check_request(request=request):
            await self.app(scope, receive, send)
            return
        window = DURATION_VALUES[self.unit]
        budgets: list[Budget] = []
        also = self.config.also if isinstance(self.config, CombinedRateLimitConfig) else None
        if also is not None and request.route_handler.opt.get(ADDRESS_LIMIT_ON_ROUTE):
            address_store = also.get_store_from_app(app)
            if isinstance(address_store, RecordsRequests) and DURATION_VALUES[also.rate_limit[0]] == window:
                key = _cache_key(also.identifier_for_request(request), request)
                budgets.append((address_store.qualified(key), also.rate_limit[1]))
        own_key = _cache_key(self.get_identifier_for_request(request), request)
        budgets.append((store.qualified(own_key), self.max_requests))
        now = int(time())
        usage = await store.record_requests(budgets, now=now, window=window)
        if usage is None:  # Redis unreachable: fail open (logged and counted by the store)
            usage = [(0, now + window)] * len(budgets)
        headers: dict[str, str] | None = None
        for (_, limit), (count, reset) in zip(budgets, usage, strict=False):
            if count >= limit:
                raise TooManyRequestsException(
                    headers=self._headers(limit, count, reset - now)
                    if self.config.set_rate_limit_headers
                    else None
                )
            candidate = self._headers(limit, count + 1, reset - now)
            if headers is None or int(candidate[self._remaining_key]) < int(headers[self._remaining_key]):
                headers = candidate
        if self.config.set_rate_limit_headers and headers is not None:
            send = self._send_with_headers(send, headers)
        await self.app(scope, receive, send)

    @property
    def _remaining_key(self) -> str:
        return self.config.rate_limit_remaining_header_key

    def _headers(self, limit: int, used: int, reset_in: int) -> dict[str, str]:
        """Litestar's RateLimit-* headers (create_response_headers) from a count."""
        return {
            self.config.rate_limit_policy_header_key: f"{limit}; w={DURATION_VALUES[self.unit]}",
            self.config.rate_limit_limit_header_key: str(limit),
            self._remaining_key: str(max(0, limit - used)),
            self.config.rate_limit_reset_header_key: str(reset_in),
        }

    def create_send_wrapper(self, send: Send, cache_object: CacheObject) -> Send:
        """Litestar's path (file stores): its wrapper let an outer limiter overwrite an inner one's
        RateLimit-* headers, so a vote's response showed the per-address budget and hid the per-account
        one that binds."""
        return self._send_with_headers(send, self.create_response_headers(cache_object=cache_object))

    def _send_with_headers(self, send: Send, ours: dict[str, str]) -> Send:
        """The limiter that leaves fewer requests has its headers sent."""

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableScopeHeaders(message)
                theirs = headers.get(self._remaining_key)
                if theirs is None or not theirs.isdigit() or int(theirs) > int(ours[self._remaining_key]):
                    for key, value in ours.items():
                        headers[key] = value
            await send(message)

        return send_wrapper


def rate_limit(
    per_minute: int, store: str, *, also: RateLimitConfig | None = None, **options: Any
) -> DefineMiddleware:
    """Litestar's ``RateLimitConfig(...).middleware`` with the atomic middleware class; ``also``: take that
    limiter's budget in the same call (the store must support it, see ``api.stores.RateLimitStore``)."""
    return rate_limit_config(per_minute, store, also=also, **options).middleware


def rate_limit_config(
    per_minute: int, store: str, *, also: RateLimitConfig | None = None, **options: Any
) -> RateLimitConfig:
    return CombinedRateLimitConfig(
        rate_limit=("minute", per_minute),
        store=store,
        middleware_class=AtomicRateLimitMiddleware,
        also=also,
        **options,
    )


def account_or_address(request: Request[Any, Any, Any]) -> str:
    """The per-account limiter's key: the signed-in account, else the client address."""
    user_id = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
    return (
        f"account:{user_id}"
        if user_id is not None
        else f"address:{request.client.host if request.client else ''}"
    )
