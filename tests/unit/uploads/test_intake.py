from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from uploads.intake import IntakeResult, UploadTooLarge, receive_upload, sha256_file
from uploads.storage import LocalStorage

CHUNK = 64 * 1024


class Body:
    """An async request body that records how much of it the consumer pulled."""

    def __init__(self, data: bytes, chunk: int = CHUNK, fail_after: int | None = None) -> None:
        self.data, self.chunk, self.fail_after = data, chunk, fail_after
        self.yielded = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.data), self.chunk):
            if self.fail_after is not None and self.yielded >= self.fail_after:
                raise ConnectionResetError("client went away")
            piece = self.data[i : i + self.chunk]
            self.yielded += len(piece)
            await asyncio.sleep(0)
            yield piece


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store", fsync=False)


def temp_files(storage: LocalStorage) -> list[Path]:
    return list(storage.temp_dir().iterdir())


async def test_writes_counts_and_hashes(storage: LocalStorage) -> None:
    data = os.urandom(3 * 1024 * 1024 + 12345)  # several batches plus a partial one
    result = await receive_upload(Body(data), storage, max_bytes=10 * 1024 * 1024)
    assert isinstance(result, IntakeResult)
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.temp_path.parent == storage.temp_dir()
    assert result.temp_path.read_bytes() == data


async def test_small_chunks_and_empty_chunks(storage: LocalStorage) -> None:
    data = b"abc" * 1000

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 7):
            yield b""
            yield data[i : i + 7]

    result = await receive_upload(body(), storage, max_bytes=len(data), batch_bytes=100)
    assert result.temp_path.read_bytes() == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()


async def test_empty_body_is_accepted_here(storage: LocalStorage) -> None:
    result = await receive_upload(Body(b""), storage, max_bytes=100)
    assert result.size == 0
    assert result.sha256 == hashlib.sha256(b"").hexdigest()
    assert result.temp_path.read_bytes() == b""


async def test_exactly_at_the_cap_is_accepted(storage: LocalStorage) -> None:
    data = os.urandom(5 * CHUNK)
    result = await receive_upload(Body(data), storage, max_bytes=len(data))
    assert result.size == len(data)


async def test_over_cap_stops_reading_early_and_leaves_no_file(storage: LocalStorage) -> None:
    cap = 1024 * 1024
    body = Body(os.urandom(8 * cap))  # 8 MiB offered against a 1 MiB cap
    with pytest.raises(UploadTooLarge) as excinfo:
        await receive_upload(body, storage, max_bytes=cap)
    # The consumer stopped within one chunk of the cap instead of draining the whole body.
    assert cap < body.yielded <= cap + CHUNK
    assert excinfo.value.limit_bytes == cap
    assert excinfo.value.received_bytes == body.yielded
    assert "1 MiB" in str(excinfo.value)
    assert temp_files(storage) == []


async def test_client_disconnect_removes_partial_file(storage: LocalStorage) -> None:
    body = Body(os.urandom(4 * 1024 * 1024), fail_after=2 * 1024 * 1024)
    with pytest.raises(ConnectionResetError):
        await receive_upload(body, storage, max_bytes=100 * 1024 * 1024)
    assert temp_files(storage) == []


async def test_cancellation_removes_partial_file(storage: LocalStorage) -> None:
    started = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        while True:
            started.set()
            await asyncio.sleep(0)
            yield b"x" * CHUNK

    task = asyncio.create_task(receive_upload(endless(), storage, max_bytes=10**12))
    await started.wait()
    for _ in range(50):  # let a few batches be written
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert temp_files(storage) == []


async def test_negative_cap_is_a_programming_error(storage: LocalStorage) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        await receive_upload(Body(b"x"), storage, max_bytes=-1)


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 - 7])
def test_sha256_file_matches_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, buffer_size=4096) == hashlib.sha256(data).hexdigest()
