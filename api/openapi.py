"""The error answers an operation can give, for its OpenAPI entry (every error body is ErrorOut)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from api.schemas import ErrorOut

_MEANINGS = {
    400: "invalid input: the code names the problem (validation_error lists the fields)",
    401: "not logged in",
    403: "the account lacks the role, or the board is hidden (leaderboard_hidden)",
    404: "no such record (or not visible to this account)",
    429: "too many requests (Retry-After says when to try again)",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(data_container=ErrorOut, description=_MEANINGS[status], generate_examples=False)
        for status in statuses
    }
