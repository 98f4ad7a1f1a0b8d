"""Vote ingest through the HTTP API on PostgreSQL, beside its floor (raw asyncpg INSERTs). Prints figures.

    .venv/bin/python -m bench.vote_ingest [--quick] [--profile] [--duration 20] [--rate 1000]
                                          [--no-address-limit]

1. Creates the database ``ovation_bench`` (dropped first) on ``--postgres``, migrates it, and seeds an open
   contest with ``--songs`` approved songs and ``--voters`` voters, each with a login session row in
   ``http_sessions`` and a signed device cookie (no login needed). Rules: 1 vote per song per day,
   ``--songs`` votes per voter per day, so every (voter, song) pair is one legal vote.
2. Starts ONE ``ovation api`` process (uvicorn, 1 worker) against it, with Redis db 14 (flushed) for the
   rate limits and the scoring debounce, generous rate limits (both limiters on, each one Redis call per
   vote; ``--no-address-limit`` turns the per-address one off, as behind a proxy that limits per address),
   and 127.0.0.1 as trusted proxy so that each request carries its own X-Forwarded-For. No Celery worker:
   votes stay pending.
3. Throughput: ``wrk`` (64 connections, 2 threads) with bench/vote_ingest.lua; every request is a distinct
   legal vote; non-201 responses are counted and printed.
4. Latency at a steady rate: an asyncio client on raw streams paces ``--rate`` votes/s over 64 keep-alive
   connections (open loop: latency counts from the scheduled send time, so queueing is not hidden).
5. Floor: as many raw asyncpg INSERTs of equivalent vote rows as the API accepted in step 3, from this
   process with a pool of 16 connections and 64 concurrent callers; also the API's write alone (one call
   of ``ovation_record_votes`` per vote: two counter upserts + the INSERT) in raw asyncpg, for reference.
6. The stack alone: bench/bare_vote_app.py (a bare Litestar handler doing one raw asyncpg INSERT of the
   same row, the issue's reference point) under the same uvicorn settings and wrk script; then the same
   handler with the API's middleware added one layer at a time (Prometheus, session, CSRF, rate limits),
   each layer's CPU per request printed beside the step before (the lowest of ``--layer-rounds`` rounds).
7. ``--profile``: py-spy samples the API process during another wrk run; costs are attributed to parts of
   the request path (session store, rate limits, CSRF, the vote's two asyncpg round trips, GeoIP, ...).

Load generator, API, PostgreSQL and Redis share the machine: read the figures with that in mind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis
import uvloop
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from api.csrf import issue_token
from bench.bare_vote_app import INSERT_VOTE
from bench.bare_vote_app import LAYERS as BARE_LAYERS
from bench.common import database_dsn, free_port, recreate_database
from bench.pg_cost import Cost, cost, sample, tree_cpu
from core.db import keep_session_state
from core.devices import new_device_cookie
from core.geo import GeoLookup
from core.migrate import upgrade
from core.models import (
    Contest,
    ContestStatus,
    HttpSession,
    Song,
    SongStatus,
    User,
    UserRole,
)
from core.net import network_prefix
from core.passwords import hash_password_sync
from core.settings import GeoSettings
from core.votes.pg_function import RECORD_VOTES_CALL

ROOT = Path(__file__).resolve().parents[1]
LUA_SCRIPT = Path(__file__).with_suffix(".lua")
# Several people share a machine: each can give the benchmark its own database and Redis db (both are wiped).
DATABASE = os.environ.get("OVATION_BENCH_DATABASE", "ovation_bench")
REDIS_URL = os.environ.get("OVATION_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
ACCEPT_LANGUAGE = "sv-SE,sv;q=0.9,en;q=0.8"
TIMEZONE = "Europe/Stockholm"
FIRST_OCTETS = (24, 31, 62, 77, 81, 85, 88, 92, 95, 109, 151, 176, 185, 188, 193, 212, 213, 217)
SESSION_MAX_AGE = 14 * 24 * 3600
CONNECTIONS = 64
FLOOR_POOL = 16


# --- the data set --------------------------------------------------------------------------------------


@dataclass
class Voter:
    id: int
    session_id: str
    device_cookie: str
    csrf_token: str  # bound to the session (api/csrf.py), as the API hands it out at login


@dataclass
class Fixture:
    contest_id: int
    song_ids: list[int]
    voters: list[Voter]
    secret: str

    @property
    def capacity(self) -> int:
        return len(self.voters) * len(self.song_ids)

    @property
    def path(self) -> str:
        return f"/api/contests/{self.contest_id}/votes"

    def address(self, i: int) -> str:
        # Same formula as address() in vote_ingest.lua.
        n = (i * 2654435761) % 4294967296
        return f"{FIRST_OCTETS[i % len(FIRST_OCTETS)]}.{(n // 65536) % 256}.{(n // 256) % 256}.{n % 254 + 1}"

    def vote(self, i: int) -> tuple[Voter, int, str]:
        """Vote index i: (voter, song id, client address); distinct i < capacity are distinct legal votes."""
        if i >= self.capacity:
            raise RuntimeError(f"vote index {i} beyond the {self.capacity} legal votes: add voters")
        voter_index = i % len(self.voters)
        song = self.song_ids[(i // len(self.voters)) % len(self.song_ids)]
        return self.voters[voter_index], song, self.address(i)

    def request_for(self, i: int, host: str) -> bytes:
        """The HTTP request wrk's script sends for index i."""
        voter, song, address = self.vote(i)
        body = f'{{"song_id":{song},"fingerprint":"fp{i % len(self.voters):012d}","timezone":"{TIMEZONE}"}}'
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-CSRFToken: {voter.csrf_token}\r\nUser-Agent: {USER_AGENT}\r\n"
            f"Accept-Language: {ACCEPT_LANGUAGE}\r\nX-Forwarded-For: {address}\r\n"
            f"Cookie: ovation_session={voter.session_id}; ovation_device={voter.device_cookie}; "
            f"csrftoken={voter.csrf_token}\r\n\r\n"
        )
        return (head + body).encode()

    def write_wrk_data(self, path: Path, vote_path: str | None = None) -> None:
        lines = [vote_path or self.path, " ".join(str(song) for song in self.song_ids)]
        lines += [f"{voter.session_id} {voter.device_cookie} {voter.csrf_token}" for voter in self.voters]
        path.write_text("\n".join(lines) + "\n")


