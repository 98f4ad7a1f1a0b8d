"""What a load run cost PostgreSQL: commits (pg_stat_database) and the CPU time of its processes (/proc).

The benchmark database's own backends are found in pg_stat_activity by database name; the server's
background processes (WAL writer, checkpointer, background writer, ...) serve every database on the machine,
so their CPU is reported apart: on a shared machine it includes other people's work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import asyncpg

BACKGROUND = ("walwriter", "checkpointer", "background writer", "autovacuum launcher", "walsummarizer")


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of one process, None once it is gone (or not readable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants still running (uvicorn's workers)."""
    total = process_cpu(pid) or 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(tree_cpu(int(child)) for child in children)


@dataclass(frozen=True)
class Sample:
    commits: int
    rollbacks: int
    backends: dict[int, float]  # pid -> CPU seconds, the benchmark database's connections
    background: dict[int, float]  # pid -> CPU seconds, the server's shared background processes


@dataclass(frozen=True)
class Cost:
    commits: int
    rollbacks: int
    backend_cpu: float  # seconds
    background_cpu: float  # seconds
    backends: int  # how many connections of the benchmark database did work

    def per_vote(self, votes: int) -> tuple[float, float, float]:
        """(commits, backend CPU ms, background CPU ms) per vote."""
        votes = max(1, votes)
        return self.commits / votes, 1000 * self.backend_cpu / votes, 1000 * self.background_cpu / votes


async def sample(url: str, database: str) -> Sample:
    connection = await asyncpg.connect(url)
    try:
        counts = await connection.fetchrow(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1", database
        )
        rows = await connection.fetch(
            "SELECT pid, datname, backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    assert counts is not None
    backends: dict[int, float] = {}
    background: dict[int, float] = {}
    for row in rows:
        if row["datname"] == database and row["backend_type"] == "client backend":
            target = backends
        elif row["backend_type"] in BACKGROUND:
            target = background
        else:
            continue
        cpu = process_cpu(row["pid"])
        if cpu is not None:
            target[row["pid"]] = cpu
    return Sample(int(counts[0]), int(counts[1]), backends, background)


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    # A connection opened during the run counts from zero; one closed during it is lost (pools keep theirs).
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def cost(before: Sample, after: Sample) -> Cost:
    busy = sum(1 for pid, cpu in after.backends.items() if cpu > before.backends.get(pid, 0.0))
    return Cost(
        after.commits - before.commits,
        after.rollbacks - before.rollbacks,
        _spent(before.backends, after.backends),
        _spent(before.background, after.background),
        busy,
    )
