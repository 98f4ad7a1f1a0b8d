"""Leaderboards through the HTTP API: counting rules, ranking, countries, freeze and hiding, caching headers,
the live feed, history, results export and the integrity check, with the real worker where it matters."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import RECOMPUTE_TASK, VERIFY_TASK, Job
from core.leaderboard import compute, integrity
from core.leaderboard.cache import (
    BOARD_CLIENT_NAME,
    BoardDoc,
    board_key,
    encode_doc,
    open_board_cache,
)
from core.models import Contest, LeaderboardEntry, LeaderboardRepair, Song, SongStatus, Vote, utcnow
from core.settings import get_settings
from tests.support.api import Api, create_account
from tests.support.environment import BACKENDS, OPERATOR_TOKEN
from tests.support.jobs import send_job
from tests.support.net import free_port
from tests.support.processes import process_env
from tests.support.voting import OpenContest, eventually, open_contest, vote

# --- helpers ----------------------------------------------------------------------------------------------


async def add_votes(
    db: AsyncSession,
    contest: OpenContest,
    song_id: int,
    count: int = 1,
    *,
    status: str = "valid",
    weight: int = 1,
    country: str | None = "SE",
    retracted: bool = False,
) -> None:
    """Votes written directly with the status under test (the scoring worker has its own tests)."""
    _, voter_id = await create_account(db)
    now = utcnow()
    db.add_all(
        Vote(
            contest_id=contest.id,
            song_id=song_id,
            voter_id=voter_id,
            cast_at=now,
            vote_day=now.date(),
            ip="203.0.113.5",
            network_prefix="203.0.113.0/24",
            country=country,
            weight=weight,
            status=status,
            reasons=[],
            retracted_at=now if retracted else None,
        )
        for _ in range(count)
    )
    await db.commit()


async def recompute_now(
    db: AsyncSession, contest_id: int, *, snapshot_every: timedelta | None = None
) -> compute.RecomputeResult:
    """The recompute service called in-process, for pure ranking cases (the worker path has its own tests)."""
    cache = open_board_cache(get_settings())
    result = await compute.recompute(db, cache, contest_id, now=utcnow(), snapshot_every=snapshot_every)
    assert result is not None
    return result


async def board(api: Api, contest_id: int, **params: Any) -> dict[str, Any]:
    response = await api.get(f"/api/contests/{contest_id}/leaderboard", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ranks(body: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [(item["song_id"], item["rank"], item["votes"]) for item in body["items"]]


async def set_contest(db: AsyncSession, contest_id: int, **values: Any) -> None:
    await db.execute(update(Contest).where(Contest.id == contest_id).values(**values))
    await db.commit()


# --- counting and ranking ---------------------------------------------------------------------------------


async def test_votes_cast_through_the_api_are_scored_and_counted_by_the_worker(
    api: Api, make_api: Any, db: AsyncSession, worker: Any
) -> None:
    contest = await open_contest(db, songs=2)
    for ip in ("203.0.113.10", "192.0.2.10", "2001:db8:5::1"):
        voter = await make_api()
        await voter.register()
        cast = await vote(voter, contest.id, contest.song_ids[1], ip=ip)
        assert cast.status_code == 201, cast.text

    async def scored() -> list[str] | None:
        db.expire_all()
        statuses = list((await db.scalars(select(Vote.status).where(Vote.contest_id == contest.id))).all())
        return statuses if "pending" not in statuses else None

    statuses = await eventually(scored)
    counted = sum(1 for status in statuses if status in ("valid", "cleared"))

    async def on_the_board() -> dict[str, Any] | None:
        body = await board(api, contest.id)
        return body if body["version"] >= 1 and body["items"][0]["votes"] == counted else None

    body = await eventually(on_the_board)
    assert counted == 3, statuses  # three voters from three networks: nothing to flag
    assert ranks(body) == [(contest.song_ids[1], 1, 3), (contest.song_ids[0], 2, 0)]


async def test_only_valid_and_cleared_unretracted_votes_count_with_their_weights(
    api: Api, db: AsyncSession, worker: Any
) -> None:
    contest = await open_contest(db, songs=3)
    a, b, c = contest.song_ids
    await add_votes(db, contest, a, 2)
    await add_votes(db, contest, a, 1, status="cleared", weight=3)
    await add_votes(db, contest, b, 1)
    for status in ("pending", "suspicious", "rejected"):
        await add_votes(db, contest, b, 4, status=status)
        await add_votes(db, contest, c, 4, status=status)
    await add_votes(db, contest, b, 5, retracted=True)
    await add_votes(db, contest, c, 5, status="cleared", retracted=True)

    send_job(Job(RECOMPUTE_TASK, (contest.id,)))

    async def computed() -> dict[str, Any] | None:
        body = await board(api, contest.id)
        return body if body["version"] >= 1 else None

    body = await eventually(computed)
    assert ranks(body) == [(a, 1, 5), (b, 2, 1), (c, 3, 0)]
    assert body["view"] == "live"
    assert body["total"] == 3
    assert body["country"] is None


async def test_competition_ranking_with_ties_lists_the_earlier_submission_first(
    api: Api, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=5)
    s = contest.song_ids
    for song_id, count in ((s[4], 5), (s[1], 3), (s[3], 3), (s[0], 1), (s[2], 1)):
        await add_votes(db, contest, song_id, count)
    await recompute_now(db, contest.id)

    body = await board(api, contest.id)
    assert ranks(body) == [(s[4], 1, 5), (s[1], 2, 3), (s[3], 2, 3), (s[0], 4, 1), (s[2], 4, 1)]

    standing = await api.get(f"/api/contests/{contest.id}/leaderboard/songs/{s[3]}")
    assert standing.status_code == 200
    assert {k: standing.json()[k] for k in ("rank", "votes", "tied_with", "board_size")} == {
        "rank": 2,
        "votes": 3,
        "tied_with": 1,
        "board_size": 5,
    }


async def test_a_contest_without_votes_ranks_every_song_first_with_zero(api: Api, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=3)
    # Never recomputed: the board is counted on the spot.
    body = await board(api, contest.id)
    assert ranks(body) == [(song_id, 1, 0) for song_id in contest.song_ids]


async def test_every_song_tied_shares_rank_one_and_unapproved_songs_are_left_out(
    api: Api, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=4)
    await db.execute(update(Song).where(Song.id == contest.song_ids[3]).values(status=SongStatus.WITHDRAWN))
    await db.commit()
    for song_id in contest.song_ids:
        await add_votes(db, contest, song_id, 2)
    await recompute_now(db, contest.id)
    body = await board(api, contest.id)
    assert ranks(body) == [(song_id, 1, 2) for song_id in contest.song_ids[:3]]


async def test_per_country_boards_come_from_the_votes_geoip_country(api: Api, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=3)
    a, b, c = contest.song_ids
    await add_votes(db, contest, a, 3, country="SE")
    await add_votes(db, contest, b, 1, country="SE")
    await add_votes(db, contest, b, 4, country="US")
    await add_votes(db, contest, c, 2, country=None)  # unknown country: global board only
    await recompute_now(db, contest.id)

    assert ranks(await board(api, contest.id)) == [(b, 1, 5), (a, 2, 3), (c, 3, 2)]
    sweden = await board(api, contest.id, country="SE")
    assert (sweden["country"], ranks(sweden)) == ("SE", [(a, 1, 3), (b, 2, 1)])
    assert ranks(await board(api, contest.id, country="us")) == [(b, 1, 4)]
    assert (await board(api, contest.id, country="ZZ"))["items"] == []

    # A song with no vote from a country shares the place after the last listed there.
    standing = await api.get(f"/api/contests/{contest.id}/leaderboard/songs/{c}", params={"country": "SE"})
    assert (standing.json()["rank"], standing.json()["votes"]) == (3, 0)

    for bad in ("S1", "SWE", "ÅÄ", "1"):
        response = await api.get(f"/api/contests/{contest.id}/leaderboard", params={"country": bad})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_country"), bad


async def test_pagination_and_bad_input(api: Api, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=5)
    for index, song_id in enumerate(contest.song_ids):
        await add_votes(db, contest, song_id, index + 1)
    await recompute_now(db, contest.id)

    page = await board(api, contest.id, limit=2, offset=2)
    assert [item["rank"] for item in page["items"]] == [3, 4]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    beyond = await board(api, contest.id, limit=10, offset=50)
    assert beyond["items"] == []
    assert beyond["total"] == 5

    base = f"/api/contests/{contest.id}/leaderboard"
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}):
        response = await api.get(base, params=params)
        assert response.status_code == 400, params
        assert response.json()["code"]
        assert response.json()["detail"]

    unknown = await api.get("/api/contests/987654321/leaderboard")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "contest_not_found")
    no_song = await api.get(f"{base}/songs/987654321")
    assert (no_song.status_code, no_song.json()["code"]) == (404, "song_not_found")

    await set_contest(db, contest.id, status="draft")
    fresh = await api.get(f"/api/contests/{contest.id}/leaderboard/history")  # rules cached ~1 s per process
    assert fresh.status_code in (200, 404)

    async def hidden_draft() -> bool:
        response = await api.get(base)
        return response.status_code == 404 and response.json()["code"] == "contest_not_found"

    assert await eventually(hidden_draft, within=5)


# --- who sees what --------------------------------------------------------------------------------------


async def test_a_hidden_board_is_refused_to_the_public_until_voting_ends(
    api: Api, admin_api: Api, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=2, leaderboard_hidden=True)
    await add_votes(db, contest, contest.song_ids[1], 2)
    await recompute_now(db, contest.id)
    base = f"/api/contests/{contest.id}/leaderboard"

    for path in (base, f"{base}/songs/{contest.song_ids[0]}", f"{base}/history", f"{base}/feed"):
        response = await api.get(path)
        assert (response.status_code, response.json()["code"]) == (403, "leaderboard_hidden"), path
    live = await board(admin_api, contest.id)
    assert live["view"] == "live"
    assert live["items"][0]["votes"] == 2

    closed = await admin_api.post(f"/api/contests/{contest.id}/close")
    assert closed.status_code == 200, closed.text

    async def published() -> dict[str, Any] | None:
        response = await api.get(base)
        return response.json() if response.status_code == 200 else None

    final = await eventually(published, within=5)
    assert final["view"] == "final"
    assert ranks(final)[0] == (contest.song_ids[1], 1, 2)


async def test_a_frozen_board_shows_the_public_the_board_at_the_freeze(
    api: Api, admin_api: Api, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 2)
    await recompute_now(db, contest.id)  # the board before the freeze: a leads

    closes = datetime.now(UTC) + timedelta(hours=1)
    edited = await admin_api.patch(
        f"/api/contests/{contest.id}", json={"voting_closes_at": closes.isoformat(), "freeze_hours": 2}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["freeze_hours"] == 2  # the freeze began an hour ago
    bad = await admin_api.patch(f"/api/contests/{contest.id}", json={"freeze_hours": -1})
    assert bad.status_code == 400
    await add_votes(db, contest, b, 5)
    result = await recompute_now(db, contest.id)
    assert result.froze

    public = await board(api, contest.id)
    assert public["view"] == "frozen"
    assert public["frozen_at"] is not None
    assert ranks(public) == [(a, 1, 2), (b, 2, 0)]
    standing = await api.get(f"/api/contests/{contest.id}/leaderboard/songs/{b}")
    assert (standing.json()["rank"], standing.json()["votes"]) == (2, 0)

    live = await board(admin_api, contest.id)
    assert live["view"] == "live"
    assert ranks(live) == [(b, 1, 5), (a, 2, 2)]

    closed = await admin_api.post(f"/api/contests/{contest.id}/close")
    assert closed.status_code == 200

    async def revealed() -> dict[str, Any] | None:
        body = await board(api, contest.id)
        return body if body["view"] == "final" else None

    assert ranks(await eventually(revealed, within=5)) == [(b, 1, 5), (a, 2, 2)]


async def test_etag_and_cache_control(api: Api, admin_api: Api, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=2)
    await add_votes(db, contest, contest.song_ids[0], 1)
    await recompute_now(db, contest.id)
    url = f"/api/contests/{contest.id}/leaderboard"

    first = await api.get(url)
    etag = first.headers["etag"]
    assert first.status_code == 200
    assert etag
    assert "public" in first.headers["cache-control"]
    again = await api.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""
    other_page = await api.get(url, params={"limit": 1}, headers={"if-none-match": etag})
    assert other_page.status_code == 200

    same = await recompute_now(db, contest.id)  # nothing changed: same version, same ETag
    assert not same.changed
    assert (await api.get(url, headers={"if-none-match": etag})).status_code == 304

    await add_votes(db, contest, contest.song_ids[1], 3)
    await recompute_now(db, contest.id)
    changed = await api.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag

    staff = await admin_api.get(url)
    assert staff.headers["cache-control"].startswith("private")


# --- live feed --------------------------------------------------------------------------------------------


@pytest.fixture
def api_process() -> Iterator[str]:
    """``ovation api`` as its own process: the feed is an endless stream, which needs a real server."""
    port = free_port()
    log = (BACKENDS.data_dir / f"api-feed-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ovation", "api", "--port", str(port)],
        env=process_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the API process exited"
            assert time.monotonic() < deadline, "the API process did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    event, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data += line.split(":", 1)[1].strip()
        elif line == "" and event:
            yield event, json.loads(data) if data else {}
            event, data = "", ""


async def test_the_live_feed_pushes_the_board_when_it_changes(api_process: str, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 1)
    await recompute_now(db, contest.id)

    async def read_two() -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        url = f"{api_process}/api/contests/{contest.id}/leaderboard/feed"
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(30)) as client,
            client.stream("GET", url, params={"limit": 5}) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for event, body in _events(response):
                if event != "board":
                    continue
                received.append(body)
                if len(received) == 1:
                    await add_votes(db, contest, b, 4)
                    await recompute_now(db, contest.id)
                else:
                    return received
        return received

    first, second = await asyncio.wait_for(read_two(), timeout=30)
    assert ranks(first) == [(a, 1, 1), (b, 2, 0)]
    assert ranks(second) == [(b, 1, 4), (a, 2, 1)]
    assert second["version"] > first["version"]


async def _feed_subscribers(redis_url: str) -> int:
    """Pub/sub connections of API processes' board caches on the tests' Redis database."""
    client = Redis.from_url(redis_url)
    try:
        db = str(client.connection_pool.connection_kwargs.get("db", 0))
        clients = await client.client_list()
    finally:
        await client.aclose()
    return sum(
        1
        for c in clients
        if c["name"] == BOARD_CLIENT_NAME and c["db"] == db and (int(c["sub"]) or int(c["psub"]))
    )


async def test_every_feed_of_a_process_shares_one_change_listener(api_process: str, db: AsyncSession) -> None:
    contests = [await open_contest(db, songs=2) for _ in range(2)]
    for contest in contests:
        await add_votes(db, contest, contest.song_ids[0], 1)
        await recompute_now(db, contest.id)
    watched = contests[0]
    ready = asyncio.Event()
    opened: list[int] = []

    async def follow(contest: OpenContest) -> list[dict[str, Any]]:
        boards: list[dict[str, Any]] = []
        url = f"{api_process}/api/contests/{contest.id}/leaderboard/feed"
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(30)) as client,
            client.stream("GET", url) as response,
        ):
            async for event, body in _events(response):
                if event != "board":
                    continue
                boards.append(body)
                if len(boards) == 1:
                    opened.append(contest.id)
                    if len(opened) == 4:
                        ready.set()
                if contest is watched and len(boards) == 2:
                    return boards
                if contest is not watched:
                    await ready.wait()
                    return boards
        return boards

    async def change_when_all_listen() -> int:
        await ready.wait()
        subscribers = await _feed_subscribers(BACKENDS.redis_url)
        await add_votes(db, watched, watched.song_ids[1], 3)
        await recompute_now(db, watched.id)
        return subscribers

    feeds = asyncio.gather(*[follow(watched) for _ in range(3)], follow(contests[1]))
    results, subscribers = await asyncio.wait_for(asyncio.gather(feeds, change_when_all_listen()), 30)
    assert subscribers == 1  # four open feeds, two contests, one pub/sub connection
    for boards in results[:3]:  # every feed of the changed contest got the new board
        assert ranks(boards[-1]) == [(watched.song_ids[1], 1, 3), (watched.song_ids[0], 2, 1)]


# --- history and results ----------------------------------------------------------------------------------


async def test_history_of_the_board_and_of_one_song(api: Api, db: AsyncSession) -> None:
    every_change = timedelta(0)  # OVATION_LEADERBOARD_SNAPSHOT_MINUTES=0
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 2)
    await recompute_now(db, contest.id, snapshot_every=every_change)
    await add_votes(db, contest, b, 3)
    await recompute_now(db, contest.id, snapshot_every=every_change)
    unchanged = await recompute_now(db, contest.id, snapshot_every=every_change)
    assert not unchanged.snapshot  # nothing changed, nothing to chart

    response = await api.get(f"/api/contests/{contest.id}/leaderboard/history", params={"song_id": b})
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert [point["entries"] for point in points] == [[[b, 2, 0]], [[b, 1, 3]]]
    whole = (await api.get(f"/api/contests/{contest.id}/leaderboard/history", params={"top": 1})).json()
    assert [point["entries"] for point in whole["points"]] == [[[a, 1, 2]], [[b, 1, 3]]]
    unknown = await api.get(f"/api/contests/{contest.id}/leaderboard/history", params={"song_id": 987654})
    assert unknown.status_code == 404


async def test_results_export_counts_every_status_for_staff_only(
    api: Api, make_api: Any, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 3)
    await add_votes(db, contest, a, 2, status="cleared", weight=2)
    await add_votes(db, contest, a, 1, status="pending")
    await add_votes(db, contest, b, 2, status="suspicious")
    await add_votes(db, contest, b, 4, status="rejected")
    await add_votes(db, contest, b, 1, retracted=True)
    await add_votes(db, contest, b, 1)

    url = f"/api/contests/{contest.id}/leaderboard/results"
    assert (await api.get(url)).status_code == 401
    await api.register()
    assert (await api.get(url)).status_code == 403

    from tests.support.api import PASSWORD

    name, _ = await create_account(db, "moderator")
    moderator = await make_api()
    assert (
        await moderator.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    ).status_code == 200

    body = (await moderator.get(url)).json()
    rows = {row["song_id"]: row for row in body["items"]}
    assert {k: rows[a][k] for k in ("rank", "votes", "valid", "cleared", "pending")} == {
        "rank": 1,
        "votes": 7,
        "valid": 3,
        "cleared": 2,
        "pending": 1,
    }
    assert {k: rows[b][k] for k in ("rank", "votes", "valid", "suspicious", "rejected", "retracted")} == {
        "rank": 2,
        "votes": 1,
        "valid": 1,
        "suspicious": 2,
        "rejected": 4,
        "retracted": 1,
    }

    exported = await moderator.get(url, params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(int(row["song_id"]), int(row["votes"]), int(row["rejected"])) for row in table] == [
        (a, 7, 0),
        (b, 1, 4),
    ]
    assert (await moderator.get(url, params={"format": "xml"})).status_code == 400


# --- integrity --------------------------------------------------------------------------------------------


async def _repairs(db: AsyncSession, contest_id: int) -> list[str]:
    db.expire_all()
    rows = await db.scalars(select(LeaderboardRepair).where(LeaderboardRepair.contest_id == contest_id))
    return [row.source for row in rows]


async def test_the_integrity_check_repairs_a_tampered_stored_board(
    api: Api, db: AsyncSession, worker: Any
) -> None:
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 2)
    await recompute_now(db, contest.id)
    await db.execute(
        update(LeaderboardEntry)
        .where(LeaderboardEntry.contest_id == contest.id, LeaderboardEntry.song_id == b)
        .values(votes=50)
    )
    await db.commit()

    send_job(Job(VERIFY_TASK, (contest.id,)))

    async def repaired() -> bool:
        if await _repairs(db, contest.id) != ["database"]:
            return False
        stored = await db.execute(
            select(LeaderboardEntry.song_id, LeaderboardEntry.votes)
            .where(LeaderboardEntry.contest_id == contest.id, LeaderboardEntry.country == "")
            .order_by(LeaderboardEntry.votes.desc())
        )
        return [tuple(row) for row in stored] == [(a, 2), (b, 0)]

    assert await eventually(repaired)
    assert ranks(await board(api, contest.id)) == [(a, 1, 2), (b, 2, 0)]


async def test_the_integrity_check_repairs_a_tampered_cache(api: Api, db: AsyncSession, worker: Any) -> None:
    if not BACKENDS.production:
        pytest.skip("the embedded mode has no shared cache: reads go to the database")
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 2)
    result = await recompute_now(db, contest.id)
    client = Redis.from_url(BACKENDS.redis_url)
    try:
        forged = BoardDoc(
            result.version, utcnow(), [(b, 1, 99, "Song 1", "Tester"), (a, 2, 2, "Song 0", "Tester")]
        )
        await client.hset(board_key(contest.id, "live"), "*", encode_doc(forged))
        # Reads are served from the cache: the forgery shows until the check repairs it.
        assert ranks(await board(api, contest.id))[0] == (b, 1, 99)

        send_job(Job(VERIFY_TASK, (contest.id,)))

        async def repaired() -> bool:
            body = await board(api, contest.id)
            return await _repairs(db, contest.id) == ["cache"] and ranks(body) == [(a, 1, 2), (b, 2, 0)]

        assert await eventually(repaired)
    finally:
        await client.aclose()
    metrics = (await api.get("/metrics", headers={"authorization": f"Bearer {OPERATOR_TOKEN}"})).text
    line = next(
        row
        for row in metrics.splitlines()
        if row.startswith('ovation_leaderboard_repairs_total{source="cache"}')
    )
    assert float(line.split()[-1]) >= 1


async def test_a_correct_board_is_not_reported(db: AsyncSession) -> None:
    contest = await open_contest(db, songs=2)
    await add_votes(db, contest, contest.song_ids[0], 2)
    await recompute_now(db, contest.id)
    cache = open_board_cache(get_settings())
    findings = await integrity.verify(db, cache, [contest.id], now=utcnow(), settle_seconds=0)
    assert findings == []
    assert await _repairs(db, contest.id) == []
    assert msgspec.json.encode(findings) == b"[]"
