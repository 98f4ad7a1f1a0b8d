from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from api.app import create_app
from core.models import Contest, DailySongVoteCount, DailyVoteCount, Song, SongStatus, User, Vote
from tests.support.api import Api
from tests.support.voting import eventually, open_contest, vote

FINGERPRINT = "a3f9c2e17b6d4058"


async def test_a_vote_records_network_device_and_geo_data(api: Api, db) -> None:
    contest = await open_contest(db)
    await api.register()
    response = await vote(
        api, contest.id, contest.song_ids[0], fingerprint=FINGERPRINT, timezone="Europe/Stockholm"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["counted"] is False
    device_cookie = api.client.cookies.get("ovation_device")
    assert device_cookie

    row = await db.get(Vote, body["id"])
    assert (row.ip, row.network_prefix) == ("203.0.113.10", "203.0.113.0/24")
    assert row.user_agent.startswith("Mozilla/5.0")
    assert row.accept_language == "sv-SE,sv;q=0.9"
    assert row.client_timezone == "Europe/Stockholm"
    assert row.device_fingerprint == FINGERPRINT
    assert row.device_cookie_id == device_cookie.split(".")[0]
    assert (row.country, row.region, row.city) == ("SE", "Stockholm", "Stockholm")
    assert (row.latitude, row.longitude) == (59.33, 18.07)
    assert (row.asn, row.as_org) == (3301, "Telia Company AB")
    assert row.vote_day == row.cast_at.date()

    # The same browser keeps its device id.
    second = await vote(api, contest.id, contest.song_ids[1])
    assert second.status_code == 201
    assert (await db.get(Vote, second.json()["id"])).device_cookie_id == row.device_cookie_id


async def test_ipv6_and_ipv4_mapped_addresses(api: Api, db) -> None:
    contest = await open_contest(db)
    await api.register()
    v6 = await vote(api, contest.id, contest.song_ids[0], ip="2001:db8:1:2:3:4:5:6")
    mapped = await vote(api, contest.id, contest.song_ids[1], ip="::ffff:203.0.113.77")
    assert v6.status_code == mapped.status_code == 201
    v6_row, mapped_row = await db.get(Vote, v6.json()["id"]), await db.get(Vote, mapped.json()["id"])
    assert (v6_row.ip, v6_row.network_prefix, v6_row.country) == (
        "2001:db8:1:2:3:4:5:6",
        "2001:db8:1:2::/64",
        "NO",
    )
    assert (mapped_row.ip, mapped_row.network_prefix, mapped_row.country) == (
        "203.0.113.77",
        "203.0.113.0/24",
        "SE",
    )


async def test_missing_or_garbage_fingerprint_and_timezone_are_recorded_as_missing(api: Api, db) -> None:
    contest = await open_contest(db)
    await api.register()
    garbage = await vote(
        api, contest.id, contest.song_ids[0], fingerprint="<script>x</script>", timezone="Mars/Base"
    )
    missing = await vote(api, contest.id, contest.song_ids[1])
    for response in (garbage, missing):
        assert response.status_code == 201, response.text
        row = await db.get(Vote, response.json()["id"])
        assert row.device_fingerprint is None
        assert row.client_timezone is None


async def test_an_unknown_address_records_empty_geo(api: Api, db) -> None:
    contest = await open_contest(db)
    await api.register()
    response = await vote(api, contest.id, contest.song_ids[0], ip="10.20.30.40")
    assert response.status_code == 201
    row = await db.get(Vote, response.json()["id"])
    assert (row.country, row.city, row.asn) == (None, None, None)


async def test_over_long_headers_are_truncated_not_refused(api: Api, db) -> None:
    contest = await open_contest(db)
    await api.register()
    response = await api.post(
        f"/api/contests/{contest.id}/votes",
        json={"song_id": contest.song_ids[0]},
        headers={"x-forwarded-for": "203.0.113.5", "user-agent": "U" * 5000, "accept-language": "L" * 3000},
    )
    assert response.status_code == 201, response.text
    row = await db.get(Vote, response.json()["id"])
    assert len(row.user_agent) == 512
    assert len(row.accept_language) == 256


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(settings, db) -> None:
    contest = await open_contest(db)
    untrusting = dataclasses.replace(
        settings, http=dataclasses.replace(settings.http, trusted_proxies=("10.9.9.9",))
    )
    async with AsyncTestClient(app=create_app(untrusting)) as client:
        api = Api(client)
        await api.register()
        response = await vote(api, contest.id, contest.song_ids[0], ip="198.51.100.200")
        # The peer ("testclient") is no address and its header is not believed: nothing is recorded.
        assert response.status_code == 400
        assert response.json()["code"] == "client_address_unknown"
    assert await db.scalar(select(func.count()).select_from(Vote).where(Vote.ip == "198.51.100.200")) == 0


async def test_refusals_name_their_reason(api: Api, make_api, db) -> None:
    contest = await open_contest(db, eligible_countries=["SE", "NO"], allow_unknown_country=False)
    other = await open_contest(db)
    unauthenticated = await vote(api, contest.id, contest.song_ids[0])
    assert unauthenticated.status_code == 401
    await api.register()

    cases = [
        (await vote(api, contest.id, 999_999_999), 404, "song_not_found"),
        (await vote(api, contest.id, other.song_ids[0]), 404, "song_not_found"),
        (await vote(api, 999_999_999, contest.song_ids[0]), 404, "contest_not_found"),
        (await vote(api, contest.id, contest.song_ids[0], ip="192.0.2.10"), 403, "country_not_eligible"),
        (await vote(api, contest.id, contest.song_ids[0], ip="10.1.2.3"), 403, "country_unknown"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["code"] == code

    malformed = await api.post(
        f"/api/contests/{contest.id}/votes", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    wrong_type = await api.post(f"/api/contests/{contest.id}/votes", json={"song_id": "seven"})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["code"] == "validation_error"

    await db.execute(update(Song).where(Song.id == contest.song_ids[1]).values(status=SongStatus.REJECTED))
    await db.commit()
    not_votable = await vote(api, contest.id, contest.song_ids[1])
    assert (not_votable.status_code, not_votable.json()["code"]) == (409, "song_not_votable")

    now = datetime.now(UTC)
    await db.execute(
        update(Contest).where(Contest.id == contest.id).values(voting_closes_at=now - timedelta(minutes=1))
    )
    await db.commit()
    closed = await vote(api, contest.id, contest.song_ids[0])
    assert (closed.status_code, closed.json()["code"]) == (403, "voting_closed")
    assert await db.scalar(select(func.count()).select_from(Vote).where(Vote.contest_id == contest.id)) == 0


async def test_verified_email_and_account_age_rules(api: Api, db) -> None:
    contest = await open_contest(db, require_verified_email=True)
    user = await api.register()
    unverified = await vote(api, contest.id, contest.song_ids[0])
    assert (unverified.status_code, unverified.json()["code"]) == (403, "email_not_verified")

    await db.execute(update(User).where(User.id == user["id"]).values(email_verified=True))
    await db.execute(update(Contest).where(Contest.id == contest.id).values(min_account_age_hours=48))
    await db.commit()
    too_new = await vote(api, contest.id, contest.song_ids[0])
    assert (too_new.status_code, too_new.json()["code"]) == (403, "account_too_new")

    old = datetime.now(UTC) - timedelta(days=3)
    await db.execute(update(User).where(User.id == user["id"]).values(created_at=old))
    await db.commit()
    assert (await vote(api, contest.id, contest.song_ids[0])).status_code == 201


async def test_banned_voter_cannot_vote(api: Api, db) -> None:
    contest = await open_contest(db)
    user = await api.register()
    await db.execute(update(User).where(User.id == user["id"]).values(status="banned"))
    await db.commit()
    assert (await vote(api, contest.id, contest.song_ids[0])).status_code == 401


async def test_fifty_parallel_identical_votes_make_exactly_one(api: Api, db) -> None:
    contest = await open_contest(db, votes_per_song_per_day=1)
    await api.register()
    responses = await asyncio.gather(*(vote(api, contest.id, contest.song_ids[0]) for _ in range(50)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1
    assert statuses.count(409) == 49
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_voted_today"}
    assert await db.scalar(select(func.count()).select_from(Vote).where(Vote.contest_id == contest.id)) == 1


async def test_parallel_votes_for_many_songs_stop_at_the_daily_limit(api: Api, db) -> None:
    contest = await open_contest(db, songs=10, votes_per_voter_per_day=3, votes_per_song_per_day=2)
    await api.register()
    requests = [vote(api, contest.id, song_id) for song_id in contest.song_ids for _ in range(5)]
    responses = await asyncio.gather(*requests)
    assert sum(1 for response in responses if response.status_code == 201) == 3
    codes = {r.json()["code"] for r in responses if r.status_code != 201}
    assert codes <= {"daily_limit_reached", "already_voted_today"}
    assert await db.scalar(select(func.count()).select_from(Vote).where(Vote.contest_id == contest.id)) == 3
    # A refusal at the daily limit gives back the per-song count it took first: nothing half-written.
    song_counts = select(func.sum(DailySongVoteCount.votes)).where(
        DailySongVoteCount.contest_id == contest.id
    )
    assert await db.scalar(song_counts) == 3
    day_counts = select(func.sum(DailyVoteCount.votes)).where(DailyVoteCount.contest_id == contest.id)
    assert await db.scalar(day_counts) == 3

    remaining = await api.get(f"/api/contests/{contest.id}/votes/remaining")
    assert remaining.status_code == 200
    assert remaining.json()["votes_left_today"] == 0
    assert remaining.json()["votes_per_day"] == 3


async def test_votes_are_rate_limited_per_account(settings, db) -> None:
    contest = await open_contest(db, songs=5, votes_per_voter_per_day=50, votes_per_song_per_day=10)
    strict = dataclasses.replace(
        settings, http=dataclasses.replace(settings.http, vote_rate_limit_per_minute=3)
    )
    app = create_app(strict)
    async with AsyncTestClient(app=app) as client:
        api = Api(client)
        await api.register()
        responses = [await vote(api, contest.id, contest.song_ids[0], ip=f"203.0.113.{n}") for n in range(4)]
        statuses = [response.status_code for response in responses]
        assert statuses == [201, 201, 201, 429]  # a new address does not reset an account's budget
        # The per-address limiter (a million a minute here) does not hide the account's binding budget.
        assert [response.headers["ratelimit-remaining"] for response in responses] == ["2", "1", "0", "0"]
        assert {response.headers["ratelimit-limit"] for response in responses} == {"3"}


async def test_my_votes_remaining_and_retraction(api: Api, make_api, db) -> None:
    contest = await open_contest(db, votes_per_voter_per_day=3, retraction_minutes=10)
    await api.register()
    first = (await vote(api, contest.id, contest.song_ids[0])).json()
    second = (await vote(api, contest.id, contest.song_ids[1])).json()

    window = datetime.fromisoformat(first["retractable_until"]) - datetime.fromisoformat(first["cast_at"])
    assert window == timedelta(minutes=10)
    mine = await api.get("/api/me/votes", params={"contest_id": contest.id})
    assert [item["id"] for item in mine.json()["items"]] == [second["id"], first["id"]]
    assert all(item["explanation"] for item in mine.json()["items"])
    assert [item["retractable_until"] for item in mine.json()["items"]] == [
        second["retractable_until"],
        first["retractable_until"],
    ]
    remaining = (await api.get(f"/api/contests/{contest.id}/votes/remaining")).json()
    assert remaining["votes_left_today"] == 1
    assert sorted(remaining["songs_at_limit"]) == sorted(contest.song_ids[:2])

    retracted = await api.post(f"/api/votes/{first['id']}/retract")
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["retracted_at"] is not None
    assert retracted.json()["counted"] is False
    assert retracted.json()["retractable_until"] is None
    again = await api.post(f"/api/votes/{first['id']}/retract")
    assert (again.status_code, again.json()["code"]) == (409, "already_retracted")
    row = await db.get(Vote, first["id"])
    assert row is not None  # kept, only marked

    stranger: Api = await make_api()
    await stranger.register()
    assert (await stranger.post(f"/api/votes/{second['id']}/retract")).status_code == 404

    await db.execute(
        update(Vote).where(Vote.id == second["id"]).values(cast_at=datetime.now(UTC) - timedelta(minutes=11))
    )
    await db.commit()
    late = await api.post(f"/api/votes/{second['id']}/retract")
    assert (late.status_code, late.json()["code"]) == (403, "retraction_window_passed")
    assert (await api.get("/api/me/votes", params={"limit": 0})).status_code == 400


async def test_a_cast_vote_is_scored_by_the_worker(api: Api, db, worker) -> None:
    contest = await open_contest(db)
    await api.register()
    cast = await vote(
        api, contest.id, contest.song_ids[0], fingerprint=FINGERPRINT, timezone="Europe/Stockholm"
    )
    vote_id = cast.json()["id"]

    async def scored() -> Vote | None:
        db.expire_all()
        row = await db.get(Vote, vote_id)
        return row if row is not None and row.scored_at is not None else None

    row = await eventually(scored)
    assert row.status in {"valid", "suspicious"}
    assert row.fraud_score is not None
    assert 0 <= row.fraud_score <= 100
    mine = (await api.get("/api/me/votes")).json()["items"][0]
    assert mine["status"] == row.status


async def test_votes_and_other_requests_share_the_per_address_budget(settings, db) -> None:
    # The vote limiter takes the per-address budget in its own Redis call: a vote still counts against the
    # address's budget for every request, and a request elsewhere against the address's votes.
    contest = await open_contest(db, songs=5, votes_per_voter_per_day=50, votes_per_song_per_day=10)
    strict = dataclasses.replace(settings, http=dataclasses.replace(settings.http, rate_limit_per_minute=6))
    app = create_app(strict)
    async with AsyncTestClient(app=app) as client:
        client.blocking_portal.call(app.stores.get("rate_limit").delete_all)
        api = Api(client)
        address = "198.51.100.77"
        seen = [(await api.get("/api/contests", headers={"x-forwarded-for": address})).status_code]
        await api.register()  # from the test client's own address
        votes = [await vote(api, contest.id, contest.song_ids[0], ip=address) for _ in range(3)]
        seen += [response.status_code for response in votes]
        # The address budget (6) binds before the account's (a million): its headers are the ones sent.
        assert [response.headers["ratelimit-limit"] for response in votes] == ["6"] * 3
        seen += [
            (await api.get("/api/contests", headers={"x-forwarded-for": address})).status_code
            for _ in range(3)
        ]
        seen.append((await vote(api, contest.id, contest.song_ids[1], ip=address)).status_code)
        assert seen == [200, 201, 201, 201, 200, 200, 429, 429]
