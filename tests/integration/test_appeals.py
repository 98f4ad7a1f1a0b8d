"""A voter appeals a held vote once with a short note; the appeal shows in the moderator's case; the voter
sees the decision and the moderator's reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import VoteAppeal
from tests.support.api import PASSWORD, Api, create_account
from tests.support.voting import open_contest, valid_vote

CASE = "prefix:198.51.100.0/24"


async def _held_vote(
    db: AsyncSession, contest_id: int, song_id: int, voter_id: int, *, case: str = CASE
) -> int:
    vote = valid_vote(contest_id, song_id, voter_id, datetime.now(UTC), "198.51.100.7")
    vote.status = "suspicious"
    vote.case_key = case
    vote.reasons = [{"code": "ip_velocity", "points": 40, "evidence": "12 votes from this /24 in 5 minutes"}]
    db.add(vote)
    await db.commit()
    return vote.id


async def _voter(make_api: Any, db: AsyncSession, *roles: str) -> tuple[Api, int]:
    name, user_id = await create_account(db, *roles)
    client: Api = await make_api()
    assert (
        await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    ).status_code == 200
    return client, user_id


async def test_a_held_vote_is_appealed_once_and_the_voter_sees_the_decision(
    make_api: Any, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=2)
    voter, voter_id = await _voter(make_api, db)
    vote_id = await _held_vote(db, contest.id, contest.song_ids[0], voter_id)

    appealed = await voter.post(
        f"/api/votes/{vote_id}/appeal", json={"note": "  I voted from my\nuni's wifi  "}
    )
    assert appealed.status_code == 201, appealed.text
    assert appealed.json()["state"] == "waiting"
    assert appealed.json()["note"] == "I voted from my uni's wifi"
    again = await voter.post(f"/api/votes/{vote_id}/appeal", json={"note": "please"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_appealed"

    moderator, _ = await _voter(make_api, db, "moderator")
    cases = (await moderator.get(f"/api/moderation/contests/{contest.id}/cases")).json()
    assert next(case for case in cases if case["key"] == CASE)["appeals"] == 1
    detail = (await moderator.get(f"/api/moderation/contests/{contest.id}/case", params={"key": CASE})).json()
    assert [(a["vote_id"], a["note"]) for a in detail["appeals"]] == [(vote_id, "I voted from my uni's wifi")]

    decided = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": CASE, "decision": "clear", "note": "Campus network: shared address, honest votes."},
    )
    assert decided.status_code == 200, decided.text
    [mine] = (await voter.get("/api/me/appeals")).json()["items"]
    assert mine["vote_id"] == vote_id
    assert mine["state"] == "counted"
    assert mine["decision_note"] == "Campus network: shared address, honest votes."
    assert mine["decided_at"] is not None


async def test_a_rejected_appeal_says_so_with_the_reason(make_api: Any, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=1)
    voter, voter_id = await _voter(make_api, db)
    vote_id = await _held_vote(db, contest.id, contest.song_ids[0], voter_id, case="device:abc")
    await voter.post(f"/api/votes/{vote_id}/appeal", json={"note": "it was me"})
    moderator, _ = await _voter(make_api, db, "moderator")
    await moderator.post(
        f"/api/moderation/votes/{vote_id}/decision",
        json={"decision": "confirm", "note": "One device, 40 accounts."},
    )
    [mine] = (await voter.get("/api/me/appeals")).json()["items"]
    assert (mine["state"], mine["decision_note"]) == ("not_counted", "One device, 40 accounts.")


async def test_only_ones_own_held_vote_can_be_appealed(make_api: Any, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=2)
    voter, voter_id = await _voter(make_api, db)
    other, _ = await _voter(make_api, db)
    held = await _held_vote(db, contest.id, contest.song_ids[0], voter_id)
    counted = valid_vote(contest.id, contest.song_ids[1], voter_id, datetime.now(UTC), "203.0.113.5")
    db.add(counted)
    await db.commit()

    for client, vote_id, body, status, code in [
        (other, held, {"note": "mine now"}, 404, "vote_not_found"),
        (voter, counted.id, {"note": "why not"}, 409, "vote_not_held"),
        (voter, 999_999_999, {"note": "nothing"}, 404, "vote_not_found"),
        (voter, held, {"note": "   "}, 400, "note_required"),
        (voter, held, {"note": "x" * 501}, 400, "validation_error"),
        (voter, held, {"note": "ok", "extra": 1}, 400, "validation_error"),
    ]:
        response = await client.post(f"/api/votes/{vote_id}/appeal", json=body)
        assert response.status_code == status, response.text
        assert response.json()["code"] == code
    count = await db.scalar(
        select(func.count(VoteAppeal.id)).where(VoteAppeal.vote_id.in_([held, counted.id]))
    )
    assert count == 0  # nothing half-written
    anonymous: Api = await make_api()
    assert (await anonymous.post(f"/api/votes/{held}/appeal", json={"note": "hi"})).status_code == 401
