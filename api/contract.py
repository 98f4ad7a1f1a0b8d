"""The OpenAPI document as the contract: every answer an operation can give, read from how it is mounted.

Litestar documents each operation's success answer and its 400; the other answers come from layers it
does not connect to the document: the session guard (401), role guards and CSRF (403), path ids (404),
rate limits (429), the body limits (408, 413), an unreachable database (503). And Litestar puts the
session cookie's security requirement on the whole document, public operations included. ``document``
runs over Litestar's own OpenAPI objects (``app.openapi_schema``), and adds what
each operation's mounting implies; statuses that come from the domain (409, 422 ...) are declared on
the handler with ``api.openapi.error_responses(...)``. tests/integration/test_contract.py holds the result
to it.

The document is completed when it is first served (ContractJsonPlugin), not when the app is built: building
it takes a few hundred milliseconds, and tests build hundreds of apps that never serve it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

import msgspec
from litestar import Litestar, Request
from litestar.datastructures import MutableScopeHeaders
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

from api import schemas
from api.openapi import MEANINGS

SESSION_SCHEME = "sessionCookie"
ERROR_REF = Reference(ref="#/components/schemas/ErrorOut")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _error(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=MEANINGS[status], content={"application/json": OpenAPIMediaType(schema=ERROR_REF)}
    )


def _matches(path: str, patterns: Iterable[str]) -> bool:
    return any(re.search(pattern, path) for pattern in patterns)


def _implied(
    route: HTTPRoute,
    handler: HTTPRouteHandler,
    method: str,
    operation: Operation,
    *,
    unauthenticated: Iterable[str],
    unprotected: Iterable[str],
) -> set[int]:
    """The statuses an operation can answer because of how it is mounted."""
    statuses = {503}
    path = route.path_format
    public = handler.opt.get("exclude_from_auth") or _matches(path, unauthenticated)
    if not public or handler.opt.get("requires_session"):
        statuses.add(401)
    checks_csrf = method in UNSAFE_METHODS and not handler.opt.get("exclude_from_csrf")
    if handler.resolve_guards() or (checks_csrf and not _matches(path, unprotected)):
        statuses.add(403)
    if operation.parameters or operation.request_body is not None:
        statuses.add(400)
    if route.path_parameters:
        statuses.add(404)
    if operation.request_body is not None:
        statuses.update({408, 413})
    if handler.opt.get("raw_body"):
        statuses.add(415)
    if handler.opt.get("csv_answer"):
        _csv_answer(operation)
    if not _matches(path, unprotected):
        statuses.add(429)
    return statuses


NO_NUL = "^[^\\x00]*$"


def _no_nul(schema: Any) -> None:
    """Strings in bodies hold no NUL character (api.bodies refuses it): said once per string without a
    pattern of its own (the patterns that exist leave NUL out already)."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
            schema["pattern"] = NO_NUL
        for value in schema.values():
            _no_nul(value)
    elif isinstance(schema, list):
        for value in schema:
            _no_nul(value)


def _exact_request_schemas(components: Components) -> None:
    """Closed and array-like structs as msgspec, which validates and encodes them, describes them. Litestar's
    version loses the limits inside lists (``roles: [""]`` looked valid), does not say that unknown fields
    are refused (``forbid_unknown_fields``: ``additionalProperties: false``; it also makes the song answers'
    ``oneOf`` pick exactly one), and shows an array-like struct (history entries) as an object."""
    closed = [
        value
        for value in vars(schemas).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and (value.__struct_config__.forbid_unknown_fields or value.__struct_config__.array_like)
    ]
    _, exact = msgspec.json.schema_components(closed, ref_template="#/components/schemas/{name}")
    for name, schema in exact.items():
        _no_nul(schema)
        if name in components.schemas:
            components.schemas[name] = cast(Schema, schema)  # a plain JSON Schema dict serialises as it is


def _raw_body(handler: HTTPRouteHandler, operation: Operation) -> None:
    """An operation that streams its body itself (an upload) declares the media types it takes."""
    media_types = handler.opt.get("raw_body")
    if media_types and operation.request_body is None:
        binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        operation.request_body = RequestBody(
            required=True, content={media: OpenAPIMediaType(schema=binary) for media in media_types}
        )


def _json_headers(handler: HTTPRouteHandler, operation: Operation, components: Components) -> None:
    """A header whose value is JSON (the song details of an upload) is described by its schema."""
    for name, struct in handler.opt.get("json_headers", {}).items():
        _, exact = msgspec.json.schema_components([struct], ref_template="#/components/schemas/{name}")
        for key, schema in exact.items():
            components.schemas.setdefault(key, cast(Schema, schema))
        for parameter in operation.parameters or []:
            if isinstance(parameter, Parameter) and parameter.name == name:
                reference = Reference(ref=f"#/components/schemas/{struct.__name__}")
                parameter.schema = None
                parameter.content = {"application/json": OpenAPIMediaType(schema=reference)}


