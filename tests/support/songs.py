"""Helpers for the song tests: real audio files generated here (stdlib wave, ffmpeg), contests with small
limits, uploads through the HTTP API, and waiting for the real media worker by polling the song's status."""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import subprocess
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import PASSWORD, Api, unique_name
from tests.support.audio import melody_wav

FINAL_STATUSES = {"approved", "pending_review", "rejected", "duplicate", "withdrawn"}
SONG_SECONDS = 12.0


def _require(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} is not installed: run scripts/system-deps.sh")
    return exe


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(
        [_require("ffmpeg"), "-nostdin", "-v", "error", "-y", *[str(a) for a in args]],
        check=True,
        capture_output=True,
        timeout=60,
    )


def png_bytes() -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 16 for _ in range(16))
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class SongFiles:
    root: Path
    a_wav: Path  # melody A
    a_mp3: Path  # melody A, MP3 128k (with a Xing/Info header announcing its length)
    a_mp3_64k: Path  # melody A re-encoded: a near-duplicate of a_wav / a_mp3
    b_mp3: Path  # melody B
    c_flac: Path  # melody C
    d_ogg: Path  # melody D, Ogg Vorbis
    e_mp3: Path  # melody E
    f_mp3: Path  # melody F
    long_mp3: Path  # 40 s: over the test contests' 30 s maximum
    png: bytes
    truncated_mp3: bytes
    corrupt_wav: bytes


@pytest.fixture(scope="session", name="song_files")
def song_files_fixture(tmp_path_factory: pytest.TempPathFactory) -> SongFiles:
    root = tmp_path_factory.mktemp("songs")
    wavs = {name: melody_wav(root / f"{name}.wav", seed) for seed, name in enumerate("abcdef", start=11)}

    def encode(src: Path, dest: str, *options: str) -> Path:
        ffmpeg("-i", src, *options, root / dest)
        return root / dest

    a_mp3 = encode(wavs["a"], "a.mp3", "-c:a", "libmp3lame", "-b:a", "128k")
    long_mp3 = root / "long.mp3"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=330:duration=40", "-c:a", "libmp3lame", "-b:a", "32k", long_mp3
    )
    mp3 = a_mp3.read_bytes()
    corrupt = bytearray(wavs["c"].read_bytes())
    corrupt[22:24] = struct.pack("<H", 0)  # zero channels
    corrupt[24:28] = struct.pack("<I", 0)  # zero sample rate
    return SongFiles(
        root=root,
        a_wav=wavs["a"],
        a_mp3=a_mp3,
        a_mp3_64k=encode(wavs["a"], "a64.mp3", "-c:a", "libmp3lame", "-b:a", "64k"),
        b_mp3=encode(wavs["b"], "b.mp3", "-c:a", "libmp3lame", "-b:a", "128k"),
        c_flac=encode(wavs["c"], "c.flac", "-c:a", "flac"),
        d_ogg=encode(wavs["d"], "d.ogg", "-c:a", "libvorbis", "-q:a", "3"),
        e_mp3=encode(wavs["e"], "e.mp3", "-c:a", "libmp3lame", "-b:a", "96k"),
        f_mp3=encode(wavs["f"], "f.mp3", "-c:a", "libmp3lame", "-b:a", "96k"),
        long_mp3=long_mp3,
        png=png_bytes(),
        truncated_mp3=mp3[: int(len(mp3) * 0.4)],
        corrupt_wav=bytes(corrupt),
    )


async def fresh(path: Path) -> Path:
    """The same audio with a unique tag: other bytes (another SHA-256), so that tests sharing the database
    do not see each other's uploads as exact duplicates. Near-duplicate checks still match it."""
    dest = path.with_name(f"{uuid.uuid4().hex}{path.suffix}")
    await asyncio.to_thread(
        ffmpeg, "-i", path, "-map", "0", "-c", "copy", "-metadata", f"comment={dest.stem}", dest
    )
    return dest


def contest_rules(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "slug": unique_name("songs-"),
        "title": "Song test contest",
        "submission_opens_at": (now - timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=5)).isoformat(),
        "voting_opens_at": (now + timedelta(days=1)).isoformat(),
        "voting_closes_at": (now + timedelta(days=10)).isoformat(),
        "allowed_formats": ["mp3", "flac", "wav", "ogg"],
        "min_duration_seconds": 5,
        "max_duration_seconds": 30,
        "max_file_bytes": 5 * 1024 * 1024,
        "max_entries_per_contestant": 10,
    }
    body.update(overrides)
    return body


async def open_contest(admin: Api, **overrides: Any) -> dict[str, Any]:
    created = await admin.post("/api/contests", json=contest_rules(**overrides))
    assert created.status_code == 201, created.text
    opened = await admin.post(f"/api/contests/{created.json()['id']}/open")
    assert opened.status_code == 200, opened.text
    result: dict[str, Any] = opened.json()
    return result


async def login(make_api: Any, username: str) -> Api:
    client: Api = await make_api()
    response = await client.post("/api/auth/login", json={"login": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


def metadata(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Paper Boats",
        "artist_name": "The Testers",
        "genre": "folk",
        "description": "A song about\nsmall boats.",
        "credits": {"tools": ["Ardour"], "collaborators": [{"name": "Ana", "role": "vocals"}]},
        "license": "CC-BY-4.0",
        "filename": "paper-boats.mp3",
    }
    body.update(overrides)
    return body


async def upload(
    client: Api,
    contest_id: int,
    content: bytes | Path,
    *,
    content_type: str = "audio/mpeg",
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body = await asyncio.to_thread(content.read_bytes) if isinstance(content, Path) else content
    all_headers = {
        "Content-Type": content_type,
        "X-Song-Metadata": json.dumps(meta if meta is not None else metadata()),  # ASCII, \u escapes
        **(headers or {}),
    }
    return await client.post(f"/api/contests/{contest_id}/songs", content=body, headers=all_headers)


async def wait_for_song(client: Api, song_id: int, within_s: float = 45.0) -> dict[str, Any]:
    """Poll the song's status URL until the media worker has decided (the deadline only bounds a hang)."""
    deadline = time.monotonic() + within_s
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(f"/api/songs/{song_id}")
        assert response.status_code == 200, response.text
        last = response.json()
        if last["status"] in FINAL_STATUSES:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"song {song_id} was not processed within {within_s}s; last seen: {last}")


async def submit_and_wait(
    client: Api, contest_id: int, content: bytes | Path, **kwargs: Any
) -> dict[str, Any]:
    response = await upload(client, contest_id, content, **kwargs)
    assert response.status_code == 202, response.text
    return await wait_for_song(client, response.json()["id"])
