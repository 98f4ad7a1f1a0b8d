from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from api.operators import is_operator
from core.services import ops

log = logging.getLogger(__name__)


class OpsController(Controller):
    tags = ["operations"]
    opt = {"exclude_from_auth": True, "exclude_from_csrf": True}

    @get("/health", operation_id="health")
    async def health(self) -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready")
    async def ready(self, request: Request[Any, Any, Any], state: State) -> Response[dict[str, Any]]:
        """Database and broker reachable (503 otherwise). Operators (see api.operators) also get each check
        and when each worker last reported in."""
        checks: dict[str, Any] = {}
        try:
            async with state.sessionmaker() as db:
                await asyncio.wait_for(ops.database_reachable(db), timeout=3)
                beats = await ops.heartbeats(db)
            checks["database"] = "ok"
            checks["workers"] = {beat.name: beat.seen_at.isoformat() for beat in beats}
        except Exception as exc:
            log.warning("readiness: database unreachable: %s", exc)
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await asyncio.wait_for(asyncio.to_thread(state.dispatcher.check_broker), timeout=3)
            checks["broker"] = "ok"
        except Exception as exc:
            log.warning("readiness: broker unreachable: %s", exc)
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        ready = checks["database"] == "ok" and checks["broker"] == "ok"
        body: dict[str, Any] = {"status": "ready" if ready else "not_ready"}
        if is_operator(request, state.settings.http):
            body["checks"] = checks
        return Response(
            body,
            status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
            media_type=MediaType.JSON,
        )
