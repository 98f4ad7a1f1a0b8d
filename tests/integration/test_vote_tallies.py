"""The vote tallies (counted votes per contest, song and country, kept by triggers on votes) stay equal to a
count from the votes through every path that changes a vote, and the integrity check repairs them."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import migrate
from core.db import create_engine, create_sessionmaker
from core.jobs import VERIFY_TASK, Job
from core.leaderboard.counting import COUNTED_VOTE, COUNTED_VOTE_SQL, is_counted
from core.models import COUNTED_STATUSES, LeaderboardRepair, Vote, VoteTally, utcnow
from core.services import scoring
from core.settings import DatabaseSettings, get_settings
from tests.integration.test_leaderboard import add_votes, board, ranks, recompute_now
from tests.integration.test_moderation import _bot_votes, _moderator, _scored
from tests.support.api import Api, create_account
from tests.support.environment import BACKENDS, OPERATOR_TOKEN
from tests.support.jobs import send_job
from tests.support.voting import OpenContest, eventually, open_contest, seed_vote_ring, vote

Tallies = dict[tuple[int, str], tuple[int, int]]  # (song, country) -> (weighted votes, counted votes)


async def tallies(db: AsyncSession, contest_id: int) -> Tallies:
    rows = await db.execute(
        select(VoteTally.song_id, VoteTally.country, VoteTally.votes, VoteTally.ballots).where(
            VoteTally.contest_id == contest_id, (VoteTally.votes != 0) | (VoteTally.ballots != 0)
        )
    )
    return {(song, country): (votes, ballots) for song, country, votes, ballots in rows}


async def counted(db: AsyncSession, contest_id: int) -> Tallies:
    """The same figures counted from the votes."""
    country = func.coalesce(Vote.country, "")
    rows = await db.execute(
        select(Vote.song_id, country, func.sum(Vote.weight), func.count())
        .where(Vote.contest_id == contest_id, Vote.status.in_(COUNTED_STATUSES), Vote.retracted_at.is_(None))
        .group_by(Vote.song_id, country)
    )
    return {(song, where): (int(votes), int(ballots)) for song, where, votes, ballots in rows}


async def exact(db: AsyncSession, contest_id: int) -> dict[int, int]:
    """Assert that the tallies equal a count from the votes; return the weighted votes per song."""
    await db.rollback()  # a fresh look
    kept = await tallies(db, contest_id)
    assert kept == await counted(db, contest_id)
    per_song: dict[int, int] = {}
    for (song, _), (votes, _) in kept.items():
        per_song[song] = per_song.get(song, 0) + votes
    return per_song


def _pending(contest: OpenContest, voter_id: int, song_id: int, index: int, now: datetime) -> Vote:
    """A pending vote that the scorer will find ordinary (own network, browser, device)."""
    cast_at = now - timedelta(minutes=index % 600)
    return Vote(
        contest_id=contest.id,
        song_id=song_id,
        voter_id=voter_id,
        cast_at=cast_at,
        vote_day=cast_at.date(),
        ip=f"10.{index // 250}.{index % 250}.9",
        network_prefix=f"10.{index // 250}.{index % 250}.0/24",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
        device_fingerprint=f"fp{index}",
        device_cookie_id=f"ck{index}",
        country=("SE", "US", None)[index % 3],
        status="pending",
        reasons=[],
    )


async def test_the_counted_vote_rule_agrees_with_the_tally_triggers(db: AsyncSession) -> None:
    """One rule in Python and SQL (core/leaderboard/counting.py), one frozen copy in the migration's triggers:
    for every status, retracted or not, they count the same votes."""
    contest = await open_contest(db, songs=1)
    song = contest.song_ids[0]
    for status in ("pending", "valid", "suspicious", "rejected", "cleared"):
        await add_votes(db, contest, song, 1, status=status, weight=2)
        await add_votes(db, contest, song, 1, status=status, weight=2, retracted=True)
    loaded = (await db.scalars(select(Vote).where(Vote.contest_id == contest.id))).all()
    by_predicate = [vote.id for vote in loaded if is_counted(vote.status, vote.retracted_at)]
    by_expression = (
        await db.scalars(select(Vote.id).where(Vote.contest_id == contest.id, COUNTED_VOTE).order_by(Vote.id))
    ).all()
    by_text = (
        await db.scalars(
            text(f"SELECT id FROM votes WHERE contest_id = :c AND {COUNTED_VOTE_SQL} ORDER BY id"),  # noqa: S608
            {"c": contest.id},
        )
    ).all()
    assert sorted(by_predicate) == list(by_expression) == list(by_text)
    assert len(by_predicate) == 2  # valid and cleared, not retracted
    assert await tallies(db, contest.id) == {(song, "SE"): (4, 2)}


# --- every path that changes a vote ----------------------------------------------------------------------


async def test_votes_scored_by_the_worker_enter_the_tallies(
    api: Api, make_api: Any, db: AsyncSession, worker: Any
) -> None:
    contest = await open_contest(db, songs=2)
    b = contest.song_ids[1]
    for ip in ("203.0.113.10", "192.0.2.10", "2001:db8:5::1"):
        voter = await make_api()
        await voter.register()
        assert (await vote(voter, contest.id, b, ip=ip)).status_code == 201
    bots = await _bot_votes(make_api, contest, 2)  # scored suspicious: not counted

    async def scored() -> bool:
        await db.rollback()
        pending = await db.scalar(
            select(func.count()).where(Vote.contest_id == contest.id, Vote.status == "pending")
        )
        return pending == 0

    await eventually(scored)
    assert {row.status for row in await _scored(db, bots)} == {"suspicious"}
    assert await exact(db, contest.id) == {b: 3}


async def test_scoring_batches_write_exact_tallies(db: AsyncSession, worker: Any) -> None:
    """Several batches of the set-based verdict UPDATE, in the worker and in-process."""
    contest = await open_contest(db, songs=3)
    now = utcnow()
    voters = [(await create_account(db))[1] for _ in range(40)]
    db.add_all(_pending(contest, voters[i % 40], contest.song_ids[i % 3], i, now) for i in range(150))
    await db.commit()
    run = await scoring.score_pending(db, contest_id=contest.id, now=utcnow(), batch_size=40)
    assert run.scored == 150
    first = await exact(db, contest.id)
    assert sum(first.values()) == 150 - run.suspicious > 0

    db.add_all(_pending(contest, voters[i % 40], contest.song_ids[i % 3], i, now) for i in range(150, 260))
    await db.commit()
    send_job(Job("ovation.fraud.score_contest", (contest.id,)))

    async def scored() -> dict[int, int] | None:
        await db.rollback()
        left = await db.scalar(
            select(func.count()).where(Vote.contest_id == contest.id, Vote.status == "pending")
        )
        return await exact(db, contest.id) if left == 0 else None

    second = await eventually(scored)
    valid = await db.scalar(select(func.count()).where(Vote.contest_id == contest.id, Vote.status == "valid"))
    assert valid is not None
    assert sum(second.values()) == valid > sum(first.values())


async def test_moderator_decisions_bans_and_voids_move_votes_in_and_out(
    make_api: Any, db: AsyncSession, worker: Any
) -> None:
    contest = await open_contest(db)
    song = contest.song_ids[0]
    bots = await _bot_votes(make_api, contest, 4)
    scored = await _scored(db, bots)
    assert {row.status for row in scored} == {"suspicious"}
    case_key = scored[0].case_key
    assert await exact(db, contest.id) == {}
    moderator = await _moderator(make_api, db)

    cleared = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": case_key, "decision": "clear", "note": "a school choir, checked"},
    )
    assert cleared.status_code == 200, cleared.text
    assert await exact(db, contest.id) == {song: 4}

    rejected = await moderator.post(
        f"/api/moderation/votes/{bots[0]}/decision",
        json={"decision": "confirm", "note": "a script after all"},
    )
    assert rejected.status_code == 200, rejected.text
    assert await exact(db, contest.id) == {song: 3}
    again = await moderator.post(
        f"/api/moderation/votes/{bots[0]}/decision", json={"decision": "clear", "note": "no, a fan"}
    )
    assert again.status_code == 200, again.text
    assert await exact(db, contest.id) == {song: 4}

    banned = await db.get(Vote, bots[1])
    assert banned is not None
    voided = await moderator.post(
        f"/api/moderation/users/{banned.voter_id}/void", json={"note": "sock puppet", "ban": True}
    )
    assert voided.status_code == 200, voided.text
    assert await exact(db, contest.id) == {song: 3}
    other = await db.get(Vote, bots[2])
    assert other is not None
    voided = await moderator.post(
        f"/api/moderation/users/{other.voter_id}/void", json={"note": "same script", "ban": False}
    )
    assert voided.status_code == 200, voided.text
    assert await exact(db, contest.id) == {song: 2}


async def test_a_retracted_vote_leaves_the_tallies(make_api: Any, db: AsyncSession, worker: Any) -> None:
    contest = await open_contest(db, songs=2, retraction_minutes=10)
    voter = await make_api()
    await voter.register()
    cast = await vote(voter, contest.id, contest.song_ids[1], ip="192.0.2.77")
    assert cast.status_code == 201, cast.text
    [row] = await _scored(db, [cast.json()["id"]])
    assert row.status == "valid", row.reasons
    assert await exact(db, contest.id) == {contest.song_ids[1]: 1}

    retracted = await voter.post(f"/api/votes/{cast.json()['id']}/retract")
    assert retracted.status_code == 200, retracted.text
    assert await exact(db, contest.id) == {}


async def test_group_detection_takes_a_ring_out_of_the_tallies(db: AsyncSession, worker: Any) -> None:
    """The detector flips a ring's valid votes to suspicious (ORM updates, one statement per vote)."""
    contest = await open_contest(db, songs=30, votes_per_voter_per_day=10)
    seeded = await seed_vote_ring(db, contest, countries=["SE", "NO", None])
    ring, ring_songs = seeded.ring, seeded.songs
    before = await exact(db, contest.id)

    send_job(Job("ovation.fraud.detect_groups", (contest.id,)))

    async def flagged() -> bool:
        await db.rollback()
        left = await db.scalar(
            select(func.count()).where(Vote.voter_id.in_(ring), Vote.status != "suspicious")
        )
        return left == 0

    await eventually(flagged, within=60)
    after = await exact(db, contest.id)
    assert sum(before.values()) - sum(after.values()) == len(ring) * len(ring_songs)
    for song_id in ring_songs:
        assert before[song_id] - after.get(song_id, 0) == len(ring)


