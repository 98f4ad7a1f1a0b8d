"""Content-addressed storage of uploaded files behind a small interface.

Every stored file is named by the SHA-256 of its bytes; its key is ``ab/cd/abcd...`` (two shard folders taken
from the hash, then the full 64-character hash). Consequences that callers rely on:

* ``put_from_temp`` is idempotent: the same bytes uploaded twice (two contestants, a retried request, a
  re-run worker task) give the same key and one copy on disk, without error.
* A key is data the database holds, never something a client sends; even so, every method validates it
  against the exact key pattern, so no key can name anything outside the storage root.
* Nothing about a key depends on the client's filename or extension (see :mod:`uploads.filenames`).

Adding an S3-compatible backend (AWS S3, MinIO, R2...) without changing callers: implement :class:`Storage`
with a local spool folder for ``temp_dir``/``new_temp_path`` (intake always writes a local temp file first,
which workers also need for probing and fingerprinting); ``put_from_temp`` does a ``HEAD`` on the key and
uploads only when it is missing (or a ``PutObject`` with ``If-None-Match: *``), then deletes the temp file;
``open_range`` maps to ``GetObject`` with a ``Range: bytes=start-end`` header; ``size``/``exists`` to
``HeadObject``; ``delete`` to ``DeleteObject``; ``local_path`` returns None, so the HTTP layer streams from
``open_range`` (or redirects to a presigned URL) instead of using sendfile on a local path.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

__all__ = [
    "InvalidKey",
    "KeyNotFound",
    "LocalStorage",
    "Storage",
    "StorageError",
    "TempSpace",
    "key_for_sha256",
    "validate_key",
]

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_RANGE_CHUNK = 256 * 1024


class StorageError(Exception):
    """Base class for storage errors."""


class InvalidKey(StorageError, ValueError):
    """The key does not have the exact ``ab/cd/<sha256>`` shape (and so could point anywhere)."""


class KeyNotFound(StorageError, KeyError):
    """No file is stored under this key."""


def key_for_sha256(sha256_hex: str) -> str:
    """The storage key of content with this SHA-256 (lowercase hex)."""
    if not _SHA256_HEX.fullmatch(sha256_hex):
        raise InvalidKey(f"not a lowercase SHA-256 hex digest: {sha256_hex!r}")
    return f"{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a well-formed content key, else raise :class:`InvalidKey`.

    The pattern admits only lowercase hex and two slashes, so ``..``, absolute paths, backslashes, NUL bytes
    and URL-encoded tricks are all rejected before any filesystem call.
    """
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None or match.group(3)[:2] != match.group(1) or match.group(3)[2:4] != match.group(2):
        raise InvalidKey(f"invalid storage key: {key!r}")
    return key


@runtime_checkable
class TempSpace(Protocol):
    """Where :func:`uploads.intake.receive_upload` may create its temporary file."""

    def new_temp_path(self, suffix: str = "") -> Path:
        """A fresh, empty, uniquely named file in the temp folder (created, so the name cannot be raced)."""
        ...


@runtime_checkable
class Storage(TempSpace, Protocol):
    """What the rest of Ovation may ask of file storage."""

    def temp_dir(self) -> Path:
        """Local folder for files being received or processed (same filesystem as the store, if local)."""
        ...

    def put_from_temp(self, temp_path: Path, sha256_hex: str) -> str:
        """Move a temp file into the store under its content key and return the key. Idempotent."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Size in bytes; raises :class:`KeyNotFound`."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable, seekable binary file object; raises :class:`KeyNotFound`."""
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Chunks of bytes ``start`` through ``end`` inclusive (HTTP Range semantics); raises KeyNotFound."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A local filesystem path for sendfile-style serving, or None for remote backends."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the file; True if it existed. Deleting a missing key is not an error."""
        ...


class LocalStorage:
    """Files in ``root/ab/cd/<sha256>``, temp files in ``root/.tmp`` (same filesystem: atomic rename)."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        # fsync before the rename so that a key recorded in the database after put_from_temp returns
        # survives a power cut; tests may turn it off for speed.
        self._fsync = fsync

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- temp files --------------------------------------------------------------------------------------

    def temp_dir(self) -> Path:
        return self._tmp

    def new_temp_path(self, suffix: str = "") -> Path:
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=suffix, dir=self._tmp)
        os.close(fd)
        return Path(name)

    def sweep_temp(self, older_than_s: float = 24 * 3600) -> int:
        """Delete temp files left by crashed requests or workers; returns how many were removed."""
        cutoff = time.time() - older_than_s
        removed = 0
        for entry in os.scandir(self._tmp):
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
        return removed

    # -- keys ----------------------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # Defence in depth: the pattern already forbids escaping, this also catches a symlinked shard folder.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKey(f"key resolves outside the storage root: {key!r}")
        return path

    def put_from_temp(self, temp_path: Path, sha256_hex: str) -> str:
        key = key_for_sha256(sha256_hex)
        temp = Path(temp_path).resolve()
        if temp.parent != self._tmp:
            raise StorageError(f"{temp} is not in this storage's temp folder {self._tmp}")
        dest = self._path(key)
        if dest.exists():
            temp.unlink(missing_ok=True)  # same content already stored: nothing to do
            return key
        dest.parent.mkdir(parents=True, exist_ok=True)
        if self._fsync:
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        # os.replace is atomic on one filesystem: readers see no file or the whole file. Two concurrent puts
        # of the same content both succeed and leave identical bytes.
        os.replace(temp, dest)
        if self._fsync:
            dir_fd = os.open(dest.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return key

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise KeyNotFound(key) from None

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")  # the caller owns (and closes) the file object
        except FileNotFoundError:
            raise KeyNotFound(key) from None

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid byte range {start}-{end}")
        f = self.open(key)  # raises KeyNotFound now, not at the first next()
        return self._iter_range(f, start, end)

    @staticmethod
    def _iter_range(f: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
        with f:
            f.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = f.read(_RANGE_CHUNK if remaining is None else min(_RANGE_CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True
