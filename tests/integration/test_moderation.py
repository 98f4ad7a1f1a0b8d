from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.jobs import Job, send_all
from core.models import AuditEntry, User, Vote, VoteGroup
from tests.support.api import PASSWORD, Api, create_account
from tests.support.jobs import send_job
from tests.support.voting import eventually, open_contest, seed_vote_ring, valid_vote

HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36"


async def _moderator(make_api, db) -> Api:
    name, _ = await create_account(db, "moderator")
    client: Api = await make_api()
    assert (
        await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    ).status_code == 200
    return client


async def _scored(db, vote_ids: list[int]) -> list[Vote]:
    async def check() -> list[Vote] | None:
        db.expire_all()
        rows = list((await db.scalars(select(Vote).where(Vote.id.in_(vote_ids)))).all())
        return rows if rows and all(row.scored_at is not None for row in rows) else None

    return await eventually(check)


async def _bot_votes(make_api, contest, count: int) -> list[int]:
    """Fresh accounts from one data-centre address with a headless browser: what a script looks like."""
    ids = []
    for _ in range(count):
        bot: Api = await make_api()
        await bot.register()
        response = await bot.post(
            f"/api/contests/{contest.id}/votes",
            json={"song_id": contest.song_ids[0]},
            headers={"x-forwarded-for": "198.51.100.23", "user-agent": HEADLESS},
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def _counted_votes(db, song_id: int, contest_id: int, count: int) -> None:
    now = datetime.now(UTC)
    for index in range(count):
        _, voter_id = await create_account(db)
        db.add(valid_vote(contest_id, song_id, voter_id, now, f"203.0.113.{index + 1}"))
    await db.commit()


async def test_suspicious_votes_form_a_case_that_a_moderator_confirms(make_api, db, worker) -> None:
    contest = await open_contest(db)
    await _counted_votes(db, contest.song_ids[1], contest.id, 2)  # the song ahead while the case is held
    bot_ids = await _bot_votes(make_api, contest, 4)
    scored = await _scored(db, bot_ids)
    assert {row.status for row in scored} == {"suspicious"}
    assert {row.case_key for row in scored} == {"prefix:198.51.100.0/24"}
    codes = {reason["code"] for row in scored for reason in row.reasons}
    assert {"scripted_user_agent", "hosting_asn"} <= codes
    assert all(reason["evidence"] for row in scored for reason in row.reasons)

    moderator = await _moderator(make_api, db)
    cases = await moderator.get(f"/api/moderation/contests/{contest.id}/cases")
    assert cases.status_code == 200, cases.text
    case = next(c for c in cases.json() if c["key"] == "prefix:198.51.100.0/24")
    assert case["votes"] == 4
    assert case["accounts"] == 4
    assert case["reasons"]["scripted_user_agent"] == 4
    assert case["effect_if_cleared"][0] == {
        "song_id": contest.song_ids[0],
        "case_votes": 4,
        "counted_votes": 0,
        "rank_now": 2,
        "rank_if_cleared": 1,
    }
    detail = await moderator.get(f"/api/moderation/contests/{contest.id}/case", params={"key": case["key"]})
    assert detail.status_code == 200
    assert {v["ip"] for v in detail.json()["votes"]} == {"198.51.100.23"}
    assert {v["as_org"] for v in detail.json()["votes"]} == {"AMAZON-02"}

    # The voter sees the review in plain words, without the figures.
    bot_view = await db.get(Vote, bot_ids[0])
    assert bot_view is not None

    no_note = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": case["key"], "decision": "confirm", "note": "  "},
    )
    assert (no_note.status_code, no_note.json()["code"]) == (400, "note_required")
    bad = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": case["key"], "decision": "delete", "note": "x"},
    )
    assert bad.status_code == 400
    confirmed = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": case["key"], "decision": "confirm", "note": "headless script from one AWS address"},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"votes": 4, "decision": "confirm"}
    db.expire_all()
    rows = (await db.scalars(select(Vote).where(Vote.id.in_(bot_ids)))).all()
    assert {row.status for row in rows} == {"rejected"}
    assert {row.review_note for row in rows} == {"headless script from one AWS address"}
    assert all(row.reviewed_by_id and row.reviewed_at for row in rows)
    audit = await db.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "votes.confirm", AuditEntry.target_id == f"{contest.id}/{case['key']}"
        )
    )
    assert audit is not None
    assert audit.details["votes"] == 4

    gone = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": case["key"], "decision": "confirm", "note": "again"},
    )
    assert (gone.status_code, gone.json()["code"]) == (404, "case_not_found")


async def test_voters_see_their_vote_under_review_in_plain_words(make_api, db, worker) -> None:
    contest = await open_contest(db)
    bot: Api = await make_api()
    await bot.register()
    response = await bot.post(
        f"/api/contests/{contest.id}/votes",
        json={"song_id": contest.song_ids[1]},
        headers={"x-forwarded-for": "198.51.100.24", "user-agent": HEADLESS},
    )
    await _scored(db, [response.json()["id"]])
    mine = (await bot.get("/api/me/votes")).json()["items"][0]
    assert mine["status"] == "suspicious"
    assert mine["counted"] is False
    assert "under review" in mine["explanation"]
    assert "automated browser" in mine["explanation"]
    assert "198.51.100" not in mine["explanation"]  # evidence figures are for moderators


