"""Malformed and oversized vote requests: a 4xx with a JSON body naming the problem, and no vote written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.models import Vote
from tests.support.api import Api
from tests.support.voting import open_contest


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"", "application/json", 400, "validation_error"),
        (b"[1, 2]", "application/json", 400, "validation_error"),
        (b"null", "application/json", 400, "validation_error"),
        (b'{"song_id": 0}', "application/json", 400, "validation_error"),
        (b'{"song_id": -5}', "application/json", 400, "validation_error"),
        (b'{"song_id": 99999999999999999999}', "application/json", 400, "validation_error"),
        (b'{"song_id": 1, "weight": 100}', "application/json", 400, "validation_error"),
        (b'{"song_id": 1, "fingerprint": 12}', "application/json", 400, "validation_error"),
        (b"song_id=1", "application/x-www-form-urlencoded", 400, "malformed_body"),
        (b'{"song_id": 1, "fingerprint": "' + b"x" * 2_000_000 + b'"}', "application/json", 413, "too_large"),
    ],
)
async def test_bad_vote_bodies_are_refused_and_write_nothing(
    api: Api, db: Any, content: bytes, content_type: str, status: int, code: str
) -> None:
    contest = await open_contest(db)
    await api.register()
    response = await api.post(
        f"/api/contests/{contest.id}/votes", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status_code"] == status
    assert body["detail"]
    assert body["code"] == code
    votes = await db.scalar(select(func.count()).select_from(Vote).where(Vote.contest_id == contest.id))
    assert votes == 0
