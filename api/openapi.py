"""The error answers an operation can give, for its OpenAPI entry (every error body is ErrorOut)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from api.schemas import ErrorOut

_MEANINGS = {
    400: "invalid input: the code names the problem (validation_error lists the fields)",
    401: "not logged in",
    403: "the account lacks the role, the board is hidden (leaderboard_hidden), or the CSRF token is missing"
    " or not this session's (csrf_failed)",
    404: "no such record (or not visible to this account)",
    409: "the request conflicts with the record's state: the code says how",
    429: "too many requests (Retry-After says when to try again)",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(data_container=ErrorOut, description=_MEANINGS[status], generate_examples=False)
        for status in statuses
    }
