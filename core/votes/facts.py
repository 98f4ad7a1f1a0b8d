"""What the ballot rules read, on PostgreSQL: contests' rules and songs' statuses remembered per process
(with their row versions), and the full read, voter included, for the votes the remembered rules cannot pass.

The cache needs no invalidation message to be safe: each vote carries the row versions (``xmin``) of the
contest and song its rules were read at, and ``ovation_record_votes()`` writes it only while they are current.
A change anywhere (an admin closing the contest, a moderator withdrawing a song, a direct UPDATE) gives the
row a new version; the vote that meets it is judged again from a fresh read, and that contest's entry is read
again by the next batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from core.votes.rules import RULE_NAMES, VotingRules

_RULE_COLUMNS = """c.status, c.voting_opens_at, c.voting_closes_at, c.votes_per_voter_per_day,
       c.votes_per_song_per_day, c.eligible_countries::text AS eligible_countries, c.allow_unknown_country,
       c.require_verified_email, c.min_account_age_hours, c.retraction_minutes"""

_CONTESTS = (
    f"SELECT c.id, c.xmin AS version, {_RULE_COLUMNS} FROM contests AS c WHERE c.id = ANY($1::integer[])"  # noqa: S608
)
_SONGS = "SELECT contest_id, id, status, xmin AS version FROM songs WHERE contest_id = ANY($1::integer[])"

# Everything the rules need for each vote, in the order given; no voter columns: no such (active) account.
BALLOTS = f"""
SELECT u.id AS voter_id, u.email_verified, u.created_at, {_RULE_COLUMNS},
       c.xmin AS contest_version, s.status AS song_status, s.xmin AS song_version
FROM unnest($1::integer[], $2::integer[], $3::integer[])
     WITH ORDINALITY AS b(voter_id, contest_id, song_id, n)
LEFT JOIN users AS u ON u.id = b.voter_id AND u.status = 'active'
LEFT JOIN contests AS c ON c.id = b.contest_id
LEFT JOIN songs AS s ON s.id = b.song_id AND s.contest_id = c.id
ORDER BY b.n
"""  # noqa: S608 - column lists only


def rules_from_record(row: asyncpg.Record) -> VotingRules:
    values = {name: row[name] for name in RULE_NAMES}
    countries = values["eligible_countries"]  # JSON text: asyncpg returns json columns as text anyway
    values["eligible_countries"] = json.loads(countries) if countries is not None else None
    return VotingRules(**values)


@dataclass(frozen=True, slots=True)
class ContestFacts:
    rules: VotingRules
    version: int
    songs: dict[int, tuple[str, int]]  # song id -> (status, row version)


class RulesCache:
    """Contests' rules and songs' statuses as last read by this process."""

    def __init__(self, max_contests: int = 1000) -> None:
        self._contests: dict[int, ContestFacts] = {}
        self._max = max_contests

    def get(self, contest_id: int) -> ContestFacts | None:
        return self._contests.get(contest_id)

    def forget(self, contest_id: int) -> None:
        self._contests.pop(contest_id, None)

    async def load(self, connection: asyncpg.Connection, contest_ids: Iterable[int]) -> None:
        """Read the contests not remembered yet (two queries for all of them)."""
        missing = sorted({contest_id for contest_id in contest_ids if contest_id not in self._contests})
        if not missing:
            return
        contests = await connection.fetch(_CONTESTS, missing)
        songs = await connection.fetch(_SONGS, [row["id"] for row in contests]) if contests else []
        by_contest: dict[int, dict[int, tuple[str, int]]] = {row["id"]: {} for row in contests}
        for song in songs:
            by_contest[song["contest_id"]][song["id"]] = (song["status"], song["version"])
        if len(self._contests) + len(contests) > self._max:
            self._contests.clear()
        for row in contests:
            self._contests[row["id"]] = ContestFacts(
                rules_from_record(row), row["version"], by_contest[row["id"]]
            )