@pytest.mark.skipif(not BACKENDS.production, reason="concurrent writers: PostgreSQL")
async def test_concurrent_transactions_keep_the_tallies_exact(db: AsyncSession) -> None:
    """Writers of different votes of the same songs and countries (scoring runs claim disjoint votes,
    moderators decide different cases) meet only on the tally rows: no deadlock, no lost update."""
    contest = await open_contest(db, songs=4)
    for song_id in contest.song_ids:
        for country in ("SE", "US", None):
            await add_votes(db, contest, song_id, 30, country=country)
    ids = list(await db.scalars(select(Vote.id).where(Vote.contest_id == contest.id)))
    random.Random(3).shuffle(ids)
    engine = create_engine(get_settings().database, pooled=False)
    sessions = create_sessionmaker(engine)

    async def flip(writer: int) -> None:
        rng = random.Random(writer)
        own = ids[writer::6]
        for _ in range(8):
            status = rng.choice(["valid", "rejected", "cleared", "suspicious"])
            async with sessions() as session:
                chosen = rng.sample(own, 30)
                await session.execute(update(Vote).where(Vote.id.in_(chosen)).values(status=status))
                await asyncio.sleep(0.01)  # hold the tally rows a moment: the transactions overlap
                await session.commit()

    try:
        await asyncio.gather(*(flip(writer) for writer in range(6)))
    finally:
        await engine.dispose()
    await exact(db, contest.id)


