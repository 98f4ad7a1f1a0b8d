"""End-to-end upload benchmark through the HTTP API of a real ``ovation api`` process (uvicorn).

Prints figures; asserts nothing but the answers' hashes and sizes.

    .venv/bin/python bench/upload_api.py [--sizes 10,100,500] [--repeat 3]

Against the embedded mode (SQLite in a temporary data folder) unless ``OVATION_DATABASE_URL`` (and
``OVATION_REDIS_URL``) are set, in which case that database is migrated and used. For each size (MB = 10^6
bytes) a file of random bytes is written, then:

* ``openssl dgst -sha256`` and ``uploads.sha256_file`` hash it (page cache warm, best of N): hashing MB/s;
* it is uploaded with ``POST /api/contests/{id}/songs`` from a raw socket with ``sendfile`` (so the client is
  not the bottleneck), timed from connect to the 202 answer (best of N): receive MB/s. That covers the HTTP
  parsing, the streaming intake (write + SHA-256 in 1 MiB batches) and the database insert;
* the API process's resident memory is sampled every 5 ms during the uploads of that size (VmRSS peak), and
  its high-water mark (VmHWM) read after them.

No worker runs, so the songs stay ``uploaded``; their files are deleted after each upload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1_000_000
PASSWORD = "bench-password-upload-2026"


def _configure(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["OVATION_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("OVATION_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ["OVATION_RATE_LIMIT_PER_MINUTE"] = "1000000"
    os.environ["OVATION_CREDENTIAL_RATE_LIMIT_PER_MINUTE"] = "1000000"
    os.environ.setdefault("OVATION_LOG_LEVEL", "WARNING")


async def _prepare(max_bytes: int) -> tuple[int, str]:
    from core.db import create_engine, create_sessionmaker
    from core.models import Contest, ContestStatus
    from core.services import users
    from core.settings import get_settings

    engine = create_engine(get_settings().database)
    try:
        async with create_sessionmaker(engine)() as session:
            name = f"bench{secrets.token_hex(4)}"
            await users.create_user(
                session,
                email=f"{name}@bench.example",
                username=name,
                password=PASSWORD,
                roles=["contestant"],
                email_verified=True,
            )
            now = datetime.now(UTC)
            contest = Contest(
                slug=f"bench-{secrets.token_hex(4)}",
                title="Upload benchmark",
                status=ContestStatus.OPEN,
                submission_opens_at=now - timedelta(days=1),
                submission_closes_at=now + timedelta(days=1),
                voting_opens_at=now + timedelta(hours=12),
                voting_closes_at=now + timedelta(days=2),
                max_entries_per_contestant=1000,
                max_file_bytes=max_bytes,
            )
            session.add(contest)
            await session.commit()
            return contest.id, name
    finally:
        await engine.dispose()


def _start_api(port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ovation", "api", "--port", str(port)],
        stdout=open(log, "wb"),  # noqa: SIM115 - lives as long as the process
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"ovation api did not start; see {log}")


def _login(port: int, username: str) -> dict[str, str]:
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.get("/api/auth/csrf")
        token = client.cookies["csrftoken"]
        response = client.post(
            "/api/auth/login", json={"login": username, "password": PASSWORD}, headers={"x-csrftoken": token}
        )
        response.raise_for_status()
        return dict(client.cookies.items())


def _upload(
    port: int, contest_id: int, path: Path, cookies: dict[str, str]
) -> tuple[float, dict[str, object]]:
    """POST the file from a raw socket with sendfile; return (seconds until the answer, answer body)."""
    size = path.stat().st_size
    meta = json.dumps({"title": "Benchmark", "artist_name": "Bench", "filename": path.name})
    head = (
        f"POST /api/contests/{contest_id}/songs HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Length: {size}\r\n"
        f"X-Song-Metadata: {meta}\r\n"
        f"X-CSRFToken: {cookies['csrftoken']}\r\n"
        f"Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock, open(path, "rb") as f:
        sock.sendall(head)
        sock.sendfile(f)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    elapsed = time.perf_counter() - t0
    raw = b"".join(chunks)
    status_line, _, rest = raw.partition(b"\r\n")
    body = rest.split(b"\r\n\r\n", 1)[1]
    if b" 202 " not in status_line:
        raise RuntimeError(f"upload failed: {status_line!r} {body[:500]!r}")
    answer: dict[str, object] = json.loads(body)
    return elapsed, answer


class RssSampler:
    """Peak VmRSS of a process, sampled every few milliseconds in a thread."""

    def __init__(self, pid: int, every_s: float = 0.005) -> None:
        self.pid, self.every_s, self.peak_kib = pid, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, _status_kib(self.pid, "VmRSS"))
            time.sleep(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _best(repeat: int, fn: object) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def _make_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for _ in range(size // MB):
            f.write(os.urandom(MB))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,100,500", help="file sizes in MB (10^6 bytes)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) * MB for s in args.sizes.split(",")]

    work = Path(tempfile.mkdtemp(prefix="ovation-bench-upload-"))
    _configure(work / "data")
    from core import migrate
    from core.settings import get_settings
    from uploads import sha256_file

    settings = get_settings()
    migrate.upgrade(settings.database.url)
    contest_id, username = asyncio.run(_prepare(max(sizes) + MB))
    port = free_port()
    api = _start_api(port, work / "api.log")
    mode = "embedded SQLite" if settings.database.is_sqlite else "configured database"
    print(f"ovation api pid {api.pid} on port {port} ({mode}); files in {work}; {os.cpu_count()} CPUs")
    try:
        cookies = _login(port, username)
        idle_rss = _status_kib(api.pid, "VmRSS")
        print(f"API process resident memory after start and login: {idle_rss / 1024:.1f} MiB\n")
        header = (
            f"| {'size':>6} | {'openssl MB/s':>12} | {'sha256_file MB/s':>16} | {'hash / openssl':>14} "
            f"| {'receive MB/s':>12} | {'receive / openssl':>17} | {'peak RSS MiB':>12} | {'VmHWM MiB':>9} |"
        )
        print(header)
        print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
        for size in sizes:
            path = work / f"upload-{size // MB}MB.bin"
            _make_file(path, size)
            expected = sha256_file(path)  # also warms the page cache
            openssl_s = _best(
                args.repeat,
                lambda p=path: subprocess.run(
                    ["openssl", "dgst", "-sha256", str(p)], check=True, capture_output=True
                ),
            )
            ours_s = _best(args.repeat, lambda p=path: sha256_file(p))
            receive_s = float("inf")
            with RssSampler(api.pid) as sampler:
                for _ in range(args.repeat):
                    elapsed, answer = _upload(port, contest_id, path, cookies)
                    assert answer["sha256"] == expected, answer
                    assert answer["size_bytes"] == size, answer
                    receive_s = min(receive_s, elapsed)
                    (settings.upload_dir / ".tmp" / f"song-{answer['id']}.upload").unlink()
            hwm = _status_kib(api.pid, "VmHWM")
            openssl_rate, ours_rate, receive_rate = (size / MB / s for s in (openssl_s, ours_s, receive_s))
            cells = [
                f"{size // MB:>4}MB",
                f"{openssl_rate:>12.0f}",
                f"{ours_rate:>16.0f}",
                f"{ours_rate / openssl_rate:>14.2f}",
                f"{receive_rate:>12.0f}",
                f"{receive_rate / openssl_rate:>17.2f}",
                f"{sampler.peak_kib / 1024:>12.1f}",
                f"{hwm / 1024:>9.1f}",
            ]
            print("| " + " | ".join(cells) + " |")
            path.unlink()
    finally:
        api.terminate()
        api.wait(timeout=15)
    shutil.rmtree(work, ignore_errors=True)  # kept (with api.log) only when something failed


if __name__ == "__main__":
    main()