def _binary_answer(handler: HTTPRouteHandler, operation: Operation) -> None:
    """A file answer (audio): its media type, a partial answer for a Range, and 304 for a cached copy."""
    media_type = handler.opt.get("binary_answer")
    if not media_type or operation.responses is None:
        return
    binary = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
    operation.responses["200"] = OpenAPIResponse(description="the file", content={media_type: binary})
    operation.responses["206"] = OpenAPIResponse(
        description="the requested range", content={media_type: binary}
    )
    operation.responses["304"] = OpenAPIResponse(description="the client's copy is current")
    operation.responses["416"] = OpenAPIResponse(
        description="the range is outside the file (`range_not_satisfiable`)",
        content={"application/json": OpenAPIMediaType(schema=ERROR_REF)},
    )


def _csv_answer(operation: Operation) -> None:
    """An answer that is JSON by default and CSV on request (``format=csv``)."""
    ok = (operation.responses or {}).get("200")
    if isinstance(ok, OpenAPIResponse):
        ok.content = {
            **(ok.content or {}),
            "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
        }


INT8_MAX = 2**63 - 1


def _exact_limits(operation: Operation) -> None:
    """Litestar writes a parameter's bounds as floats, and 2**63 - 1 (a vote id's largest) is not a float:
    the document said 9223372036854775808, one more than the server accepts."""
    for parameter in operation.parameters or []:
        schema = getattr(parameter, "schema", None)
        if isinstance(schema, Schema) and schema.maximum is not None and schema.maximum == float(INT8_MAX):
            schema.maximum = INT8_MAX


def document(app: Litestar, *, unauthenticated: Iterable[str], unprotected: Iterable[str]) -> None:
    """Complete Litestar's OpenAPI objects for ``app`` in place, before anyone has read the document."""
    openapi = app.openapi_schema
    openapi.security = None  # each operation states its own (public ones: none)
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    _exact_request_schemas(components)
    components.schemas.setdefault(
        "ErrorOut",
        Schema(
            type=OpenAPIType.OBJECT,
            required=["status_code", "code", "detail"],
            properties={
                "status_code": Schema(type=OpenAPIType.INTEGER),
                "code": Schema(type=OpenAPIType.STRING),
                "detail": Schema(type=OpenAPIType.STRING),
                "extra": Schema(),
            },
        ),
    )
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        item = openapi.paths.get(route.path_format) if openapi.paths else None
        if item is None:
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if not isinstance(operation, Operation):
                    continue
                _raw_body(handler, operation)
                statuses = _implied(
                    route,
                    handler,
                    method,
                    operation,
                    unauthenticated=unauthenticated,
                    unprotected=unprotected,
                )
                _binary_answer(handler, operation)
                _json_headers(handler, operation, components)
                _exact_limits(operation)
                responses: dict[str, Any] = dict(operation.responses or {})
                for status in sorted(statuses):
                    responses.setdefault(str(status), _error(status))
                operation.responses = dict(sorted(responses.items()))
                operation.security = [{SESSION_SCHEME: []}] if 401 in statuses else None


class ContractJsonPlugin(JsonRenderPlugin):
    """Serves /schema/openapi.json as ``document`` completes it, once per app (Scalar's page reads it)."""

    def __init__(self, *, unauthenticated: Iterable[str], unprotected: Iterable[str]) -> None:
        super().__init__()
        self.unauthenticated, self.unprotected = list(unauthenticated), list(unprotected)
        self.rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self.rendered is None:
            app = request.app
            document(app, unauthenticated=self.unauthenticated, unprotected=self.unprotected)
            self.rendered = self.render_json(request, app.openapi_schema.to_schema())
        return self.rendered


_ALLOWED: dict[int, dict[str, str]] = {}


async def allow_every_method(message: Message, scope: Scope) -> None:
    """``before_send`` hook: an OPTIONS answer lists every method of its path.

    Litestar registers a controller's handlers one at a time; the OPTIONS handler made for a path's first
    handler keeps that route's methods when later handlers on the same path replace the route, so
    ``OPTIONS /api/contests`` answered ``Allow: OPTIONS, POST`` without GET."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    app = scope["app"]
    allowed = _ALLOWED.get(id(app))
    if allowed is None:
        allowed = {
            route.path_format: ", ".join(sorted(route.methods))
            for route in app.routes
            if isinstance(route, HTTPRoute)
        }
        _ALLOWED[id(app)] = allowed
    methods = allowed.get(str(scope.get("path_template", "")))
    if methods:
        MutableScopeHeaders.from_message(message)["allow"] = methods
