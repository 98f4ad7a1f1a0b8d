"""Leaderboard benchmark: recompute time against a plain GROUP BY, and board reads over HTTP.

    .venv/bin/python -m bench.leaderboard [--quick]

Builds its own PostgreSQL database (``ovation_bench_board``, migrated with Alembic) with one contest, 1,000
songs and 1,000,000 votes (COPY), mixed statuses, weights, retractions and 30 countries. Then:

1. recompute (the service: DELETE + one INSERT ... SELECT with RANK() over the global and 30 country boards,
   read-back, cache write) against ``SELECT song_id, count(*) FROM votes WHERE contest_id = ... GROUP BY
   song_id`` on the same table in the same run (medians of several runs, warm cache);
2. ``GET /api/contests/{id}/leaderboard`` from one ``ovation api`` process at 64 connections with wrk.

Figures are printed and written into docs/benchmarks.md under "Leaderboards".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ADMIN_DSN = os.environ.get("OVATION_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# Not db 14: bench.vote_ingest flushes that one.
REDIS_URL = os.environ.get("OVATION_BENCH_REDIS", "redis://127.0.0.1:6379/13")
DATABASE = "ovation_bench_board"
SONGS = 1000
VOTERS = 5000
COUNTRIES = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(30)]
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"


def _database_url() -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{DATABASE}"


async def _recreate_database() -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()


def _raw_dsn() -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + f"/{DATABASE}"


async def _load(votes: int) -> int:
    """Contest, songs, voters with plain inserts; the votes with COPY. Returns the contest id."""
    rng = random.Random(42)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(_raw_dsn())
    try:
        await connection.copy_records_to_table(
            "users",
            records=[
                (f"bench{i}@example.com", f"bench{i:06d}", "x", True, "active", 0, now) for i in range(VOTERS)
            ],
            columns=[
                "email",
                "username",
                "password_hash",
                "email_verified",
                "status",
                "failed_login_count",
                "created_at",
            ],
        )
        first_user = await connection.fetchval("SELECT min(id) FROM users")
        contest_id = await connection.fetchval(
            """
            INSERT INTO contests (slug, title, description, status, submission_opens_at, submission_closes_at,
                voting_opens_at, voting_closes_at, votes_per_voter_per_day, votes_per_song_per_day,
                allow_unknown_country, max_entries_per_contestant, allowed_formats, max_file_bytes,
                min_duration_seconds, max_duration_seconds, require_verified_email, min_account_age_hours,
                leaderboard_hidden, retraction_minutes, fraud_config, created_at, updated_at, freeze_hours)
            VALUES ('bench-board', 'Bench', '', 'open', $1, $2, $1, $3, 10, 1, true, 3,
                '["mp3"]', 1000000, 30, 600, false, 0, false, 10, '{}', $1, $1, 0)
            RETURNING id
            """,
            now - timedelta(days=10),
            now - timedelta(days=1),
            now + timedelta(days=10),
        )
        await connection.copy_records_to_table(
            "songs",
            records=[
                (
                    contest_id,
                    first_user,
                    f"Song {i}",
                    f"Artist {i % 300}",
                    "",
                    "",
                    "{}",
                    "cc-by",
                    "approved",
                    "",
                    0,
                    "{}",
                    now - timedelta(days=5, seconds=-i),
                    now,
                    0,
                )
                for i in range(SONGS)
            ],
            columns=[
                "contest_id",
                "contestant_id",
                "title",
                "artist_name",
                "genre",
                "description",
                "credits",
                "license",
                "status",
                "original_filename",
                "size_bytes",
                "review_evidence",
                "created_at",
                "updated_at",
                "process_attempts",
            ],
        )
        song_ids = [row[0] for row in await connection.fetch("SELECT id FROM songs ORDER BY id")]
        # A long tail: a few songs draw most votes, like real contests.
        popularity = [1 / (rank + 10) for rank in range(SONGS)]
        country_weights = [1 / (rank + 2) for rank in range(len(COUNTRIES))]
        statuses = (
            ["valid"] * 900 + ["cleared"] * 30 + ["suspicious"] * 30 + ["pending"] * 20 + ["rejected"] * 20
        )
        started = time.perf_counter()
        chunk = 200_000
        for offset in range(0, votes, chunk):
            size = min(chunk, votes - offset)
            songs = rng.choices(song_ids, popularity, k=size)
            countries = rng.choices(COUNTRIES, country_weights, k=size)
            records = []
            for i in range(size):
                cast = now - timedelta(seconds=rng.randrange(86400 * 5))
                records.append(
                    (
                        contest_id,
                        songs[i],
                        first_user + rng.randrange(VOTERS),
                        cast,
                        cast.date(),
                        "203.0.113.9",
                        "203.0.113.0/24",
                        None if i % 50 == 0 else countries[i],
                        2 if i % 100 == 7 else 1,
                        statuses[rng.randrange(1000)],
                        "[]",
                        cast if i % 100 == 3 else None,
                    )
                )
            await connection.copy_records_to_table(
                "votes",
                records=records,
                columns=[
                    "contest_id",
                    "song_id",
                    "voter_id",
                    "cast_at",
                    "vote_day",
                    "ip",
                    "network_prefix",
                    "country",
                    "weight",
                    "status",
                    "reasons",
                    "retracted_at",
                ],
            )
        print(f"  loaded {votes:,} votes in {time.perf_counter() - started:.1f} s (COPY)")
        await connection.execute("VACUUM ANALYZE")
        return int(contest_id)
    finally:
        await connection.close()


async def _time_plain(contest_id: int, runs: int) -> list[float]:
    connection = await asyncpg.connect(_raw_dsn())
    try:
        timings = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            await connection.fetch(
                "SELECT song_id, count(*) FROM votes WHERE contest_id = $1 GROUP BY song_id", contest_id
            )
            timings.append(time.perf_counter() - started)
        return timings[1:]  # the first run warms the cache
    finally:
        await connection.close()


async def _time_recompute(contest_id: int, runs: int) -> tuple[list[float], int]:
    from redis.asyncio import Redis
    from sqlalchemy import text

    from core.db import create_engine, create_sessionmaker
    from core.models import utcnow
    from core.services import leaderboard
    from core.services.leaderboard_cache import RedisBoardCache
    from core.settings import DatabaseSettings

    engine = create_engine(DatabaseSettings(url=_database_url()))
    cache = RedisBoardCache(Redis.from_url(REDIS_URL))
    sessions = create_sessionmaker(engine)
    timings = []
    rows = 0
    try:
        for _ in range(runs + 1):
            async with sessions() as session:
                # Like production: each recompute follows new votes (1,000, spread over songs and countries).
                await session.execute(text(NEW_VOTES), {"contest_id": contest_id})
                await session.commit()
                started = time.perf_counter()
                result = await leaderboard.recompute(session, cache, contest_id, now=utcnow())
                timings.append(time.perf_counter() - started)
                assert result is not None
        async with sessions() as session:
            rows = int((await session.execute(text("SELECT count(*) FROM leaderboard_entries"))).scalar_one())
    finally:
        await engine.dispose()
    return timings[1:], rows


NEW_VOTES = """
INSERT INTO votes (contest_id, song_id, voter_id, cast_at, vote_day, ip, network_prefix, country, weight,
    status, reasons)