async def test_a_moderator_clears_one_vote_and_voids_an_account(api: Api, make_api, db, worker) -> None:
    contest = await open_contest(db)
    [bot_vote] = await _bot_votes(make_api, contest, 1)
    await _scored(db, [bot_vote])
    moderator = await _moderator(make_api, db)

    cleared = await moderator.post(
        f"/api/moderation/votes/{bot_vote}/decision", json={"decision": "clear", "note": "known fan"}
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["status"] == "cleared"
    assert cleared.json()["counted"] is True
    assert (
        await moderator.post(
            "/api/moderation/votes/999999999/decision", json={"decision": "clear", "note": "x"}
        )
    ).status_code == 404

    voter_id = (await db.get(Vote, bot_vote)).voter_id
    voided = await moderator.post(
        f"/api/moderation/users/{voter_id}/void", json={"note": "sock puppet", "ban": True}
    )
    assert voided.status_code == 200, voided.text
    assert voided.json() == {"votes": 1, "decision": "void_and_ban"}
    db.expire_all()
    assert (await db.get(Vote, bot_vote)).status == "rejected"
    assert (await db.get(User, voter_id)).status == "banned"

    await api.register()
    forbidden = await api.get(f"/api/moderation/contests/{contest.id}/cases")
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "missing_role")
    assert (await moderator.get("/api/moderation/contests/999999999/cases")).status_code == 404
    assert (
        await moderator.get(f"/api/moderation/contests/{contest.id}/cases", params={"limit": 500})
    ).status_code == 400


async def test_the_group_detector_turns_a_vote_ring_suspicious(make_api, db, worker) -> None:
    """A ring of accounts voting for the same songs in the same hour, hidden among honest voters."""
    contest = await open_contest(db, songs=30, votes_per_voter_per_day=10)
    seeded = await seed_vote_ring(db, contest)
    honest_ids, ring_ids, ring_songs = seeded.honest, seeded.ring, seeded.songs

    assert send_all([Job("ovation.fraud.detect_groups", (contest.id,))], send_job) == 1

    async def group() -> VoteGroup | None:
        db.expire_all()
        return await db.scalar(select(VoteGroup).where(VoteGroup.contest_id == contest.id))

    found = await eventually(group, within=60)
    group_id = found.id
    assert set(found.accounts) == set(ring_ids)
    assert set(found.songs) == set(ring_songs)
    assert found.evidence
    db.expire_all()
    ring_votes = (await db.scalars(select(Vote).where(Vote.voter_id.in_(ring_ids)))).all()
    assert {v.status for v in ring_votes} == {"suspicious"}
    assert {v.case_key for v in ring_votes} == {f"group:{group_id}"}
    assert all(any(r["code"] == "coordinated_group" for r in v.reasons) for v in ring_votes)
    honest = (await db.scalars(select(Vote).where(Vote.voter_id.in_(honest_ids)))).all()
    assert {v.status for v in honest} == {"valid"}

    moderator = await _moderator(make_api, db)
    cases = (await moderator.get(f"/api/moderation/contests/{contest.id}/cases")).json()
    ring_case = next(c for c in cases if c["kind"] == "group")
    assert ring_case["votes"] == len(ring_ids) * len(ring_songs)
    assert set(ring_case["group"]["accounts"]) == set(ring_ids)


async def test_the_group_detector_turns_a_signup_cohort_suspicious(make_api, db, worker) -> None:
    """Accounts created within an hour a month ago, each voting once a day for one song, among honest ones."""
    contest = await open_contest(db, songs=20, votes_per_voter_per_day=10)
    rng = random.Random(11)
    now = datetime.now(UTC)
    honest_ids = [(await create_account(db))[1] for _ in range(150)]
    cohort_ids = [(await create_account(db))[1] for _ in range(15)]
    born = now - timedelta(days=30)
    for voter_id in honest_ids:
        user = await db.get(User, voter_id)
        user.created_at = now - timedelta(days=rng.uniform(2, 700))
    for voter_id in cohort_ids:
        user = await db.get(User, voter_id)
        user.created_at = born + timedelta(minutes=rng.uniform(0, 60))
    target = contest.song_ids[12]
    popularity = [1 / (rank + 1) for rank in range(20)]

    def row(voter_id: int, song_id: int, cast_at: datetime) -> Vote:
        return valid_vote(contest.id, song_id, voter_id, cast_at, f"198.18.7.{rng.randint(1, 250)}")

    for voter_id in honest_ids:
        songs = set(rng.choices(contest.song_ids, popularity, k=rng.randint(1, 3)))
        for hours_ago in (30, 2) if rng.random() < 0.4 else (rng.uniform(1, 40),):
            for song_id in songs:
                db.add(row(voter_id, song_id, now - timedelta(hours=hours_ago, minutes=rng.randint(0, 50))))
    for voter_id in cohort_ids:
        for hours_ago in (30, 2):  # two different days
            db.add(row(voter_id, target, now - timedelta(hours=hours_ago, minutes=rng.randint(0, 50))))
    await db.commit()

    assert send_all([Job("ovation.fraud.detect_groups", (contest.id,))], send_job) == 1

    async def group() -> VoteGroup | None:
        db.expire_all()
        return await db.scalar(select(VoteGroup).where(VoteGroup.contest_id == contest.id))

    found = await eventually(group, within=60)
    assert set(found.accounts) == set(cohort_ids)
    assert found.songs == [target]
    assert "accounts created within" in found.evidence
    db.expire_all()
    cohort_votes = (await db.scalars(select(Vote).where(Vote.voter_id.in_(cohort_ids)))).all()
    assert {v.status for v in cohort_votes} == {"suspicious"}
    assert all(any(r["code"] == "signup_cohort" for r in v.reasons) for v in cohort_votes)
    honest = (await db.scalars(select(Vote).where(Vote.voter_id.in_(honest_ids)))).all()
    assert {v.status for v in honest} == {"valid"}
