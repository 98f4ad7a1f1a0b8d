"""Scoring looks up what each vote's account did before and stores it with the verdict."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Vote, utcnow
from core.services import scoring
from tests.support.api import create_account
from tests.support.voting import open_contest


def _vote(contest_id: int, song_id: int, voter_id: int, cast_at: datetime, asn: int, device: str) -> Vote:
    return Vote(
        contest_id=contest_id,
        song_id=song_id,
        voter_id=voter_id,
        cast_at=cast_at,
        vote_day=cast_at.date(),
        ip="198.51.100.7",
        network_prefix="198.51.100.0/24",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
        device_fingerprint=f"fingerprint-{device}-0123456789",
        device_cookie_id=f"cookie-{device}",
        asn=asn,
        status="pending",
        reasons=[],
    )


async def test_each_scored_vote_records_the_accounts_past(db: AsyncSession) -> None:
    earlier_contest = await open_contest(db, songs=2)
    contest = await open_contest(db, songs=2)
    _, regular = await create_account(db)
    _, switched = await create_account(db)
    _, newcomer = await create_account(db)
    now = utcnow()
    months_ago = now - timedelta(days=120)
    db.add_all(
        [
            # last season, in another contest: both accounts at home, on their own device
            _vote(earlier_contest.id, earlier_contest.song_ids[0], regular, months_ago, 3320, "home"),
            _vote(earlier_contest.id, earlier_contest.song_ids[0], switched, months_ago, 3320, "home"),
            # now: one comes back as before, one from another provider and device, one never voted
            _vote(contest.id, contest.song_ids[0], regular, now - timedelta(minutes=5), 3320, "home"),
            _vote(contest.id, contest.song_ids[1], switched, now - timedelta(minutes=4), 9009, "phone"),
            _vote(contest.id, contest.song_ids[1], newcomer, now - timedelta(minutes=3), 3320, "new"),
        ]
    )
    await db.commit()
    await scoring.score_pending(db, contest_id=contest.id, now=utcnow())
    await db.rollback()
    rows = {
        voter: (previous, network, device)
        for voter, previous, network, device in await db.execute(
            select(Vote.voter_id, Vote.previous_vote_at, Vote.known_network, Vote.known_device).where(
                Vote.contest_id == contest.id
            )
        )
    }
    assert rows[regular][1:] == (True, True)
    assert rows[switched][1:] == (False, False)
    assert rows[newcomer] == (None, False, False)
    for voter in (regular, switched):
        previous = rows[voter][0]
        assert previous is not None
        assert abs((previous - months_ago).total_seconds()) < 1
