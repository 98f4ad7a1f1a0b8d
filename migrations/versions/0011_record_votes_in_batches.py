"""record a batch of votes in one call on PostgreSQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The API commits the concurrent votes of one process together: one call and one commit for a batch instead of
one per vote. Each vote of the batch still gets its own verdict (its id, or which quota refused it), exactly as
if it had been cast alone, so a quota reached by one vote of the batch refuses that vote alone.

The rules a vote is checked against come from a per-process cache in the API; each vote carries the row
versions (xmin) of the contest and song it was checked against, and the function writes it only if they are
still current, and only if the voter's account (read here, not cached) meets the contest's account rules. So
rules, account and write are one call, and a cache that missed a change costs a second look, never a wrong
vote.

Votes are taken in lock order (contest, voter, day, song; the day counter before the song counter): two
batches from two API processes that touch the same voters lock the counter rows in the same order and cannot
deadlock. A used-up song quota after the day counter was taken gives the day's vote back in the same call, so
no subtransaction is needed per vote. The single-vote function of migration 0008 is replaced.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_VOTES = """
CREATE OR REPLACE FUNCTION ovation_record_votes(
    p_contest_ids integer[], p_song_ids integer[], p_voter_ids integer[], p_cast_at timestamptz[],
    p_vote_days date[], p_per_song integer[], p_per_day integer[], p_contest_versions xid[],
    p_song_versions xid[], p_require_verified boolean[], p_min_created_at timestamptz[],
    p_ips varchar[], p_network_prefixes varchar[], p_user_agents varchar[], p_device_fingerprints varchar[],
    p_device_cookie_ids varchar[], p_accept_languages varchar[], p_client_timezones varchar[],
    p_countries varchar[], p_regions varchar[], p_cities varchar[], p_latitudes double precision[],
    p_longitudes double precision[], p_asns integer[], p_as_orgs varchar[]
) RETURNS TABLE (ordinal integer, vote_id bigint)
LANGUAGE plpgsql AS $$
-- One row per vote, in the order given: the new vote's id, -1 when the voter's quota for that song is used
-- up, -2 when the voter's quota for the day is (the song's verdict first, as for a vote cast alone), -3 when
-- the voter's account does not meet the contest's rules (inactive, unverified where required, too new), -4
-- when the contest or the song changed since the caller read the rules it checked (their row versions).
-- The caller explains -3 and -4 from a fresh read of the rules; nothing is written for them.
#variable_conflict use_column
DECLARE
    i integer;
BEGIN
    FOR i IN
        SELECT o FROM generate_subscripts(p_contest_ids, 1) AS o
        ORDER BY p_contest_ids[o], p_voter_ids[o], p_vote_days[o], p_song_ids[o], o
    LOOP
        ordinal := i;
        IF NOT EXISTS (SELECT 1 FROM contests AS c WHERE c.id = p_contest_ids[i] AND c.xmin = p_contest_versions[i])
           OR NOT EXISTS (
               SELECT 1 FROM songs AS s
               WHERE s.id = p_song_ids[i] AND s.contest_id = p_contest_ids[i] AND s.xmin = p_song_versions[i]
           ) THEN
            vote_id := -4;
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF NOT EXISTS (
            SELECT 1 FROM users AS u
            WHERE u.id = p_voter_ids[i] AND u.status = 'active' AND u.created_at <= p_min_created_at[i]
              AND (u.email_verified OR NOT p_require_verified[i])
        ) THEN
            vote_id := -3;
            RETURN NEXT;
            CONTINUE;
        END IF;
        INSERT INTO daily_vote_counts AS counter (contest_id, voter_id, vote_day, votes)
        VALUES (p_contest_ids[i], p_voter_ids[i], p_vote_days[i], 1)
        ON CONFLICT (contest_id, voter_id, vote_day)
        DO UPDATE SET votes = counter.votes + 1 WHERE counter.votes < p_per_day[i];
        IF NOT FOUND THEN
            vote_id := CASE WHEN EXISTS (
                SELECT 1 FROM daily_song_vote_counts AS song
                WHERE song.contest_id = p_contest_ids[i] AND song.voter_id = p_voter_ids[i]
                  AND song.song_id = p_song_ids[i] AND song.vote_day = p_vote_days[i]
                  AND song.votes >= p_per_song[i]
            ) THEN -1 ELSE -2 END;
            RETURN NEXT;
            CONTINUE;
        END IF;
        INSERT INTO daily_song_vote_counts AS counter (contest_id, voter_id, song_id, vote_day, votes)
        VALUES (p_contest_ids[i], p_voter_ids[i], p_song_ids[i], p_vote_days[i], 1)
        ON CONFLICT (contest_id, voter_id, song_id, vote_day)
        DO UPDATE SET votes = counter.votes + 1 WHERE counter.votes < p_per_song[i];
        IF NOT FOUND THEN
            UPDATE daily_vote_counts AS counter SET votes = counter.votes - 1
            WHERE counter.contest_id = p_contest_ids[i] AND counter.voter_id = p_voter_ids[i]
              AND counter.vote_day = p_vote_days[i];
            vote_id := -1;
            RETURN NEXT;
            CONTINUE;
        END IF;
        INSERT INTO votes (
            contest_id, song_id, voter_id, cast_at, vote_day, ip, network_prefix, user_agent,
            device_fingerprint, device_cookie_id, accept_language, client_timezone, country, region, city,
            latitude, longitude, asn, as_org, weight, status, reasons
        ) VALUES (
            p_contest_ids[i], p_song_ids[i], p_voter_ids[i], p_cast_at[i], p_vote_days[i], p_ips[i],
            p_network_prefixes[i], p_user_agents[i], p_device_fingerprints[i], p_device_cookie_ids[i],
            p_accept_languages[i], p_client_timezones[i], p_countries[i], p_regions[i], p_cities[i],
            p_latitudes[i], p_longitudes[i], p_asns[i], p_as_orgs[i], 1, 'pending', '[]'::jsonb
        ) RETURNING id INTO vote_id;
        RETURN NEXT;
    END LOOP;
END
$$
"""

DROP_RECORD_VOTES = (
    "DROP FUNCTION IF EXISTS ovation_record_votes(integer[], integer[], integer[], timestamptz[], date[],"
    " integer[], integer[], xid[], xid[], boolean[], timestamptz[], varchar[], varchar[], varchar[],"
    " varchar[], varchar[], varchar[], varchar[], varchar[], varchar[], varchar[], double precision[],"
    " double precision[], integer[], varchar[])"
)


def _single_vote_migration() -> object:
    # Module names that start with a digit cannot be imported with an import statement.
    return importlib.import_module("migrations.versions.0008_record_vote_function")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RECORD_VOTES)
        _single_vote_migration().downgrade()  # type: ignore[attr-defined]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _single_vote_migration().upgrade()  # type: ignore[attr-defined]
        op.execute(DROP_RECORD_VOTES)
