"""Every error answers JSON naming the problem: ``{"status_code", "code", "detail", "extra"}``."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import sqlalchemy.exc
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from core.errors import DomainError, Throttled

log = logging.getLogger("ovation.api")

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "body_timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


def _body(status: int, code: str, detail: str, extra: Any = None) -> Response[dict[str, Any]]:
    content: dict[str, Any] = {"status_code": status, "code": code, "detail": detail}
    if extra:
        content["extra"] = extra
    return Response(content, status_code=status, media_type=MediaType.JSON)


def domain_error(_request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    response = _body(exc.status_code, exc.code, exc.message, exc.extra or None)
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def http_error(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    detail = exc.detail
    if isinstance(exc, ValidationException):
        code = "validation_error"
    elif isinstance(exc.__cause__, SerializationException):
        code, detail = "malformed_body", f"malformed request body: {exc.detail}"
    elif exc.status_code == 403 and "csrf" in exc.detail.lower():
        code = "csrf_failed"
    else:
        code = _CODES_BY_STATUS.get(exc.status_code, "error")
    response = _body(exc.status_code, code, detail, exc.extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def backend_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """The database (or another server) cannot be reached: a 503 the client may retry, not a 500."""
    log.warning("backend unreachable on %s %s: %r", request.method, request.url.path, exc)
    response = _body(
        HTTP_503_SERVICE_UNAVAILABLE, "service_unavailable", "the service is briefly unavailable; try again"
    )
    response.headers["Retry-After"] = "5"
    return response


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "internal server error")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    HTTPException: http_error,
    # A refused or dropped connection (the asyncpg pool raises these as they are; SQLAlchemy wraps them).
    ConnectionError: backend_unavailable,
    asyncpg.PostgresConnectionError: backend_unavailable,
    asyncpg.CannotConnectNowError: backend_unavailable,
    sqlalchemy.exc.OperationalError: backend_unavailable,
    sqlalchemy.exc.InterfaceError: backend_unavailable,
    Exception: unexpected_error,
}
