"""Micro-benchmark of the upload hashing and intake path. Prints figures; asserts nothing.

    .venv/bin/python bench/upload_hashing.py [--mib 256] [--chunk-kib 64] [--repeat 3]

1. SHA-256 of a file on disk: ``uploads.intake.sha256_file`` vs ``hashlib.file_digest`` vs
   ``openssl dgst -sha256`` on the same file (page cache warm, best of N).
2. Streaming intake of an in-memory body delivered in small chunks, comparing ways of writing from async code:
   sync writes in the event loop, one ``asyncio.to_thread`` per chunk, batches in a thread (no overlap),
   a pipelined variant (one batch write in flight while the next arrives) and ``receive_upload``.
3. Fingerprint comparison: one new upload against N songs of a contest (120-s fingerprints). The cost does
   not depend on the content (every offset is tried), so random fingerprints are used.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from uploads.fingerprint import ITEMS_PER_SECOND, PackedFingerprint, find_near_duplicates, similarity
from uploads.intake import receive_upload, sha256_file
from uploads.storage import LocalStorage

MIB = 1024 * 1024


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def make_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as f:
        for _ in range(size // MIB):
            f.write(block)


def bench_hash(path: Path, size: int, repeat: int) -> None:
    print(f"== SHA-256 of a {size // MIB} MiB file (best of {repeat}) ==")
    expected = sha256_file(path)  # also warms the page cache
    results: dict[str, float] = {}

    def ours() -> None:
        assert sha256_file(path) == expected

    def file_digest() -> None:
        with open(path, "rb") as f:
            assert hashlib.file_digest(f, "sha256").hexdigest() == expected

    def small_reads() -> None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while data := f.read(64 * 1024):
                h.update(data)
        assert h.hexdigest() == expected

    results["uploads.sha256_file (1 MiB readinto)"] = best_of(repeat, ours)
    results["hashlib.file_digest"] = best_of(repeat, file_digest)
    results["read(64 KiB) loop"] = best_of(repeat, small_reads)
    if shutil.which("openssl"):

        def openssl() -> None:
            out = subprocess.run(
                ["openssl", "dgst", "-sha256", str(path)], check=True, capture_output=True, text=True
            ).stdout
            assert expected in out

        results["openssl dgst -sha256"] = best_of(repeat, openssl)
    base = results.get("openssl dgst -sha256")
    for name, secs in results.items():
        ratio = f"  ({base / secs:.2f}x openssl)" if base else ""
        print(f"{name:40s} {size / MIB / secs:8.0f} MiB/s{ratio}")


async def body(data: bytes, chunk: int) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for i in range(0, len(data), chunk):
        await asyncio.sleep(0)  # a real socket read yields to the loop between chunks
        yield bytes(view[i : i + chunk])


async def ticker(stop: asyncio.Event, gaps: list[float]) -> None:
    # Measures event-loop responsiveness: the longest gap between 1 ms sleeps.
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def strategy_sync(data: bytes, chunk: int, out: Path) -> Path:
    h = hashlib.sha256()
    with open(out, "wb", buffering=0) as f:  # noqa: ASYNC230 - this is the blocking baseline being measured
        async for c in body(data, chunk):
            f.write(c)
            h.update(c)
    return out


async def strategy_thread_per_chunk(data: bytes, chunk: int, out: Path) -> Path:
    h = hashlib.sha256()

    def write(f: object, c: bytes) -> None:
        f.write(c)  # type: ignore[attr-defined]
        h.update(c)

    f = await asyncio.to_thread(open, out, "wb", buffering=0)
    async for c in body(data, chunk):
        await asyncio.to_thread(write, f, c)
    f.close()
    return out


async def strategy_batch_no_overlap(data: bytes, chunk: int, out: Path) -> Path:
    h = hashlib.sha256()

    def write(f: object, batch: list[bytes]) -> None:
        d = b"".join(batch)
        f.write(d)  # type: ignore[attr-defined]
        h.update(d)

    f = await asyncio.to_thread(open, out, "wb", buffering=0)
    batch: list[bytes] = []
    n = 0
    async for c in body(data, chunk):
        batch.append(c)
        n += len(c)
        if n >= MIB:
            await asyncio.to_thread(write, f, batch)
            batch, n = [], 0
    if batch:
        await asyncio.to_thread(write, f, batch)
    f.close()
    return out


async def strategy_pipelined(data: bytes, chunk: int, out: Path) -> Path:
    h = hashlib.sha256()

    def write(f: object, batch: list[bytes]) -> None:
        d = b"".join(batch)
        f.write(d)  # type: ignore[attr-defined]
        h.update(d)

    f = await asyncio.to_thread(open, out, "wb", buffering=0)
    batch: list[bytes] = []
    n = 0
    pending: asyncio.Future[None] | None = None
    async for c in body(data, chunk):
        batch.append(c)
        n += len(c)
        if n >= MIB:
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(asyncio.to_thread(write, f, batch))
            batch, n = [], 0
    if pending is not None:
        await pending
    if batch:
        await asyncio.to_thread(write, f, batch)
    f.close()
    return out


async def run_intake(data: bytes, chunk: int, storage: LocalStorage) -> Path:
    result = await receive_upload(body(data, chunk), storage, max_bytes=len(data))
    return result.temp_path


async def bench_intake(size: int, chunk: int, repeat: int, tmp: Path) -> None:
    print(f"\n== Intake of a {size // MIB} MiB body in {chunk // 1024} KiB chunks (best of {repeat}) ==")
    data = os.urandom(size)
    storage = LocalStorage(tmp / "store", fsync=False)
    out = tmp / "out.bin"
    strategies = {
        "sync write in the event loop": lambda: strategy_sync(data, chunk, out),
        "to_thread per chunk": lambda: strategy_thread_per_chunk(data, chunk, out),
        "1 MiB batches, to_thread, no overlap": lambda: strategy_batch_no_overlap(data, chunk, out),
        "pipelined 1 MiB batches (1 in flight)": lambda: strategy_pipelined(data, chunk, out),
        "receive_upload (1 MiB batches, to_thread)": lambda: run_intake(data, chunk, storage),
    }
    for name, make in strategies.items():
        best = float("inf")
        worst_gap = 0.0
        for _ in range(repeat):
            stop = asyncio.Event()
            gaps: list[float] = []
            tick = asyncio.create_task(ticker(stop, gaps))
            t0 = time.perf_counter()
            written = await make()
            best = min(best, time.perf_counter() - t0)
            stop.set()
            await tick
            # Deleting a big file can take tens of ms: do it outside the measured window.
            (written if isinstance(written, Path) else out).unlink(missing_ok=True)
            worst_gap = max([worst_gap, *gaps])
        print(f"{name:40s} {size / MIB / best:8.0f} MiB/s   longest loop stall {worst_gap * 1000:6.1f} ms")
    out.unlink(missing_ok=True)


def bench_fingerprints(songs: int, seconds: int = 120) -> None:
    import random

    rng = random.Random(1)
    n = int(seconds * ITEMS_PER_SECOND)
    print(f"\n== Fingerprint comparison: 1 upload vs {songs} songs of {seconds} s ({n} items each) ==")
    raw = [[rng.getrandbits(32) for _ in range(n)] for _ in range(songs + 1)]
    t0 = time.perf_counter()
    contest = {i: PackedFingerprint.pack(fp) for i, fp in enumerate(raw[1:])}
    pack_s = time.perf_counter() - t0
    new = PackedFingerprint.pack(raw[0])
    t0 = time.perf_counter()
    find_near_duplicates(new, contest)
    total = time.perf_counter() - t0
    t0 = time.perf_counter()
    similarity(raw[0], raw[1])
    unpacked = time.perf_counter() - t0
    print(f"packing {songs} fingerprints       {pack_s * 1000:8.1f} ms")
    print(f"find_near_duplicates            {total * 1000:8.1f} ms  ({total / songs * 1000:.2f} ms per song)")
    print(f"one similarity() on raw lists   {unpacked * 1000:8.2f} ms (includes packing both)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--chunk-kib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--songs", type=int, default=300, help="contest size for the fingerprint comparison")
    args = parser.parse_args()
    size = args.mib * MIB
    with tempfile.TemporaryDirectory(prefix="ovation-bench-") as d:
        tmp = Path(d)
        path = tmp / "blob.bin"
        make_file(path, size)
        bench_hash(path, size, args.repeat)
        path.unlink()
        asyncio.run(bench_intake(size, args.chunk_kib * 1024, args.repeat, tmp))
    bench_fingerprints(args.songs)


if __name__ == "__main__":
    main()
