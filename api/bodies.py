"""JSON request bodies that cannot hurt the server: too deep a body is a 400 ``body_too_deep``.

Litestar decodes a JSON body into plain Python values first, then converts them into the handler's type.
msgspec's decoder recurses once per level of nesting and raises RecursionError near Python's limit (about a
thousand levels), which Litestar does not catch: a few kilobytes of ``[`` answered 500 and logged a traceback
per request, even anonymously. A body a little less deep decoded, but could still overflow the stack later
(converting it, storing it in a JSON column, encoding it in every answer that shows it). So the decoded body
is also checked against a depth no real request of this API comes near.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from core.errors import InvalidInput

MAX_JSON_DEPTH = 32


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` (decoded JSON) nests lists and objects more than ``limit`` levels deep."""
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:  # iterative: the check must not recurse either
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def refuse_deep() -> InvalidInput:
    return InvalidInput(
        f"the JSON body nests lists and objects more than {MAX_JSON_DEPTH} levels deep", code="body_too_deep"
    )


def _json_numbers(value: Any) -> Any:
    """``value`` with integral floats as ints: JSON Schema counts ``134.0`` as an integer, msgspec's strict
    mode does not. Refuses NUL characters on the way: PostgreSQL stores none in text or JSON, and a note
    holding one answered 500. (Depth is already bounded, so this recursion is too.)"""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(
                "text in the body must not contain NUL characters (\\u0000)", code="nul_character"
            )
        return value
    if isinstance(value, dict):
        return {_json_numbers(key): _json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_numbers(item) for item in value]
    return value


def _body_type(handler: Any) -> Any:
    """The Struct a handler's ``data`` is, or None."""
    data = handler.parsed_fn_signature.parameters.get("data")
    annotation = getattr(data, "annotation", None)
    return annotation if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) else None


class JsonRequest(Request[Any, Any, Any]):
    """Litestar's request (the app's ``request_class``) with the JSON body's depth bounded, and its types
    held to the document: Litestar converts bodies leniently (``strict=False``, needed for query strings),
    so ``{"ban": 0}`` was taken for ``false`` and ``"5"`` for 5, which the schema says are refused."""

    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            raise refuse_deep() from None
        if too_deep(value):
            raise refuse_deep()
        checked = _json_numbers(value)
        body_type = _body_type(self.route_handler)
        if body_type is not None:
            try:
                msgspec.convert(checked, body_type, strict=True)
            except msgspec.ValidationError as exc:
                raise InvalidInput(
                    f"the body does not match its schema: {exc}", code="validation_error"
                ) from None
        return value
