"""What the header-size limit costs: uvicorn's h11 parser (which enforces it) against httptools (no limit).

    .venv/bin/python bench/http_parser.py [--seconds 8] [--rounds 3]

Starts ``ovation api`` in the embedded mode (a temporary data folder) with ``OVATION_HTTP_MAX_HEADER_BYTES``
at 16384 (h11) and at 0 (httptools), in alternating rounds, drives ``GET /health`` with wrk (one thread, four
connections) and prints the API process's CPU time per request (user + system, from /proc), the lowest of
the rounds for each parser, and their difference. CPU per request, not requests per second: other work on
the machine changes the second much more than the first. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _wrk(url: str, seconds: int) -> int:
    out = subprocess.run(
        ["wrk", "-t1", "-c4", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    return int(next(line for line in out.splitlines() if "requests in" in line).split()[0])


def measure(env: dict[str, str], header_limit: str, seconds: int) -> tuple[float, int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ovation", "api", "--port", str(port)],
        env={**env, "OVATION_HTTP_MAX_HEADER_BYTES": header_limit},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/health"
    try:
        for _ in range(200):
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        _wrk(url, 2)  # warm up
        before = _cpu_seconds(process.pid)
        requests = _wrk(url, seconds)
        return (_cpu_seconds(process.pid) - before) / requests * 1e6, requests
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="ovation-bench-http-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OVATION_DATABASE_URL", "OVATION_REDIS_URL"}
    }
    env.update(
        OVATION_DATA_DIR=str(data),
        OVATION_SECRET_KEY=secrets.token_urlsafe(48),
        OVATION_LOG_LEVEL="WARNING",
        OVATION_RATE_LIMIT_PER_MINUTE="0",
    )
    try:
        subprocess.run([sys.executable, "-m", "ovation", "db", "upgrade"], env=env, cwd=ROOT, check=True)
        best: dict[str, float] = {}
        for round_number in range(1, args.rounds + 1):
            for name, limit in (("h11 (16 KiB limit)", "16384"), ("httptools (no limit)", "0")):
                micros, requests = measure(env, limit, args.seconds)
                best[name] = min(best.get(name, micros), micros)
                print(f"round {round_number} {name}: {requests} requests, {micros:.0f} µs CPU per request")
        h11, httptools = best["h11 (16 KiB limit)"], best["httptools (no limit)"]
        print(f"lowest: h11 {h11:.0f} µs, httptools {httptools:.0f} µs per GET /health")
        print(f"h11 costs {h11 - httptools:.0f} µs more per request ({h11 / httptools:.2f}x)")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