async def test_deleted_votes_leave_the_tallies(db: AsyncSession) -> None:
    """Votes are never deleted by the platform; an administrator's DELETE still keeps the tallies exact."""
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 5, weight=2)
    await add_votes(db, contest, b, 3, status="cleared", country=None)
    await add_votes(db, contest, b, 2, status="rejected")
    assert await exact(db, contest.id) == {a: 10, b: 3}
    await db.execute(delete(Vote).where(Vote.contest_id == contest.id, Vote.song_id == a))
    await db.commit()
    assert await exact(db, contest.id) == {b: 3}


# --- the integrity check ----------------------------------------------------------------------------------


async def test_the_integrity_check_repairs_corrupted_tallies(api: Api, db: AsyncSession, worker: Any) -> None:
    contest = await open_contest(db, songs=3)
    a, b, c = contest.song_ids
    await add_votes(db, contest, a, 3, country="SE")
    await add_votes(db, contest, b, 2, country="US")
    await add_votes(db, contest, b, 1, country=None)
    await add_votes(db, contest, c, 1, country="SE")
    truth = await exact(db, contest.id)
    # Damage behind the triggers' back: a tally raised, one deleted, one invented.
    await db.execute(
        text("UPDATE vote_tallies SET votes = votes + 40, ballots = ballots + 40 WHERE song_id = :s"),
        {"s": c},
    )
    await db.execute(text("DELETE FROM vote_tallies WHERE song_id = :s AND country = 'US'"), {"s": b})
    await db.execute(
        text(
            "INSERT INTO vote_tallies (contest_id, song_id, country, votes, ballots) "
            "VALUES (:c, :s, 'NO', 7, 7)"
        ),
        {"c": contest.id, "s": a},
    )
    await db.commit()
    await recompute_now(db, contest.id)  # the board is counted from the tallies: now wrong
    assert ranks(await board(api, contest.id))[0] == (c, 1, 41)
    assert await tallies(db, contest.id) != await counted(db, contest.id)

    send_job(Job(VERIFY_TASK, (contest.id,)))

    async def repaired() -> list[LeaderboardRepair] | None:
        await db.rollback()
        rows = list(
            await db.scalars(select(LeaderboardRepair).where(LeaderboardRepair.contest_id == contest.id))
        )
        return rows if rows else None

    [repair] = await eventually(repaired)
    assert repair.source == "tallies"
    assert repair.details["differences"] == 3
    assert await exact(db, contest.id) == truth

    async def fixed_board() -> list[tuple[int, int, int]] | None:
        shown = ranks(await board(api, contest.id))
        return shown if shown == [(a, 1, 3), (b, 1, 3), (c, 3, 1)] else None

    assert await eventually(fixed_board)
    country = await board(api, contest.id, country="NO")
    assert country["items"] == []
    if BACKENDS.production:
        metrics = (await api.get("/metrics", headers={"authorization": f"Bearer {OPERATOR_TOKEN}"})).text
        line = next(
            row
            for row in metrics.splitlines()
            if row.startswith('ovation_leaderboard_repairs_total{source="tallies"}')
        )
        assert float(line.split()[-1]) >= 1


