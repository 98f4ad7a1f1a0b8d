"""A deadline for reading request bodies, and the uvicorn options that carry the server's other limits.

uvicorn has no body-read timeout: a client that sends headers announcing a body and then a byte a minute
holds a connection and a request task for as long as it likes. Here, as Apache's mod_reqtimeout does it
(``body=30,MinRate=1024``), the body must start within ``body_timeout_seconds`` and each byte received adds
``1 / body_min_rate`` seconds to the deadline: an honest slow network that keeps up the minimum rate always
finishes, however long its upload takes; a stalled or dribbling one is answered 408 and disconnected.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from core.settings import HttpSettings


class BodyTimeout(HTTPException):
    status_code = 408

    def __init__(self, waited: float) -> None:
        super().__init__(
            detail=f"the request body stopped arriving after {waited:.0f} s (it came too slowly or not at "
            "all): send it again",
            headers={"Connection": "close"},
        )


class BodyDeadlineMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, timeout_seconds: float, min_rate: float) -> None:
        self.timeout = timeout_seconds
        self.min_rate = min_rate

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        received = 0
        body_done = False

        async def receive_in_time() -> ReceiveMessage:
            nonlocal received, body_done
            if body_done:  # later calls wait for the client to leave (a live feed): no deadline for that
                return await receive()
            deadline = started + self.timeout + received / self.min_rate
            try:
                async with asyncio.timeout_at(deadline):
                    message: Any = await receive()
            except TimeoutError:
                raise BodyTimeout(loop.time() - started) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message  # type: ignore[no-any-return]

        await next_app(scope, receive_in_time, send)


def uvicorn_options(http: HttpSettings) -> dict[str, Any]:
    """The limits uvicorn itself enforces. Request line and headers are bounded only by its h11 parser
    (``h11_max_incomplete_event_size``: over it, a 400 and the connection closed, nothing more buffered);
    httptools, the faster default, buffers a header of any size. So h11 is used while the limit is on, and
    httptools when OVATION_HTTP_MAX_HEADER_BYTES is 0 because a reverse proxy in front enforces one."""
    options: dict[str, Any] = {
        "timeout_keep_alive": http.keepalive_seconds,
        "limit_concurrency": http.max_connections or None,
    }
    if http.max_header_bytes > 0:
        options.update(http="h11", h11_max_incomplete_event_size=http.max_header_bytes)
    else:
        options["http"] = "httptools"
    return options