async def seed(url: str, *, voters: int, songs: int, secret: str) -> Fixture:
    """An open contest, approved songs, voters with a session row each; one shared password hash."""
    engine = create_async_engine(url)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    now = datetime.now(UTC)
    password_hash = hash_password_sync("bench-password-0123456789")
    try:
        async with sessionmaker() as db:
            admin_id, contestant_id = await _staff(db, password_hash, now)
            contest = Contest(
                slug="vote-ingest-bench",
                title="Vote ingest benchmark",
                status=ContestStatus.OPEN,
                submission_opens_at=now - timedelta(days=3),
                submission_closes_at=now - timedelta(days=1),
                voting_opens_at=now - timedelta(hours=1),
                voting_closes_at=now + timedelta(days=3),
                votes_per_song_per_day=1,
                votes_per_voter_per_day=songs,
                created_by_id=admin_id,
            )
            db.add(contest)
            await db.flush()
            song_rows = [
                Song(
                    contest_id=contest.id,
                    contestant_id=contestant_id,
                    title=f"Song {index}",
                    artist_name="Bench",
                    status=SongStatus.APPROVED,
                )
                for index in range(songs)
            ]
            db.add_all(song_rows)
            await db.flush()
            contest_id, song_ids = contest.id, [row.id for row in song_rows]
            created = now - timedelta(days=30)
            ids = (
                await db.scalars(
                    insert(User).returning(User.id),
                    [
                        {
                            "email": f"voter{index}@bench.example",
                            "username": f"voter{index}",
                            "password_hash": password_hash,
                            "email_verified": True,
                            "created_at": created,
                        }
                        for index in range(voters)
                    ],
                )
            ).all()
            await db.execute(insert(UserRole), [{"user_id": user_id, "role": "voter"} for user_id in ids])
            session_ids = {user_id: secrets.token_hex(32) for user_id in ids}
            people = [
                Voter(user_id, key, new_device_cookie(secret)[1], issue_token(key, secret))
                for user_id, key in sorted(session_ids.items())
            ]
            expires = now + timedelta(seconds=SESSION_MAX_AGE)
            await db.execute(
                insert(HttpSession),
                [
                    # Litestar's server-side session backend stores the session as compact JSON.
                    {
                        "key": voter.session_id,
                        "value": b'{"uid":%d,"roles":"voter"}' % voter.id,
                        "expires_at": expires,
                        "user_id": voter.id,
                    }
                    for voter in people
                ],
            )
            await db.commit()
    finally:
        await engine.dispose()
    return Fixture(contest_id, song_ids, people, secret)


async def _staff(db: AsyncSession, password_hash: str, now: datetime) -> tuple[int, int]:
    ids = []
    for name in ("benchadmin", "benchcontestant"):
        user = User(email=f"{name}@bench.example", username=name, password_hash=password_hash, created_at=now)
        db.add(user)
        await db.flush()
        ids.append(user.id)
    return ids[0], ids[1]


# --- the API process -----------------------------------------------------------------------------------


