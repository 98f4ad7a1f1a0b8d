"""The call of ``ovation_record_vote()``, the PL/pgSQL function migration 0008 installs, built from one
definition of its arguments (tests/integration/test_vote_writers.py checks it against the installed one)."""

from __future__ import annotations

from typing import Any

from core.votes.ballot import Ballot, context_columns

# Name and PostgreSQL type of every argument, in the function's order. The values are looked up by name, so
# the call cannot drift from the function while this list matches it.
RECORD_VOTE_ARGUMENTS: tuple[tuple[str, str], ...] = (
    ("p_contest_id", "integer"),
    ("p_song_id", "integer"),
    ("p_voter_id", "integer"),
    ("p_cast_at", "timestamp with time zone"),
    ("p_vote_day", "date"),
    ("p_per_song", "integer"),
    ("p_per_day", "integer"),
    ("p_ip", "character varying"),
    ("p_network_prefix", "character varying"),
    ("p_user_agent", "character varying"),
    ("p_device_fingerprint", "character varying"),
    ("p_device_cookie_id", "character varying"),
    ("p_accept_language", "character varying"),
    ("p_client_timezone", "character varying"),
    ("p_country", "character varying"),
    ("p_region", "character varying"),
    ("p_city", "character varying"),
    ("p_latitude", "double precision"),
    ("p_longitude", "double precision"),
    ("p_asn", "integer"),
    ("p_as_org", "character varying"),
)

RECORD_VOTE_CALL = "SELECT ovation_record_vote({})".format(
    ", ".join(f"${n}" for n in range(1, len(RECORD_VOTE_ARGUMENTS) + 1))
)


def record_vote_values(ballot: Ballot, *, per_song: int, per_day: int) -> tuple[Any, ...]:
    """The call's values in the order of :data:`RECORD_VOTE_ARGUMENTS`."""
    values = {
        "contest_id": ballot.contest_id,
        "song_id": ballot.song_id,
        "voter_id": ballot.voter_id,
        "cast_at": ballot.now,
        "vote_day": ballot.now.date(),
        "per_song": per_song,
        "per_day": per_day,
        **context_columns(ballot.context),
    }
    return tuple(values[name.removeprefix("p_")] for name, _ in RECORD_VOTE_ARGUMENTS)
