"""The error answers an operation can give, for its OpenAPI entry (every error body is ErrorOut)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from api.schemas import ErrorOut

MEANINGS = {
    400: "invalid input: the code names the problem (validation_error lists the fields)",
    401: "not logged in (not_authenticated), or wrong credentials",
    403: "the account lacks the role (missing_role, outranked, own_account), the board is hidden "
    "(leaderboard_hidden), or the CSRF token is missing or not this session's (csrf_failed)",
    404: "no such record (or not visible to this account)",
    408: "the request body stopped arriving (body_timeout)",
    409: "the request conflicts with the record's state (the code says how)",
    413: "the body is larger than allowed (too_large)",
    415: "the body's media type is not accepted (unsupported_media_type)",
    422: "the content was read but cannot be used (the code says why)",
    429: "too many requests (Retry-After says when to try again)",
    503: "the database or broker is briefly unreachable (Retry-After says when to try again)",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(data_container=ErrorOut, description=MEANINGS[status], generate_examples=False)
        for status in statuses
    }