# --- the embedded mode (SQLite): row-level triggers -------------------------------------------------------


async def test_sqlite_triggers_keep_the_tallies(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tallies.sqlite3'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with create_sessionmaker(engine)() as session:
            contest = await open_contest(session, songs=2)
            a, b = contest.song_ids
            await add_votes(session, contest, a, 3, weight=2, country="SE")
            await add_votes(session, contest, a, 2, status="pending")
            await add_votes(session, contest, b, 2, status="cleared", country=None)
            await add_votes(session, contest, b, 4, retracted=True)
            assert await exact(session, contest.id) == {a: 6, b: 2}

            await session.execute(update(Vote).where(Vote.status == "pending").values(status="valid"))
            await session.execute(
                update(Vote).where(Vote.song_id == b, Vote.status == "cleared").values(status="rejected")
            )
            await session.commit()
            assert await exact(session, contest.id) == {a: 8}

            await session.execute(
                update(Vote).where(Vote.song_id == a, Vote.weight == 2).values(retracted_at=utcnow())
            )
            await session.execute(update(Vote).where(Vote.song_id == b).values(country="NO", status="valid"))
            await session.commit()
            assert await exact(session, contest.id) == {a: 2, b: 2}

            await session.execute(delete(Vote).where(Vote.song_id == b, Vote.retracted_at.is_(None)))
            await session.commit()
            assert await exact(session, contest.id) == {a: 2}
    finally:
        await engine.dispose()
