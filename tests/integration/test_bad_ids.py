"""Ids beyond their column's range, or below 1, are a client's mistake: 400 with a JSON body, never a 500."""

from __future__ import annotations

import pytest

from tests.support.api import Api

TOO_BIG = 99_999_999_999  # beyond PostgreSQL's integer keys


@pytest.mark.parametrize(
    "path",
    [
        f"/api/contests/{TOO_BIG}",
        f"/api/contests/{TOO_BIG}/songs",
        f"/api/songs/{TOO_BIG}",
        f"/api/songs/{TOO_BIG}/audio",
        f"/api/contests/{TOO_BIG}/leaderboard",
        f"/api/contests/{TOO_BIG}/leaderboard/songs/1",
        f"/api/contests/1/leaderboard/songs/{TOO_BIG}",
        f"/api/contests/{TOO_BIG}/votes/remaining",
        f"/api/me/votes?contest_id={TOO_BIG}",
        f"/api/me/songs?contest_id={TOO_BIG}",
        "/api/contests/0",
        "/api/songs/-1",
    ],
)
async def test_out_of_range_ids_are_400(api: Api, path: str) -> None:
    await api.register()
    response = await api.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"


async def test_out_of_range_ids_in_state_changes_are_400(api: Api) -> None:
    await api.register()
    vote = await api.post(
        f"/api/contests/{TOO_BIG}/votes", json={"song_id": 1}, headers={"x-forwarded-for": "203.0.113.1"}
    )
    assert (vote.status_code, vote.json()["code"]) == (400, "validation_error")
    retract = await api.post(f"/api/votes/{TOO_BIG}/retract")  # votes have bigint keys: a plain miss
    assert (retract.status_code, retract.json()["code"]) == (404, "vote_not_found")
