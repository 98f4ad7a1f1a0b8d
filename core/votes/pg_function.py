"""The call of ``ovation_record_votes()``, the PL/pgSQL function migration 0011 installs, built from one
definition of its arguments (tests/integration/test_vote_writers.py checks it against the installed one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.votes.ballot import Ballot, context_columns
from core.votes.rules import VotingRules

# Name and PostgreSQL type of every argument, in the function's order, and the value each takes from one
# vote (one array element per vote of the batch). The values are looked up by name, so the call cannot
# drift from the function while this list matches it.
RECORD_VOTES_ARGUMENTS: tuple[tuple[str, str, str], ...] = (
    ("p_contest_ids", "integer[]", "contest_id"),
    ("p_song_ids", "integer[]", "song_id"),
    ("p_voter_ids", "integer[]", "voter_id"),
    ("p_cast_at", "timestamp with time zone[]", "cast_at"),
    ("p_vote_days", "date[]", "vote_day"),
    ("p_per_song", "integer[]", "per_song"),
    ("p_per_day", "integer[]", "per_day"),
    ("p_contest_versions", "xid[]", "contest_version"),
    ("p_song_versions", "xid[]", "song_version"),
    ("p_require_verified", "boolean[]", "require_verified"),
    ("p_min_created_at", "timestamp with time zone[]", "min_created_at"),
    ("p_ips", "character varying[]", "ip"),
    ("p_network_prefixes", "character varying[]", "network_prefix"),
    ("p_user_agents", "character varying[]", "user_agent"),
    ("p_device_fingerprints", "character varying[]", "device_fingerprint"),
    ("p_device_cookie_ids", "character varying[]", "device_cookie_id"),
    ("p_accept_languages", "character varying[]", "accept_language"),
    ("p_client_timezones", "character varying[]", "client_timezone"),
    ("p_countries", "character varying[]", "country"),
    ("p_regions", "character varying[]", "region"),
    ("p_cities", "character varying[]", "city"),
    ("p_latitudes", "double precision[]", "latitude"),
    ("p_longitudes", "double precision[]", "longitude"),
    ("p_asns", "integer[]", "asn"),
    ("p_as_orgs", "character varying[]", "as_org"),
)

# One row per vote: (ordinal, vote_id), ordinal counting from 1 in the order given.
RECORD_VOTES_CALL = "SELECT ordinal, vote_id FROM ovation_record_votes({})".format(  # noqa: S608 - placeholders
    ", ".join(f"${n}" for n in range(1, len(RECORD_VOTES_ARGUMENTS) + 1))
)
SONG_QUOTA_USED = -1
DAY_QUOTA_USED = -2
ACCOUNT_REFUSED = -3  # the account does not meet the contest's account rules: explain from a fresh read
RULES_CHANGED = -4  # the contest or song row changed since its rules were read: read them again


@dataclass(frozen=True, slots=True)
class Checked:
    """A ballot that passed the rules read at these row versions of its contest and song."""

    ballot: Ballot
    rules: VotingRules
    contest_version: int
    song_version: int


def _vote_values(vote: Checked) -> dict[str, Any]:
    ballot, rules = vote.ballot, vote.rules
    return {
        "contest_id": ballot.contest_id,
        "song_id": ballot.song_id,
        "voter_id": ballot.voter_id,
        "cast_at": ballot.now,
        "vote_day": ballot.now.date(),
        "per_song": rules.votes_per_song_per_day,
        "per_day": rules.votes_per_voter_per_day,
        "contest_version": vote.contest_version,
        "song_version": vote.song_version,
        "require_verified": rules.require_verified_email,
        "min_created_at": ballot.now - timedelta(hours=rules.min_account_age_hours),
        **context_columns(ballot.context),
    }


def record_votes_values(votes: Sequence[Checked]) -> list[list[Any]]:
    """The call's arrays, in the order of :data:`RECORD_VOTES_ARGUMENTS`."""
    rows = [_vote_values(vote) for vote in votes]
    return [[row[key] for row in rows] for _, _, key in RECORD_VOTES_ARGUMENTS]
