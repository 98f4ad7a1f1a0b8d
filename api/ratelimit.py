"""Litestar's rate-limit middleware with its check and record done in one step by the store when it can, and
the binding limit's headers on responses that pass several limiters."""

from __future__ import annotations

from time import time
from typing import Any, Protocol, runtime_checkable

from litestar.connection import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    CacheObject,
    RateLimitConfig,
    RateLimitMiddleware,
)
from litestar.serialization import decode_json
from litestar.stores.base import Store
from litestar.types import Message, Send

from api.auth import SESSION_USER_KEY


@runtime_checkable
class RecordsRequests(Protocol):
    async def record_request(self, key: str, *, now: int, window: int, limit: int) -> bytes | None: ...


class AtomicRateLimitMiddleware(RateLimitMiddleware):
    """Same limits, headers and 429 as Litestar's; on a store that records atomically (``RateLimitStore``)
    the GET and the SET become one round trip, so a vote pays one Redis call per limiter instead of two, and
    API processes sharing a limit cannot both admit its last request. Other stores (the embedded mode's
    files) take Litestar's own path."""

    async def retrieve_cached_history(self, key: str, store: Store) -> CacheObject:
        if not isinstance(store, RecordsRequests):
            return await super().retrieve_cached_history(key, store)
        window = DURATION_VALUES[self.unit]
        now = int(time())
        stored = await store.record_request(key, now=now, window=window, limit=self.max_requests)
        if stored:
            cached = CacheObject(**decode_json(value=stored))
            if cached.reset > now:
                return cached
        return CacheObject(history=[], reset=now + window)

    def create_send_wrapper(self, send: Send, cache_object: CacheObject) -> Send:
        """Litestar's wrapper overwrites the RateLimit-* headers of a limiter nested inside it, so a vote's
        response showed the per-address budget and hid the per-account one that binds. The limiter that
        leaves fewer requests now has its headers sent."""
        remaining_key = self.config.rate_limit_remaining_header_key

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                ours = self.create_response_headers(cache_object=cache_object)
                message.setdefault("headers", [])
                headers = MutableScopeHeaders(message)
                theirs = headers.get(remaining_key)
                if theirs is None or not theirs.isdigit() or int(theirs) > int(ours[remaining_key]):
                    for key, value in ours.items():
                        headers[key] = value
            await send(message)

        return send_wrapper

    async def set_cached_history(self, key: str, cache_object: CacheObject, store: Store) -> None:
        if not isinstance(store, RecordsRequests):
            await super().set_cached_history(key, cache_object, store)
            return
        # Already recorded by record_request: only the response headers need this request counted.
        cache_object.history = [int(time()), *cache_object.history]


def rate_limit(per_minute: int, store: str, **options: Any) -> DefineMiddleware:
    """Litestar's ``RateLimitConfig(...).middleware`` with the atomic middleware class."""
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        store=store,
        middleware_class=AtomicRateLimitMiddleware,
        **options,
    ).middleware


def account_or_address(request: Request[Any, Any, Any]) -> str:
    """The per-account limiter's key: the signed-in account, else the client address."""
    user_id = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
    return (
        f"account:{user_id}"
        if user_id is not None
        else f"address:{request.client.host if request.client else ''}"
    )
