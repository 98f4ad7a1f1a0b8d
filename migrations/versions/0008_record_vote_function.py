"""record a vote in one statement on PostgreSQL

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

Casting a vote takes one from the voter's per-song and per-day quotas and inserts the vote. Through a client
transaction that is five round trips (BEGIN, two upserts, INSERT, COMMIT); as one function call it is one,
and still all or nothing. The contest's other rules are checked by the API before the call (shared with the
embedded SQLite mode, which keeps the client transaction).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_VOTE = """
CREATE OR REPLACE FUNCTION ovation_record_vote(
    p_contest_id integer, p_song_id integer, p_voter_id integer, p_cast_at timestamptz, p_vote_day date,
    p_per_song integer, p_per_day integer,
    p_ip varchar, p_network_prefix varchar, p_user_agent varchar, p_device_fingerprint varchar,
    p_device_cookie_id varchar, p_accept_language varchar, p_client_timezone varchar,
    p_country varchar, p_region varchar, p_city varchar, p_latitude double precision,
    p_longitude double precision, p_asn integer, p_as_org varchar
) RETURNS bigint
LANGUAGE plpgsql AS $$
-- The new vote's id, or -1 when the per-song quota is used up. A used-up daily quota raises
-- 'daily_limit_reached', which undoes the per-song count taken just before. Concurrent calls for one voter
-- serialise on the counter rows' locks, so exactly the allowed number of votes get in.
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO daily_song_vote_counts AS counter (contest_id, voter_id, song_id, vote_day, votes)
    VALUES (p_contest_id, p_voter_id, p_song_id, p_vote_day, 1)
    ON CONFLICT (contest_id, voter_id, song_id, vote_day)
    DO UPDATE SET votes = counter.votes + 1 WHERE counter.votes < p_per_song;
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    INSERT INTO daily_vote_counts AS counter (contest_id, voter_id, vote_day, votes)
    VALUES (p_contest_id, p_voter_id, p_vote_day, 1)
    ON CONFLICT (contest_id, voter_id, vote_day)
    DO UPDATE SET votes = counter.votes + 1 WHERE counter.votes < p_per_day;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'daily_limit_reached';
    END IF;
    INSERT INTO votes (
        contest_id, song_id, voter_id, cast_at, vote_day, ip, network_prefix, user_agent, device_fingerprint,
        device_cookie_id, accept_language, client_timezone, country, region, city, latitude, longitude, asn,
        as_org, weight, status, reasons
    ) VALUES (
        p_contest_id, p_song_id, p_voter_id, p_cast_at, p_vote_day, p_ip, p_network_prefix, p_user_agent,
        p_device_fingerprint, p_device_cookie_id, p_accept_language, p_client_timezone, p_country, p_region,
        p_city, p_latitude, p_longitude, p_asn, p_as_org, 1, 'pending', '[]'::jsonb
    ) RETURNING id INTO new_id;
    RETURN new_id;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RECORD_VOTE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS ovation_record_vote(integer, integer, integer, timestamptz, date, integer,"
            " integer, varchar, varchar, varchar, varchar, varchar, varchar, varchar, varchar, varchar, varchar,"
            " double precision, double precision, integer, varchar)"
        )