class ApiProcess:
    def __init__(
        self,
        url: str,
        secret: str,
        logs: Path,
        root: Path = ROOT,
        *,
        address_limit: bool = True,
        workers: int = 1,
    ) -> None:
        self.port = free_port()
        self.root = root
        self.workers = workers
        self.log_path = logs / f"api-{workers}.log"
        limit = "100000000"
        self.env = {
            **os.environ,
            "OVATION_DATABASE_URL": url,
            "OVATION_REDIS_URL": REDIS_URL,
            "OVATION_SECRET_KEY": secret,
            # Generous but on: every request pays the limiters' Redis calls, as in production.
            "OVATION_RATE_LIMIT_PER_MINUTE": limit if address_limit else "0",
            "OVATION_VOTE_RATE_LIMIT_PER_MINUTE": limit,
            "OVATION_CREDENTIAL_RATE_LIMIT_PER_MINUTE": limit,
            "OVATION_TRUSTED_PROXIES": "127.0.0.1",
            "OVATION_LOG_LEVEL": "WARNING",
            "OVATION_DATA_DIR": str(logs / "data"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "ovation", "api", "--port", str(self.port)),
            *("--workers", str(self.workers)),
        ]

    def start(self) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command(),
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=self.root,  # python -m puts the working directory first on sys.path
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()  # a process that answers but is not healthy must not outlive the benchmark
        raise RuntimeError(
            f"the API did not start; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


class BareProcess(ApiProcess):
    """bench/bare_vote_app.py under the same uvicorn settings as ``ovation api``: the stack's own cost."""

    def __init__(self, url: str, fixture: Fixture, logs: Path, layers: Sequence[str] = ()) -> None:
        super().__init__(url, fixture.secret, logs)
        self.log_path = logs / "bare.log"
        self.env.update(
            {
                "OVATION_BARE_DSN": url.replace("postgresql+asyncpg://", "postgresql://"),
                "OVATION_BARE_CONTEST": str(fixture.contest_id),
                "OVATION_BARE_VOTER": str(fixture.voters[0].id),
                "OVATION_BARE_LAYERS": ",".join(layers),
            }
        )

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "uvicorn", "bench.bare_vote_app:create_app", "--factory"),
            *("--port", str(self.port), "--no-access-log", "--no-proxy-headers", "--log-level", "warning"),
        ]


def run_bare(
    wrk: str,
    url: str,
    fixture: Fixture,
    logs: Path,
    data_file: Path,
    layers: Sequence[str],
    *,
    seconds: float,
) -> tuple[WrkResult, float]:
    """One wrk run (after a 3-s warm-up) against bench/bare_vote_app.py with these layers: the run and the
    process's CPU per request."""
    bare = BareProcess(url, fixture, logs, layers)
    bare.start()
    try:
        run_wrk(wrk, bare.base_url, data_file, 0, seconds=3)
        assert bare.process is not None
        cpu_before = cpu_seconds(bare.process.pid)
        run = run_wrk(wrk, bare.base_url, data_file, 0, seconds=seconds)
        return run, 1000 * (cpu_seconds(bare.process.pid) - cpu_before) / max(1, run.created)
    finally:
        bare.stop()


# --- load: wrk -------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    created: int
    other: int
    issued_upto: int  # vote indexes [start, issued_upto) were sent
    socket_errors: int
    samples: list[str]

    @property
    def rate(self) -> float:
        return self.created / self.seconds


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    # The project's installer takes extra Debian packages from this variable.
    env = {**os.environ, "OVATION_EXTRA_PACKAGES": "wrk"}
    subprocess.run(["bash", str(ROOT / "scripts" / "system-deps.sh")], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed (apt-get install -y wrk)")
    return found


def run_wrk(
    wrk: str, base_url: str, data_file: Path, start: int, *, seconds: float, threads: int = 2
) -> WrkResult:
    command = [
        wrk,
        f"-t{threads}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(data_file),
        str(start),
        str(threads),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((line for line in out.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    raw = json.loads(line.removeprefix("RESULT "))
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        created=raw["status_201"],
        other=raw["status_other"],
        issued_upto=start + raw["max_k"] * threads + threads,
        socket_errors=raw["err_connect"] + raw["err_read"] + raw["err_write"] + raw["err_timeout"],
        samples=[line for line in out.splitlines() if line.startswith("NON201 ")],
    )


# --- load: paced client ----------------------------------------------------------------------------------


@dataclass
class PacedResult:
    target_rate: float
    sent: int
    seconds: float
    latencies_ms: list[float]
    service_ms: list[float]
    statuses: Counter[int] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    max_lag_ms: float = 0.0
    dropped: int = 0  # never sent: still queued when the run ended (the API could not keep up)

    @property
    def created(self) -> int:
        return self.statuses[201]

    @property
    def other(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != 201)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    body = await reader.readexactly(int(match.group(1))) if match else b""
    return status, body


async def run_paced(fixture: Fixture, port: int, start: int, *, rate: float, seconds: float) -> PacedResult:
    """Open-loop load: request k is due at t0 + k / rate and waits for a free connection if none is."""
    total = int(rate * seconds)
    host = f"127.0.0.1:{port}"
    requests = [fixture.request_for(start + k, host) for k in range(total)]
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    result = PacedResult(rate, total, seconds, [], [])

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (item := await queue.get()) is not None:
                k, due = item
                began = time.perf_counter()
                writer.write(requests[k])
                status, body = await _read_response(reader)
                ended = time.perf_counter()
                result.latencies_ms.append((ended - due) * 1000)
                result.service_ms.append((ended - began) * 1000)
                result.statuses[status] += 1
                if status != 201 and len(result.samples) < 20:
                    result.samples.append(f"NON201 {status} {body[:300]!r}")
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    await asyncio.sleep(0.2)  # connections open
    t0 = time.perf_counter()
    for k in range(total):
        due = t0 + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            result.max_lag_ms = max(result.max_lag_ms, -delay * 1000)
        queue.put_nowait((k, due))
    # When the API cannot keep up, what is still queued a second after the last send is dropped and counted,
    # not waited for: the rate was not sustained and the latencies below are a lower bound.
    await asyncio.sleep(1.0)
    while not queue.empty():
        queue.get_nowait()
        result.dropped += 1
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    result.seconds = time.perf_counter() - t0
    return result


# --- the floor -------------------------------------------------------------------------------------------

# The API's own write (migration 0011), here with one vote per call: both quotas and the INSERT.


def floor_rows(fixture: Fixture, start: int, count: int, day: date) -> list[tuple[Any, ...]]:
    """Vote rows as the API writes them for the same requests (GeoIP looked up here, outside the clock)."""
    geo = GeoLookup.open(GeoSettings())
    now = datetime.now(UTC)
    rows = []
    try:
        for i in range(start, start + count):
            voter, song, address = fixture.vote(i)
            where = geo.lookup(address)
            rows.append(
                (
                    fixture.contest_id,
                    song,
                    voter.id,
                    now,
                    day,
                    address,
                    network_prefix(address),
                    USER_AGENT,
                    f"fp{i % len(fixture.voters):012d}",
                    voter.device_cookie.split(".", 1)[0],
                    ACCEPT_LANGUAGE,
                    TIMEZONE,
                    where.country,
                    where.region,
                    where.city,
                    where.latitude,
                    where.longitude,
                    where.asn,
                    where.as_org,
                )
            )
    finally:
        geo.close()
    return rows


async def run_floor(
    url: str, rows: list[tuple[Any, ...]], *, with_counters: bool, limit: int, reset_query: bool = False
) -> float:
    """Seconds for all rows: a pool of 16 connections, 64 concurrent callers. Released without asyncpg's
    default reset query, like the API's pool (one round trip per row), unless ``reset_query``."""
    reset = None if reset_query else keep_session_state
    pool = await asyncpg.create_pool(url, min_size=FLOOR_POOL, max_size=FLOOR_POOL, reset=reset)
    assert pool is not None
    cursor = iter(rows)
    versions: dict[int, int] = {}
    contest_version = 0
    if with_counters:  # the row versions the API's rules cache would pass (migration 0011)
        contest_version = await pool.fetchval("SELECT xmin FROM contests WHERE id = $1", rows[0][0])
        songs = await pool.fetch("SELECT id, xmin FROM songs WHERE contest_id = $1", rows[0][0])
        versions = {song["id"]: song["xmin"] for song in songs}

    async def caller() -> None:
        for row in cursor:
            if not with_counters:
                await pool.fetchval(INSERT_VOTE, *row)
                continue
            checks = (contest_version, versions[row[1]], False, row[3])
            values = [[value] for value in (*row[:5], 1, limit, *checks, *row[5:])]
            written = await pool.fetch(RECORD_VOTES_CALL, *values)
            assert written[0]["vote_id"] > 0

    try:
        async with pool.acquire() as connection:  # warm the statement caches of every connection
            await connection.fetchval("SELECT 1")
        t0 = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CONNECTIONS)))
        return time.perf_counter() - t0
    finally:
        await pool.close()