SELECT :contest_id, s.first + (random() * 999)::int, u.first + (random() * 4999)::int, now(), current_date,
    '203.0.113.9', '203.0.113.0/24', 'A' || chr(65 + (random() * 25)::int), 1, 'valid', '[]'
FROM generate_series(1, 1000),
    (SELECT min(id) AS first FROM songs) AS s,
    (SELECT min(id) AS first FROM users) AS u
"""


def _ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("  wrk is missing: installing the Debian package")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
    return found


def _parse_wrk(output: str) -> tuple[float, float, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99_raw = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    assert p99_raw is not None, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_raw.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rps, float(p99_raw.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0


def _serve_and_load(contest_id: int, seconds: int) -> list[tuple[str, float, float, int]]:
    wrk = _ensure_wrk()
    port = 8790
    env = {
        **os.environ,
        "OVATION_DATABASE_URL": _database_url(),
        "OVATION_REDIS_URL": REDIS_URL,
        "OVATION_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "OVATION_DATA_DIR": str(Path("/tmp/ovation-bench-board")),
        # One client address makes every request: the per-address limit would measure 429s instead.
        # One address sends every request: the per-address limiter would refuse them (and its per-request
        # cost grows with its limit), so it is off here, as behind a CDN that limits per address.
        "OVATION_RATE_LIMIT_PER_MINUTE": "0",
        "OVATION_LOG_LEVEL": "WARNING",
    }
    log = open("/tmp/ovation-bench-board-api.log", "wb")  # noqa: SIM115 - closed below
    api = subprocess.Popen(
        [sys.executable, "-m", "ovation", "api", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or api.poll() is not None:
                raise RuntimeError("the API did not start; see /tmp/ovation-bench-board-api.log")
            time.sleep(0.2)
        targets = {
            "top 20": f"{base}/api/contests/{contest_id}/leaderboard?limit=20",
            "page 40 (offset 800)": f"{base}/api/contests/{contest_id}/leaderboard?limit=20&offset=800",
            "country AB top 20": f"{base}/api/contests/{contest_id}/leaderboard?limit=20&country=AB",
            "one song": f"{base}/api/contests/{contest_id}/leaderboard/songs/500",
        }
        for name, url in targets.items():
            check = httpx.get(url, timeout=5)
            assert check.status_code == 200, check.text
            subprocess.run([wrk, "-t2", "-c64", "-d3s", url], check=True, capture_output=True)  # warm-up
            output = subprocess.run(
                [wrk, "-t2", "-c64", f"-d{seconds}s", "--latency", url],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rps, p99, errors = _parse_wrk(output)
            results.append((name, rps, p99, errors))
            print(f"  {name:<22} {rps:>8.0f} req/s   p99 {p99:6.1f} ms   non-2xx {errors}")
    finally:
        api.terminate()
        api.wait(timeout=20)
        log.close()
    return results


NOTES = [
    "Reading (EXPLAIN ANALYZE and cProfile on the same data; other benchmarks ran on the machine at the",
    "same time, load average 4-5, so absolute times are inflated 2-3x and vary between runs):",
    "",
    "* The recompute misses its aim. Its cost is the aggregation by (song, country), needed for the 30",
    "  country boards in the same pass: about 3x the song-only aggregation of the plain query (hash keys",
    "  with a text column), and INSERT plans are never parallel while the plain SELECT uses parallel",
    "  workers. Writing is cheap now (only changed rows); rewriting all ~30,000 rows each time cost",
    "  several times more. Ways to meet it: recompute the global board every second and the country",
    "  boards on a slower cadence, or keep per-(song, country) counters updated as votes are decided.",
    "* The read aim is missed in the shared middleware, not in the handler: per anonymous request the",
    "  server-side session backend writes a session row to PostgreSQL (api/stores.py) and the rate",
    "  limiter makes two Redis round trips; the leaderboard handler itself (one Redis HMGET, slicing the",
    "  cached board) is about 1 ms of the ~8-12 ms per request measured in-process.",
]


def _write_docs(command: str, figures: dict[str, Any]) -> None:
    section = ["## Leaderboards", ""]
    section += [
        f"`{command}` on {figures['date']}. Machine: {figures['machine']}; the API process, PostgreSQL, "
        "Redis and the load generator (wrk) share its 2 cores: the HTTP figures are a floor, not a capacity.",
        "",
        f"Data: {figures['votes']:,} votes over {SONGS:,} approved songs in one contest (90 % valid, "
        "3 % cleared, 3 % suspicious, 2 % pending, 2 % rejected, 1 % retracted, 1 % weight 2), 30 countries "
        f"({figures['rows']:,} board rows: the global board and every country's).",
        "",
        "| measurement | median | aim |",
        "|---|---|---|",
        f"| plain `SELECT song_id, count(*) ... GROUP BY song_id` | {figures['plain_ms']:.0f} ms | |",
        f"| recompute after 1,000 new votes (one statement: RANK() over all boards, delete vanished rows, "
        "upsert changed ones; read-back, cache write, commit) | "
        f"{figures['recompute_ms']:.0f} ms ({figures['ratio']:.2f}x) | within 1.5x, under 2 s |",
        "",
        "Reads, one `ovation api` process (1 uvicorn worker), `wrk -t2 -c64 -d"
        f"{figures['seconds']}s --latency`, boards served from Redis:",
        "",
        "| request | requests/s | p99 | non-2xx |",
        "|---|---|---|---|",
    ]
    for name, rps, p99, errors in figures["http"]:
        section.append(f"| {name} | {rps:,.0f} | {p99:.1f} ms | {errors} |")
    section += ["", "Aims: at least 2,000 requests/s with p99 under 20 ms.", "", *NOTES, ""]
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = "\n".join(section)
    pattern = re.compile(r"^## Leaderboards\n.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(block + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    )
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="200,000 votes and shorter HTTP runs")
    args = parser.parse_args()
    votes = 200_000 if args.quick else 1_000_000
    seconds = 5 if args.quick else 15
    runs = 3 if args.quick else 5

    sys.path.insert(0, str(ROOT))
    from core import migrate

    print(f"database {DATABASE}: creating and migrating")
    asyncio.run(_recreate_database())
    migrate.upgrade(_database_url())
    contest_id = asyncio.run(_load(votes))

    plain = asyncio.run(_time_plain(contest_id, runs))
    recompute, rows = asyncio.run(_time_recompute(contest_id, runs))
    plain_ms, recompute_ms = statistics.median(plain) * 1000, statistics.median(recompute) * 1000
    print(
        f"  plain GROUP BY: median {plain_ms:.0f} ms  (runs: {', '.join(f'{t * 1000:.0f}' for t in plain)})"
    )
    runs_ms = ", ".join(f"{t * 1000:.0f}" for t in recompute)
    print(
        f"  recompute:      median {recompute_ms:.0f} ms  (runs: {runs_ms})"
        f"  = {recompute_ms / plain_ms:.2f}x the plain query; {rows:,} board rows"
    )
    http = _serve_and_load(contest_id, seconds)

    machine = f"{os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}"
    command = ".venv/bin/python -m bench.leaderboard" + (" --quick" if args.quick else "")
    _write_docs(
        command,
        {
            "date": date.today().isoformat(),
            "machine": machine,
            "votes": votes,
            "rows": rows,
            "plain_ms": plain_ms,
            "recompute_ms": recompute_ms,
            "ratio": recompute_ms / plain_ms,
            "seconds": seconds,
            "http": http,
        },
    )
    print(f"written to {DOCS.relative_to(ROOT)} (Leaderboards)")


if __name__ == "__main__":
    main()
