from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from uploads.storage import (
    InvalidKey,
    KeyNotFound,
    LocalStorage,
    Storage,
    StorageError,
    key_for_sha256,
    validate_key,
)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


def put_bytes(storage: LocalStorage, data: bytes) -> str:
    temp = storage.new_temp_path()
    temp.write_bytes(data)
    return storage.put_from_temp(temp, hashlib.sha256(data).hexdigest())


def test_is_a_storage(storage: LocalStorage) -> None:
    assert isinstance(storage, Storage)


def test_put_layout_and_reads(storage: LocalStorage) -> None:
    data = os.urandom(300_000)
    digest = hashlib.sha256(data).hexdigest()
    key = put_bytes(storage, data)
    assert key == f"{digest[:2]}/{digest[2:4]}/{digest}"
    assert storage.exists(key)
    assert storage.size(key) == len(data)
    assert storage.local_path(key) == storage.root / key
    with storage.open(key) as f:
        assert f.read() == data
    assert list(storage.temp_dir().iterdir()) == []  # the temp file was moved, not copied


def test_put_is_idempotent(storage: LocalStorage) -> None:
    data = b"same song uploaded twice"
    first = put_bytes(storage, data)
    second = put_bytes(storage, data)
    assert first == second
    assert storage.size(first) == len(data)
    assert list(storage.temp_dir().iterdir()) == []  # the second temp file was discarded


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, slice(0, None)),
        (10, 19, slice(10, 20)),
        (299_990, None, slice(299_990, None)),
        (5, 5, slice(5, 6)),
    ],
)
def test_open_range(storage: LocalStorage, start: int, end: int | None, expected: slice) -> None:
    data = os.urandom(300_000)
    key = put_bytes(storage, data)
    assert b"".join(storage.open_range(key, start, end)) == data[expected]


def test_open_range_beyond_end_and_invalid(storage: LocalStorage) -> None:
    key = put_bytes(storage, b"0123456789")
    assert b"".join(storage.open_range(key, 5, 1000)) == b"56789"
    assert b"".join(storage.open_range(key, 50)) == b""
    with pytest.raises(ValueError, match="range"):
        storage.open_range(key, 5, 2)
    with pytest.raises(ValueError, match="range"):
        storage.open_range(key, -1)


def test_missing_key(storage: LocalStorage) -> None:
    key = key_for_sha256("0" * 64)
    assert not storage.exists(key)
    with pytest.raises(KeyNotFound):
        storage.size(key)
    with pytest.raises(KeyNotFound):
        storage.open(key)
    with pytest.raises(KeyNotFound):
        storage.open_range(key)
    assert storage.delete(key) is False


def test_delete(storage: LocalStorage) -> None:
    key = put_bytes(storage, b"to be removed")
    assert storage.delete(key) is True
    assert not storage.exists(key)
    assert storage.delete(key) is False


ESCAPES = [
    "../../etc/passwd",
    "/etc/passwd",
    "ab/cd/../../../etc/passwd",
    "..",
    "",
    "ab/cd/" + "a" * 64,  # shards do not match the hash
    "AB/CD/" + "ab" * 32,  # uppercase
    "ab\\cd\\" + "ab" * 32,
    "ab/cd/" + "abcd" + "0" * 60 + "\n",
    "ab/cd/" + "abcd" + "0" * 59 + "\x00",
    "abcd" + "0" * 60,  # no shards
    "ab/cd/abcd" + "0" * 60 + "/../x",
    "ab/cd/ef/abcdef" + "0" * 58,
    "%2e%2e/%2e%2e/etc/passwd",
    ".tmp/upload-x",
]


@pytest.mark.parametrize("key", ESCAPES)
def test_keys_cannot_escape_the_root(storage: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)
    for operation in (storage.exists, storage.size, storage.open, storage.delete, storage.local_path):
        with pytest.raises(InvalidKey):
            operation(key)
    with pytest.raises(InvalidKey):
        storage.open_range(key)


def test_non_string_key(storage: LocalStorage) -> None:
    with pytest.raises(InvalidKey):
        validate_key(123)  # type: ignore[arg-type]


@pytest.mark.parametrize("digest", ["", "0" * 63, "G" * 64, "A" * 64, "../" + "0" * 61])
def test_put_rejects_bad_digest(storage: LocalStorage, digest: str) -> None:
    temp = storage.new_temp_path()
    with pytest.raises(InvalidKey):
        storage.put_from_temp(temp, digest)


def test_put_only_moves_files_from_its_temp_dir(storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.bin"
    outside.write_bytes(b"x")
    with pytest.raises(StorageError, match="temp folder"):
        storage.put_from_temp(outside, hashlib.sha256(b"x").hexdigest())
    assert outside.exists()


def test_symlinked_shard_cannot_lead_outside(storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    digest = hashlib.sha256(b"secret").hexdigest()
    (outside / digest).write_bytes(b"secret")
    (storage.root / digest[:2]).mkdir()
    (storage.root / digest[:2] / digest[2:4]).symlink_to(outside)
    with pytest.raises(InvalidKey, match="outside"):
        storage.open(key_for_sha256(digest))


def test_sweep_temp(storage: LocalStorage) -> None:
    old, fresh = storage.new_temp_path(), storage.new_temp_path()
    os.utime(old, (0, 0))
    assert storage.sweep_temp(older_than_s=3600) == 1
    assert not old.exists()
    assert fresh.exists()
