"""Small builders for VoteEvents: honest defaults, override what a test is about."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fraud import ContestContext, VoteEvent, prefix_for

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
CONTEXT = ContestContext(contest_id=1, eligible_countries=frozenset({"DE", "FR", "NL", "GB"}))

_ids = itertools.count(1)


def fingerprint(n: int) -> str:
    return f"{n:032x}"


def vote(
    *,
    voter: int,
    at: datetime = T0,
    song: int = 1,
    ip: str | None = None,
    **fields: object,
) -> VoteEvent:
    """An honest-looking vote: aged verified account, home IP in Germany, own device."""
    spread = random.Random(voter)  # one home line per voter, scattered over the ISP's space
    address = ip or f"93.{spread.randrange(256)}.{spread.randrange(256)}.{spread.randrange(1, 255)}"
    base = VoteEvent(
        vote_id=next(_ids),
        contest_id=1,
        song_id=song,
        voter_id=voter,
        cast_at=at,
        ip=address,
        prefix=prefix_for(address),
        user_agent=CHROME,
        fingerprint=fingerprint(voter),
        device_cookie=f"dc_{voter:08d}",
        accept_language="de-DE,de;q=0.9,en;q=0.8",
        client_timezone="Europe/Berlin",
        country="DE",
        asn=3320,
        asn_org="Deutsche Telekom AG",
        account_created_at=T0 - timedelta(days=400),
        email=f"person.{voter}x@web.de",
        email_verified=True,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def honest_background(count: int = 400, *, seed: int = 7, hours: float = 20.0) -> list[VoteEvent]:
    """A quiet contest: home voters spread over the hours before T0, a few votes each."""
    rng = random.Random(seed)
    votes = []
    for voter in range(100_000, 100_000 + count):
        start = T0 - timedelta(hours=rng.uniform(0.5, hours))
        for song in rng.sample(range(1, 21), rng.randint(1, 3)):
            votes.append(vote(voter=voter, song=song, at=start))
            start += timedelta(seconds=rng.uniform(8, 90))
    return sorted(votes, key=lambda event: event.cast_at)


def codes(verdict: object) -> set[str]:
    return {reason.code for reason in verdict.reasons}  # type: ignore[attr-defined]
