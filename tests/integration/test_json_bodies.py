"""Malformed, deeply nested and oversized JSON bodies: a 4xx naming the problem, never a 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from api.bodies import MAX_JSON_DEPTH
from tests.support.api import Api
from tests.support.voting import open_contest


def _lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


DEEP = [
    pytest.param(_lists(100_000), id="100k nested lists"),
    pytest.param(_objects(50_000), id="50k nested objects"),
    pytest.param(
        b'{"login": "a", "password": "b", "x": ' + _lists(5_000) + b"}", id="deep in an unknown field"
    ),
    pytest.param(_lists(MAX_JSON_DEPTH + 1), id="one level over the limit"),
]

MALFORMED = [
    pytest.param(b'{"login": ', "malformed_body", id="truncated"),
    pytest.param(b'{"login": "\xff\xfe", "password": "x"}', "malformed_body", id="invalid UTF-8"),
    pytest.param(b'{"login": NaN}', "malformed_body", id="NaN"),
    pytest.param(b'{"login": "a", "password": "b"} trailing', "malformed_body", id="trailing garbage"),
    pytest.param(b'{"login": ' + b"9" * 10_000 + b"}", "malformed_body", id="huge number"),
    pytest.param(b"", "validation_error", id="empty"),
    pytest.param(b"[1, 2]", "validation_error", id="an array"),
    pytest.param(b'"text"', "validation_error", id="a string"),
    # PostgreSQL stores no NUL in text or JSON: a moderator's note holding one answered 500.
    pytest.param(b'{"login": "a\\u0000b", "password": "x"}', "nul_character", id="NUL in a string"),
    pytest.param(b'{"login": 5, "password": "x"}', "validation_error", id="a number for a string"),
]


@pytest.fixture
def server_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Errors the API logs: an unhandled exception logs one (with its traceback) per request."""
    caplog.set_level(logging.ERROR, logger="ovation")
    return caplog.records


@pytest.mark.parametrize("body", DEEP)
async def test_deep_json_is_a_400_even_anonymously(api: Api, body: bytes, server_errors: list[Any]) -> None:
    for path in ("/api/auth/login", "/api/auth/register"):
        response = await api.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "body_too_deep"
        assert str(MAX_JSON_DEPTH) in response.json()["detail"]
    assert not server_errors


async def test_deep_json_on_signed_in_and_admin_operations(
    api: Api, admin_api: Api, db: Any, server_errors: list[Any]
) -> None:
    contest = await open_contest(db)
    await api.register()
    vote = await api.post(
        f"/api/contests/{contest.id}/votes",
        content=b'{"song_id": 1, "fingerprint": ' + _lists(20_000) + b"}",
        headers={"content-type": "application/json"},
    )
    assert (vote.status_code, vote.json()["code"]) == (400, "body_too_deep"), vote.text

    # fraud_config takes any JSON object: deep enough to decode, it would sit in a JSON column and be
    # encoded again in every answer that shows the contest.
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH + 5):
        nested = {"a": nested}
    edit = await admin_api.patch(f"/api/contests/{contest.id}", json={"fraud_config": nested})
    assert (edit.status_code, edit.json()["code"]) == (400, "body_too_deep"), edit.text
    assert not server_errors


@pytest.mark.parametrize(("body", "code"), MALFORMED)
async def test_malformed_json_is_a_400_naming_the_problem(
    api: Api, body: bytes, code: str, server_errors: list[Any]
) -> None:
    response = await api.post("/api/auth/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not server_errors


async def test_a_nul_in_a_moderators_note_is_a_400_not_a_500(
    make_api, db: Any, server_errors: list[Any]
) -> None:
    from tests.support.api import PASSWORD, create_account

    name, _ = await create_account(db, "moderator")
    moderator: Api = await make_api()
    assert (
        await moderator.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    ).status_code == 200
    contest = await open_contest(db)
    response = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": "device:none", "decision": "confirm", "note": "bad\u0000note"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "nul_character"), response.text
    assert not server_errors


async def test_a_body_over_the_size_limit_is_a_413(api: Api, server_errors: list[Any]) -> None:
    body = b'{"login": "' + b"a" * (1024 * 1024) + b'", "password": "x"}'
    response = await api.post("/api/auth/login", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert not server_errors


async def test_a_body_as_deep_as_the_limit_is_read(admin_api: Api, db: Any) -> None:
    """The limit refuses only what no client of this API sends: depth 32 still reaches validation."""
    contest = await open_contest(db)
    body = b'{"eligible_countries": ' + _lists(MAX_JSON_DEPTH - 1) + b"}"
    response = await admin_api.patch(
        f"/api/contests/{contest.id}", content=body, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_error"), response.text