# --- profile ---------------------------------------------------------------------------------------------

# Each sample goes to ONE part: the innermost frame of its stack that matches a rule (exclusive shares, so
# that a middleware is charged for its own work and not for everything it wraps). SQLAlchemy's async layer
# runs the ORM in greenlets: py-spy sees those stacks without the caller's frames, so they are charged by the
# ORM entry point the greenlet was started for.
PROFILE_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("debounce: send_job / Redis SET NX (worker thread)", re.compile(r"^(send_job|Debouncer\.acquire) ")),
    ("debounce: to_thread hand-off", re.compile(r"^(to_thread|ThreadPoolExecutor\.submit|_worker) ")),
    ("session store: DatabaseSessionStore.get", re.compile(r"^DatabaseSessionStore\.get ")),
    ("session store: batched reads (SessionReads)", re.compile(r"^SessionReads\.")),
    ("session store: DatabaseSessionStore.set (skipped write)", re.compile(r"^DatabaseSessionStore\.set ")),
    ("rate limits: one Redis script call each (stores)", re.compile(r"^(FailOpenStore|RateLimitStore)\.")),
    ("rate limits: middleware itself", re.compile(r"^(Atomic)?RateLimitMiddleware\.")),
    ("vote: rules check (check_ballot)", re.compile(r"^check_ballot ")),
    ("vote: asyncpg pool acquire/release", re.compile(r"^(Pool|PoolConnectionHolder|PoolAcquireContext)\.")),
    (
        "vote: rules from the cache, record_votes call",
        re.compile(r"^(FunctionVoteWriter\.|_record|RulesCache\.)"),
    ),
    (
        "vote: call values and results (record_votes_values, recorded)",
        re.compile(r"^(record_votes_values|_vote_values|recorded|rules_from_record) "),
    ),
    ("micro-batching (futures, hand-off)", re.compile(r"^MicroBatcher\.")),
    ("vote: portable ORM path", re.compile(r"^OrmVoteWriter\.")),
    ("GeoIP lookup", re.compile(r"^(GeoLookup|Reader)\.")),
    ("handler: GeoIP, device cookie, context", re.compile(r"^VoteController\.cast ")),
    ("response: vote_out + JSON encoding", re.compile(r"^(vote_out|encode_json) |to_asgi_response")),
    ("CSRF middleware", re.compile(r"^CSRFMiddleware\.")),
    ("Prometheus middleware", re.compile(r"^PrometheusMiddleware\.")),
    ("session middleware (cookie, (de)serialise)", re.compile(r"^(SessionMiddleware|ServerSide\w+)\.")),
    ("auth middleware", re.compile(r"^(AbstractAuthenticationMiddleware|SessionAuthMiddleware)\.")),
    ("proxy headers middleware", re.compile(r"^ProxyHeadersMiddleware\.")),
    ("Litestar routing, DI, body parsing", re.compile(r"\(litestar/")),
    ("uvicorn / httptools", re.compile(r"\(uvicorn/")),
    ("ORM greenlet: Session.get (contest/song/user/vote by id)", re.compile(r"^Session\.get ")),
    ("ORM greenlet: Session.execute (session row, upserts, roles)", re.compile(r"^Session\.execute ")),
    ("ORM greenlet: Session.scalar (vote INSERT)", re.compile(r"^Session\.scalar ")),
    ("ORM greenlet: commit", re.compile(r"^Session\.commit ")),
    ("ORM greenlet: close / rollback", re.compile(r"^Session\.(close|rollback) ")),
    ("pool checkout + pre-ping (greenlet)", re.compile(r"_ConnectionFairy|QueuePool|pre_ping|do_ping")),
    ("event loop (uvloop, socket I/O)", re.compile(r"^Runner\.run ")),
]
OTHER_PART = "other"


