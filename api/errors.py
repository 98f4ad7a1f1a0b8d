"""Every error answers JSON naming the problem: ``{"status_code", "code", "detail", "extra"}``; a browser
that navigated to the address (it prefers HTML to JSON) gets the same as a page of the site instead."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import sqlalchemy.exc
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from api.controllers.pages import PAGE_HEADERS
from core.errors import DomainError, Throttled

log = logging.getLogger("ovation.api")

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


_PAGE_HEADINGS = {
    400: "That request was not understood",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not possible here",
    429: "Too many requests",
    503: "Briefly unavailable",
}
_PAGE_MESSAGES = {
    404: "There is nothing at this address. It may have moved, or the link may be mistyped.",
    500: "Something went wrong on our side. It has been logged; please try again in a moment.",
}


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    # Scripts send Accept: application/json and tools */*, both answered JSON; a browser's address bar
    # asks for text/html first.
    preferred = request.accept.best_match([MediaType.JSON.value, MediaType.HTML.value], MediaType.JSON.value)
    return request.method in ("GET", "HEAD") and preferred == MediaType.HTML.value


def _error_page(request: Request[Any, Any, Any], status: int, code: str, detail: str) -> Response[Any] | None:
    engine = request.app.template_engine
    if engine is None:
        return None
    try:
        html = engine.get_template("error.html").render(
            heading=_PAGE_HEADINGS.get(status, "Something went wrong"),
            message=_PAGE_MESSAGES.get(status) or detail[:1].upper() + detail[1:],
            status_code=status,
            code=code,
        )
    except Exception:  # an error page must never fail the error: the JSON answer stands in
        log.exception("the error page could not be rendered")
        return None
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=PAGE_HEADERS)


def _body(
    status: int, code: str, detail: str, extra: Any = None, *, request: Request[Any, Any, Any] | None = None
) -> Response[Any]:
    if request is not None and _wants_page(request) and (page := _error_page(request, status, code, detail)):
        return page
    content: dict[str, Any] = {"status_code": status, "code": code, "detail": detail}
    if extra:
        content["extra"] = extra
    return Response(content, status_code=status, media_type=MediaType.JSON)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    response = _body(exc.status_code, exc.code, exc.message, exc.extra or None, request=request)
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = exc.detail
    if isinstance(exc, ValidationException):
        code = "validation_error"
    elif isinstance(exc.__cause__, SerializationException):
        code, detail = "malformed_body", f"malformed request body: {exc.detail}"
    elif exc.status_code == 403 and "csrf" in exc.detail.lower():
        code = "csrf_failed"
    else:
        code = _CODES_BY_STATUS.get(exc.status_code, "error")
    response = _body(exc.status_code, code, detail, exc.extra, request=request)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def backend_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database (or another server) cannot be reached: a 503 the client may retry, not a 500."""
    log.warning("backend unreachable on %s %s: %r", request.method, request.url.path, exc)
    response = _body(
        HTTP_503_SERVICE_UNAVAILABLE,
        "service_unavailable",
        "the service is briefly unavailable; try again",
        request=request,
    )
    response.headers["Retry-After"] = "5"
    return response


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "internal server error", request=request)


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