def ensure_py_spy() -> str | None:
    candidate = Path(sys.executable).with_name("py-spy")
    if candidate.exists():
        return str(candidate)
    return shutil.which("py-spy")


def summarize_profile(
    path: Path, top: int = 20
) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(samples, parts with their exclusive % of samples, top self-time frames with %)."""
    parts: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_short(frame) for frame in stack.split(";")]
        self_time[frames[-1]] += count
        parts[_part(frames)] += count
    if total == 0:
        return 0, [], []
    return (
        total,
        [(name, 100 * count / total) for name, count in parts.most_common()],
        [(name, 100 * count / total) for name, count in self_time.most_common(top)],
    )


def _part(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in PROFILE_RULES:
            if pattern.search(frame):
                return name
    return OTHER_PART


def _short(frame: str) -> str:
    # "cast_vote (/work/main/core/services/votes.py:123)" -> "cast_vote (core/services/votes.py:123)"
    frame = re.sub(r"\(/[^)]*?/site-packages/", "(", frame)
    return frame.replace(f"({ROOT}/", "(")


# --- the run ---------------------------------------------------------------------------------------------


async def count_votes(url: str, contest_id: int) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", contest_id))
    finally:
        await connection.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class LoadRun:
    wrk: WrkResult
    api_cpu_ms: float  # every API process together, per vote
    pg: Cost
    load: str

    @property
    def commits_per_vote(self) -> float:
        return self.pg.per_vote(self.wrk.created)[0]

    @property
    def pg_cpu_ms(self) -> float:
        return self.pg.per_vote(self.wrk.created)[1]

    @property
    def pg_background_ms(self) -> float:
        return self.pg.per_vote(self.wrk.created)[2]


def measured_wrk(
    wrk: str, api: ApiProcess, url: str, data_file: Path, start: int, *, seconds: float
) -> LoadRun:
    """One wrk run with what it cost: the API processes' CPU, PostgreSQL's commits and backend CPU."""
    assert api.process is not None
    load_before = load_average()
    pg_before = asyncio.run(sample(url, DATABASE))
    cpu_before = tree_cpu(api.process.pid)
    run = run_wrk(wrk, api.base_url, data_file, start, seconds=seconds)
    api_cpu = tree_cpu(api.process.pid) - cpu_before
    time.sleep(1.0)  # the statistics collector reports with a delay
    pg_after = asyncio.run(sample(url, DATABASE))
    return LoadRun(
        run,
        1000 * api_cpu / max(1, run.created),
        cost(pg_before, pg_after),
        f"{load_before} -> {load_average()}",
    )


def report(title: str, measured: LoadRun) -> None:
    run = measured.wrk
    print(
        f"== {title}: {run.rate:,.0f} votes/s (p50 {run.p50_ms:.1f} ms, p90 {run.p90_ms:.1f} ms, "
        f"p99 {run.p99_ms:.1f} ms, max {run.max_ms:.0f} ms); {run.created} x 201, {run.other} non-201, "
        f"{run.socket_errors} socket errors; load average {measured.load}"
    )
    print(
        f"   API CPU {measured.api_cpu_ms:.2f} ms per vote "
        f"({1000 / max(1e-9, measured.api_cpu_ms):,.0f} votes/s per fully used core)"
    )
    commits, backend_ms, background_ms = measured.pg.per_vote(run.created)
    print(
        f"   PostgreSQL: {commits:.3f} commits and "
        f"{measured.pg.rollbacks / max(1, run.created):.3f} rollbacks per vote; "
        f"its {measured.pg.backends} busy connections used {backend_ms:.3f} ms CPU per vote "
        f"({1000 / max(1e-9, backend_ms):,.0f} votes/s per PostgreSQL core); background processes "
        f"(WAL writer, checkpointer..., shared with the machine) {background_ms:.3f} ms per vote"
    )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}"


def versions(postgres: str) -> str:
    async def server() -> str:
        connection = await asyncpg.connect(postgres)
        try:
            return str(await connection.fetchval("SHOW server_version")).split()[0]
        finally:
            await connection.close()

    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()
    redis_version = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    return (
        f"Python {platform.python_version()}, PostgreSQL {asyncio.run(server())}, Redis {redis_version}, "
        f"{' '.join(wrk[:2]) if wrk else 'wrk'}"
    )


def run_ladder(
    args: argparse.Namespace,
    wrk: str,
    sa_url: str,
    fixture: Fixture,
    logs: Path,
    bare_file: Path,
    duration: float,
    api_rate: float,
    api_cpu_ms: float,
) -> None:
    """The bare handler with the API's layers added one at a time, beside the whole API."""
    # Noise on a shared machine only adds CPU: each step's figure is its lowest over the rounds, which run
    # the whole ladder in turn so that a slow moment does not land on one step only.
    layer_seconds = max(5.0, duration / 4)
    steps = [BARE_LAYERS[:n] for n in range(len(BARE_LAYERS) + 1)]
    best: dict[int, tuple[float, float]] = {}  # step -> (CPU ms per request, requests/s)
    non_201 = 0
    for _ in range(args.layer_rounds):
        for n, layers in enumerate(steps):
            layered, layered_ms = run_bare(
                wrk, sa_url, fixture, logs, bare_file, layers, seconds=layer_seconds
            )
            non_201 += layered.other
            if n not in best or layered_ms < best[n][0]:
                best[n] = (layered_ms, layered.rate)
    print(
        f"== the same handler with the API's layers added one at a time (wrk, {layer_seconds:.0f} s per "
        f"step, lowest CPU of {args.layer_rounds} rounds; {non_201} non-201):"
    )
    previous_ms = None
    for n, layers in enumerate(steps):
        step_ms, step_rate = best[n]
        name = f"+ {layers[-1]}" if layers else "bare"
        change = f" ({step_ms - previous_ms:+.2f} ms)" if previous_ms is not None else ""
        print(f"   {name:<36} {step_rate:>7,.0f} req/s  {step_ms:.2f} ms CPU per request{change}")
        previous_ms = step_ms
    assert previous_ms is not None
    print(
        f"   {'the API (rules, GeoIP, counters...)':<36} {api_rate:>7,.0f} req/s  {api_cpu_ms:.2f} ms CPU "
        f"per request ({api_cpu_ms - previous_ms:+.2f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short runs (5 s) on a smaller data set")
    parser.add_argument("--duration", type=float, help="seconds of the wrk run (default 20, quick 5)")
    parser.add_argument("--rate", type=float, default=1000.0, help="votes/s of the paced run")
    parser.add_argument("--paced-seconds", type=float, help="seconds of the paced run (default 15, quick 5)")
    parser.add_argument("--voters", type=int, help="default 8000 (quick 2000)")
    parser.add_argument("--songs", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="py-spy the API during one more wrk run")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--no-address-limit",
        action="store_true",
        help="turn the per-address limiter off, as behind a proxy or CDN that limits per address",
    )
    parser.add_argument(
        "--layer-rounds", type=int, default=3, help="rounds of the layer-by-layer runs (default 3)"
    )
    parser.add_argument(
        "--api-processes", type=int, default=2, help="processes of the second wrk run (default 2; 1: none)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs folder (printed)")
    parser.add_argument(
        "--api-root", type=Path, default=ROOT, help="run the API from this copy of the tree (prototypes)"
    )
    args = parser.parse_args(argv)
    duration = args.duration or (5.0 if args.quick else 20.0)
    paced_seconds = args.paced_seconds or (5.0 if args.quick else 15.0)
    voters = args.voters or (2000 if args.quick else 8000)

    wrk = ensure_wrk()
    py_spy = ensure_py_spy() if args.profile else None
    if args.profile and py_spy is None:
        print("--profile needs py-spy: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    logs = Path(tempfile.mkdtemp(prefix="vote-ingest-"))
    secret = secrets.token_urlsafe(48)
    url = database_dsn(args.postgres, DATABASE)
    sa_url = "postgresql+asyncpg://" + url.split("://", 1)[1]

    print(f"== vote ingest: {machine()}")
    if args.api_root.resolve() != ROOT:
        print(f"   API run from {args.api_root.resolve()}")
    print(f"   {versions(args.postgres)}")
    t0 = time.perf_counter()
    asyncio.run(recreate_database(args.postgres, DATABASE))
    if args.api_root.resolve() != ROOT:  # that tree's own migrations: its API expects its schema
        subprocess.run(
            [sys.executable, "-m", "ovation", "db", "upgrade"],
            cwd=args.api_root.resolve(),
            env={**os.environ, "OVATION_DATABASE_URL": sa_url, "OVATION_DATA_DIR": str(logs / "data")},
            check=True,
        )
    else:
        upgrade(sa_url)
    fixture = asyncio.run(seed(sa_url, voters=voters, songs=args.songs, secret=secret))
    print(
        f"   database {DATABASE}: {len(fixture.voters)} voters x {len(fixture.song_ids)} songs "
        f"= {fixture.capacity} legal votes (set up in {time.perf_counter() - t0:.1f} s)"
    )
    redis.Redis.from_url(REDIS_URL).flushdb()
    data_file = logs / "wrk-data.txt"
    fixture.write_wrk_data(data_file)

    api = ApiProcess(sa_url, secret, logs, args.api_root.resolve(), address_limit=not args.no_address_limit)
    if args.no_address_limit:
        print("   per-address rate limiter off (OVATION_RATE_LIMIT_PER_MINUTE=0); per-account limiter on")
    api.start()
    next_index = 0
    try:
        warm = run_wrk(wrk, api.base_url, data_file, next_index, seconds=3)
        next_index = warm.issued_upto
        print(f"   warm-up: {warm.created} votes, {warm.other} non-201")

        single = measured_wrk(wrk, api, url, data_file, next_index, seconds=duration)
        run, api_cpu_ms = single.wrk, single.api_cpu_ms
        wrk_start, next_index = next_index, run.issued_upto
        report(f"API (1 process), wrk -t2 -c{CONNECTIONS} -d{round(duration)}s", single)
        for line in run.samples[:10]:
            print("   " + line)

        paced = uvloop.run(run_paced(fixture, api.port, next_index, rate=args.rate, seconds=paced_seconds))
        next_index += paced.sent
        paced_p99 = percentile(paced.latencies_ms, 99)
        if paced.dropped:
            print(
                f"   the API did not sustain {args.rate:,.0f}/s: {paced.dropped} votes were still queued "
                f"at the end and never sent; latencies are a lower bound"
            )
        achieved = paced.created / paced.seconds
        print(
            f"== API, paced {args.rate:,.0f} votes/s over {CONNECTIONS} connections "
            f"for {paced_seconds:.0f} s: "
            f"achieved {achieved:,.0f}/s, p50 {percentile(paced.latencies_ms, 50):.1f} ms, "
            f"p99 {percentile(paced.latencies_ms, 99):.1f} ms, max {max(paced.latencies_ms):.0f} ms "
            f"(service time p50 {percentile(paced.service_ms, 50):.1f} / p99 "
            f"{percentile(paced.service_ms, 99):.1f} ms; sender lag max {paced.max_lag_ms:.1f} ms); "
            f"{paced.created} x 201, {paced.other} non-201"
        )
        for line in paced.samples[:10]:
            print("   " + line)

        profile: tuple[int, list[tuple[str, float]], list[tuple[str, float]]] | None = None
        if py_spy is not None:
            assert api.process is not None
            out = logs / "profile.txt"
            spy = subprocess.Popen(
                [
                    *(py_spy, "record", "-p", str(api.process.pid), "-d", str(round(duration)), "-r", "250"),
                    *("-f", "raw", "-o", str(out), "--nonblocking"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.5)
            profiled = run_wrk(wrk, api.base_url, data_file, next_index, seconds=duration)
            next_index = profiled.issued_upto
            spy.wait(timeout=60)
            profile = summarize_profile(out)
            print(f"== profile of the API process under wrk ({profiled.rate:,.0f} votes/s while sampled)")
    finally:
        api.stop()

    # The same wrk run against two API processes (uvicorn workers sharing the port): the API side doubles
    # as far as the 2 cores allow, while the database's cost per vote should hold.
    double: LoadRun | None = None
    double_warm = 0
    if args.api_processes > 1:
        many = ApiProcess(
            sa_url,
            secret,
            logs,
            args.api_root.resolve(),
            address_limit=not args.no_address_limit,
            workers=args.api_processes,
        )
        many.start()
        try:
            warm_many = run_wrk(wrk, many.base_url, data_file, next_index, seconds=3)
            double_warm, next_index = warm_many.created, warm_many.issued_upto
            double = measured_wrk(wrk, many, url, data_file, next_index, seconds=duration)
            next_index = double.wrk.issued_upto
            report(
                f"API ({args.api_processes} processes), wrk -t2 -c{CONNECTIONS} -d{round(duration)}s", double
            )
        finally:
            many.stop()

    expected = warm.created + run.created + paced.created + (profiled.created if py_spy is not None else 0)
    expected += double_warm + (double.wrk.created if double is not None else 0)
    stored = asyncio.run(count_votes(url, fixture.contest_id))
    print(f"   votes stored in the database: {stored} (201 responses: {expected})")

    # The stack alone: a bare Litestar handler doing one raw asyncpg INSERT, same uvicorn settings and wrk;
    # then the same handler with the API's middleware added one layer at a time.
    bare_file = logs / "wrk-bare.txt"
    fixture.write_wrk_data(bare_file, vote_path="/bare/votes")
    bare_run, bare_cpu_ms = run_bare(wrk, sa_url, fixture, logs, bare_file, (), seconds=duration)
    print(
        f"== bare Litestar handler + one raw asyncpg INSERT, same wrk run: {bare_run.rate:,.0f} votes/s "
        f"(p50 {bare_run.p50_ms:.1f} ms, p99 {bare_run.p99_ms:.1f} ms); {bare_run.other} non-201; "
        f"process CPU {bare_cpu_ms:.2f} ms per request"
    )
    if args.layer_rounds > 0:
        run_ladder(args, wrk, sa_url, fixture, logs, bare_file, duration, run.rate, api_cpu_ms)

    # The floor: as many rows as the API accepted under wrk, same vote indexes, fresh pairs for the counters.
    count = run.created
    day = datetime.now(UTC).date()
    rows = floor_rows(fixture, wrk_start, count, day)
    cpu_before = time.process_time()
    floor_seconds = uvloop.run(run_floor(url, rows, with_counters=False, limit=args.songs))
    floor_cpu_ms = 1000 * (time.process_time() - cpu_before) / max(1, count)
    tx_rows = [(*row[:4], day + timedelta(days=2), *row[5:]) for row in rows]
    try:
        tx_seconds = uvloop.run(run_floor(url, tx_rows, with_counters=True, limit=args.songs))
    except asyncpg.UndefinedFunctionError:  # an --api-root from before migration 0011
        tx_seconds = float("nan")
    default_seconds = uvloop.run(
        run_floor(url, rows, with_counters=False, limit=args.songs, reset_query=True)
    )
    floor_rate, tx_rate, default_rate = count / floor_seconds, count / tx_seconds, count / default_seconds
    print(
        f"== floor, raw asyncpg INSERT (pool {FLOOR_POOL}, {CONNECTIONS} callers): {count} rows in "
        f"{floor_seconds:.2f} s = {floor_rate:,.0f} rows/s; client CPU {floor_cpu_ms:.2f} ms per row "
        f"(one round trip)"
    )
    print(
        f"   the same with asyncpg's default pool (reset query on every release): {default_rate:,.0f} rows/s"
    )
    print(
        f"   the API's write alone in raw asyncpg, one vote per ovation_record_votes call: "
        f"{tx_rate:,.0f} votes/s"
    )

    ratio = run.rate / floor_rate
    table = [
        ("API votes/s (wrk, 64 conns, 2 threads)", f"{run.rate:,.0f}"),
        ("API p50 / p99 under wrk", f"{run.p50_ms:.1f} / {run.p99_ms:.1f} ms"),
        ("API non-201 responses (wrk + paced)", f"{run.other + paced.other}"),
        ("API process CPU per vote (under wrk)", f"{api_cpu_ms:.2f} ms"),
        ("PostgreSQL commits per vote (under wrk)", f"{single.commits_per_vote:.3f}"),
        ("PostgreSQL backend CPU per vote (its own processes)", f"{single.pg_cpu_ms:.3f} ms"),
        ("  votes/s one PostgreSQL core takes at that cost", f"{1000 / max(1e-9, single.pg_cpu_ms):,.0f}"),
        ("PostgreSQL background processes per vote (shared)", f"{single.pg_background_ms:.3f} ms"),
        (
            f"API p50 / p99 at a steady {args.rate:,.0f} votes/s",
            f"{percentile(paced.latencies_ms, 50):.1f} / {paced_p99:.1f} ms",
        ),
        ("  achieved rate of the paced run", f"{achieved:,.0f}/s"),
        ("Floor: raw asyncpg INSERT rows/s (pool 16, 64 callers)", f"{floor_rate:,.0f}"),
        ("Floor client CPU per row (one asyncpg round trip)", f"{floor_cpu_ms:.2f} ms"),
        ("Raw asyncpg ovation_record_votes() calls/s, one vote each", f"{tx_rate:,.0f}"),
        ("API / floor", f"{ratio:.0%} (aim >= 25%, stretch 40%)"),
        # One API process has one core at most: 40 % of the floor's rate leaves this much CPU per vote.
        ("CPU per vote that 40% of the floor allows", f"{1000 / (0.4 * floor_rate):.2f} ms"),
        ("Bare Litestar handler + one INSERT: requests/s", f"{bare_run.rate:,.0f}"),
        ("  its process CPU per request", f"{bare_cpu_ms:.2f} ms"),
        ("  bare handler / floor", f"{bare_run.rate / floor_rate:.0%}"),
        ("API / bare handler", f"{run.rate / bare_run.rate:.0%}"),
        ("Floor with asyncpg's default pool (reset query per release)", f"{default_rate:,.0f} rows/s"),
        ("API / that floor", f"{run.rate / default_rate:.0%}"),
        (
            f"p99 at {args.rate:,.0f}/s under 50 ms",
            "yes" if paced_p99 < 50 and not paced.dropped else "no",
        ),
    ]
    if double is not None:
        table += [
            (
                f"{args.api_processes} API processes: votes/s",
                f"{double.wrk.rate:,.0f} ({double.wrk.rate / run.rate:.2f}x one)",
            ),
            ("  their CPU per vote (all processes)", f"{double.api_cpu_ms:.2f} ms"),
            ("  PostgreSQL commits per vote", f"{double.commits_per_vote:.3f}"),
            ("  PostgreSQL backend CPU per vote", f"{double.pg_cpu_ms:.3f} ms"),
        ]
    width = max(len(name) for name, _ in table)
    print("\n| figure | value |\n|---|---|")
    for name, value in table:
        print(f"| {name.ljust(width)} | {value} |")
    if profile is not None:
        total, parts, top = profile
        print(f"\nProfile ({total} samples of the API process; exclusive % of samples where it was on CPU):")
        for name, share in parts:
            print(f"  {share:5.1f}%  {name}")
        print("Top self-time frames:")
        for name, share in top:
            print(f"  {share:5.1f}%  {name}")
    print(f"\nlogs: {logs}" if args.keep else "")
    if not args.keep:
        shutil.rmtree(logs, ignore_errors=True)
    return 0 if run.other == 0 and paced.other == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
