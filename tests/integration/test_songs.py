"""Song submissions end to end: uploads through the HTTP API, the real media worker, moderation, playback."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.jobs import SWEEP_TASK, Job
from core.models import AuditEntry, Song, SongStatus, User
from core.settings import Settings
from core.songs import processing, submission
from core.storage import open_storage
from tests.support.api import PASSWORD, Api, create_account
from tests.support.environment import TEST_ENV
from tests.support.jobs import send_job
from tests.support.net import free_port
from tests.support.songs import (
    SongFiles,
    contest_rules,
    fresh,
    login,
    metadata,
    open_contest,
    song_files_fixture,  # noqa: F401 - the song_files fixture
    submit_and_wait,
    upload,
    wait_for_song,
)
from uploads import key_for_sha256

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
async def contestant(make_api: Any, db: AsyncSession) -> Api:
    name, _ = await create_account(db, "contestant")
    return await login(make_api, name)


@pytest.fixture
async def moderator(make_api: Any, db: AsyncSession) -> Api:
    name, _ = await create_account(db, "moderator")
    return await login(make_api, name)


def temp_uploads(settings: Settings) -> set[str]:
    """Files being received right now (receive_upload's temp names), in the storage's temp folder."""
    return {p.name for p in (settings.upload_dir / ".tmp").glob("upload-*")}


# --- the happy path and playback --------------------------------------------------------------------------


async def test_contestant_submits_and_the_worker_approves(
    admin_api: Api, contestant: Api, api: Api, song_files: SongFiles, settings: Settings
) -> None:
    contest = await open_contest(admin_api)
    a_mp3 = await fresh(song_files.a_mp3)
    response = await upload(contestant, contest["id"], a_mp3)
    assert response.status_code == 202, response.text
    submitted = response.json()
    assert submitted["status"] == "uploaded"
    assert submitted["status_url"] == f"/api/songs/{submitted['id']}"
    assert response.headers["location"] == submitted["status_url"]
    assert submitted["size_bytes"] == a_mp3.stat().st_size

    song = await wait_for_song(contestant, submitted["id"])
    assert song["status"] == "approved", song
    assert song["status_reason"] is None
    assert song["format"] == "mp3"
    assert song["mime_type"] == "audio/mpeg"
    assert song["duration_seconds"] == pytest.approx(12.0, abs=0.2)
    assert song["title"] == "Paper Boats"
    assert song["credits"] == {"tools": ["Ardour"], "collaborators": [{"name": "Ana", "role": "vocals"}]}
    assert song["license"] == "CC-BY-4.0"
    assert song["original_filename"] == "paper-boats.mp3"
    assert "review_evidence" not in song  # evidence is for moderators

    # Stored under its content hash, inside the storage root; the incoming file is gone.
    key = key_for_sha256(song["sha256"])
    assert (settings.upload_dir / key).read_bytes() == a_mp3.read_bytes()
    assert not (settings.upload_dir / ".tmp" / f"song-{song['id']}.upload").exists()

    listed = await api.get(f"/api/contests/{contest['id']}/songs")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [song["id"]]
    assert "status_reason" not in listed.json()["items"][0]
    mine = await contestant.get("/api/me/songs")
    assert song["id"] in [item["id"] for item in mine.json()["items"]]


async def test_audio_is_served_with_ranges_and_validators(
    admin_api: Api, contestant: Api, api: Api, song_files: SongFiles
) -> None:
    contest = await open_contest(admin_api)
    b_mp3 = await fresh(song_files.b_mp3)
    song = await submit_and_wait(contestant, contest["id"], b_mp3)
    assert song["status"] == "approved", song
    data = b_mp3.read_bytes()
    url = song["audio_url"]

    full = await api.get(url)
    assert full.status_code == 200
    assert full.content == data
    assert full.headers["content-type"].startswith("audio/mpeg")
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["etag"] == f'"{song["sha256"]}"'
    assert full.headers["content-length"] == str(len(data))
    assert "last-modified" in full.headers

    part = await api.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.content == data[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    suffix = await api.get(url, headers={"Range": "bytes=-500"})
    assert suffix.status_code == 206
    assert suffix.content == data[-500:]
    open_ended = await api.get(url, headers={"Range": f"bytes={len(data) - 10}-"})
    assert open_ended.content == data[-10:]
    past_end = await api.get(url, headers={"Range": "bytes=0-99999999"})
    assert past_end.status_code == 206
    assert past_end.content == data

    unsatisfiable = await api.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{len(data)}"
    assert unsatisfiable.json()["code"] == "range_not_satisfiable"
    garbage = await api.get(url, headers={"Range": "bytes=abc"})
    assert garbage.status_code == 200  # an invalid Range header is ignored

    cached = await api.get(url, headers={"If-None-Match": full.headers["etag"]})
    assert cached.status_code == 304
    assert cached.content == b""
    stale = await api.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    changed = await api.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert changed.status_code == 200  # the client's copy is outdated: the whole file

    assert (await api.get("/api/songs/999999999/audio")).status_code == 404


# --- bad files: the worker refuses them with a reason the contestant can read -----------------------------


async def test_bad_files_are_rejected_with_readable_reasons(
    admin_api: Api, contestant: Api, api: Api, song_files: SongFiles, settings: Settings
) -> None:
    contest = await open_contest(admin_api, allowed_formats=["mp3", "wav", "flac"])
    cases = {
        "png_as_mp3": (song_files.png, "PNG image"),
        "truncated_mp3": (song_files.truncated_mp3, "incomplete"),
        "corrupt_wav": (song_files.corrupt_wav, "WAV file has a damaged header"),
        "too_long": (song_files.long_mp3.read_bytes(), "at most 30 s"),
        "format_not_allowed": (song_files.d_ogg.read_bytes(), "yours is Ogg Vorbis"),
    }
    ids = {}
    for name, (content, _) in cases.items():
        response = await upload(contestant, contest["id"], content, meta=metadata(filename=f"{name}.mp3"))
        assert response.status_code == 202, response.text
        ids[name] = response.json()["id"]
    for name, (_, expected) in cases.items():
        song = await wait_for_song(contestant, ids[name])
        assert song["status"] == "rejected", (name, song)
        assert expected in song["status_reason"], (name, song["status_reason"])
        assert song["audio_url"] is None
        # Not served to anyone, not even the owner: nothing was kept.
        assert (await contestant.get(f"/api/songs/{ids[name]}/audio")).status_code == 404
        assert (await api.get(f"/api/songs/{ids[name]}")).status_code == 404
        assert not (settings.upload_dir / ".tmp" / f"song-{ids[name]}.upload").exists()

    # Moderators see what the checks found.
    evidence = await moderator_evidence(admin_api, ids["too_long"], "rejected")
    assert evidence["rule"] == "max_duration_seconds"
    assert evidence["probe"]["duration_s"] == pytest.approx(40.0, abs=0.3)
    assert (await moderator_evidence(admin_api, ids["png_as_mp3"], "rejected"))["probe_error"][
        "kind"
    ] == "NotAudio"


async def moderator_evidence(client: Api, song_id: int, status: str) -> dict[str, Any]:
    listed = await client.get("/api/moderation/songs", params={"status": status, "limit": 100})
    assert listed.status_code == 200, listed.text
    found = [item for item in listed.json()["items"] if item["id"] == song_id]
    assert found, f"the moderators' list of {status} songs should show song {song_id}"
    evidence: dict[str, Any] = found[0]["review_evidence"]
    return evidence


async def test_empty_file_is_refused_at_once(admin_api: Api, contestant: Api) -> None:
    contest = await open_contest(admin_api)
    response = await upload(contestant, contest["id"], b"")
    assert response.status_code == 400
    assert response.json()["code"] == "empty_file"
    assert (await contestant.get("/api/me/songs", params={"contest_id": contest["id"]})).json()["items"] == []


async def test_file_over_the_contest_cap_is_413(
    admin_api: Api, contestant: Api, song_files: SongFiles, settings: Settings
) -> None:
    contest = await open_contest(admin_api, max_file_bytes=100_000)
    before = temp_uploads(settings)
    response = await upload(contestant, contest["id"], song_files.a_wav)  # ~530 KB
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["extra"]["limit_bytes"] == 100_000
    assert temp_uploads(settings) <= before


# --- a real uvicorn server: the cap is enforced while the body streams in (no Content-Length) -------------


@pytest.fixture(scope="module")
def live_api(settings: Settings) -> Iterator[str]:
    port = free_port()
    log = open(settings.data_dir / "live-api.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "ovation", "api", "--port", str(port)],
        env={**os.environ, **TEST_ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the API server did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


async def test_oversized_streamed_body_is_cut_off_while_streaming(
    live_api: str, admin_api: Api, db: AsyncSession, settings: Settings
) -> None:
    contest = await open_contest(admin_api, max_file_bytes=1024 * 1024)
    name, _ = await create_account(db, "contestant")
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(64):  # 4 MiB in 64 KiB chunks, chunked transfer encoding: no size announced
            sent += 65536
            yield b"\0" * 65536
            await asyncio.sleep(0)

    before = temp_uploads(settings)
    async with httpx.AsyncClient(base_url=live_api, timeout=30) as client:
        await client.get("/api/auth/csrf")
        token = client.cookies["csrftoken"]
        logged_in = await client.post(
            "/api/auth/login", json={"login": name, "password": PASSWORD}, headers={"x-csrftoken": token}
        )
        assert logged_in.status_code == 200, logged_in.text
        token = client.cookies["csrftoken"]  # logging in renews the token with the session
        try:
            response = await client.post(
                f"/api/contests/{contest['id']}/songs",
                content=body(),
                headers={
                    "x-csrftoken": token,
                    "Content-Type": "application/octet-stream",
                    "X-Song-Metadata": json.dumps(metadata()),
                },
            )
        except (httpx.WriteError, httpx.RemoteProtocolError):
            pytest.fail("the server should answer 413, not drop the connection")
    server_log = (settings.data_dir / "live-api.log").read_text(errors="replace")[-3000:]
    assert response.status_code == 413, f"{response.text}\nserver log:\n{server_log}"
    assert response.json()["code"] == "file_too_large"
    assert temp_uploads(settings) <= before  # the partial file was deleted
    for status in ("uploaded", "processing", "rejected"):
        listed = await admin_api.get(
            "/api/moderation/songs", params={"status": status, "contest_id": contest["id"]}
        )
        assert listed.json()["items"] == []


# --- who may upload, and when -----------------------------------------------------------------------------


async def test_only_contestants_upload(admin_api: Api, api: Api, make_api: Any, db: AsyncSession) -> None:
    contest = await open_contest(admin_api)
    anonymous = await upload(api, contest["id"], b"ID3 not read")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    name, _ = await create_account(db, "voter")
    voter = await login(make_api, name)
    refused = await upload(voter, contest["id"], b"ID3 not read")
    assert refused.status_code == 403
    assert refused.json()["code"] == "missing_role"


async def test_uploads_outside_the_submission_window_are_refused(admin_api: Api, contestant: Api) -> None:
    now = datetime.now(UTC)
    upcoming = await open_contest(
        admin_api,
        submission_opens_at=(now + timedelta(days=1)).isoformat(),
        voting_opens_at=(now + timedelta(days=2)).isoformat(),
    )
    early = await upload(contestant, upcoming["id"], b"\xff\xfb" * 100)
    assert early.status_code == 403
    assert early.json()["code"] == "submissions_closed"
    assert "opens at" in early.json()["detail"]

    closed = await open_contest(admin_api)
    assert (await admin_api.post(f"/api/contests/{closed['id']}/close")).status_code == 200
    late = await upload(contestant, closed["id"], b"\xff\xfb" * 100)
    assert late.status_code == 403
    assert late.json()["code"] == "submissions_closed"

    draft = (await admin_api.post("/api/contests", json=contest_rules())).json()
    hidden = await upload(contestant, draft["id"], b"\xff\xfb" * 100)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "contest_not_found"


MALFORMED = [
    ({"X-Song-Metadata": "{not json"}, 400, "invalid_metadata"),
    ({"X-Song-Metadata": json.dumps(metadata(license="WTFPL"))}, 400, "invalid_metadata"),
    ({"X-Song-Metadata": json.dumps(metadata(title="   "))}, 400, "invalid_metadata"),
    ({"X-Song-Metadata": json.dumps(metadata(title="x" * 201))}, 400, "invalid_metadata"),
    ({"X-Song-Metadata": json.dumps(metadata(extra_field=1))}, 400, "invalid_metadata"),
    ({"Content-Type": "multipart/form-data; boundary=x"}, 415, "unsupported_media_type"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ({"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    ({"x-csrftoken": "forged"}, 403, "csrf_failed"),
    ({"Content-Length": str(3 * 1024**3)}, 413, "file_too_large"),  # refused before reading anything
]


async def test_malformed_upload_requests_are_4xx(admin_api: Api, contestant: Api) -> None:
    contest = await open_contest(admin_api)
    for headers, status, code in MALFORMED:
        response = await upload(contestant, contest["id"], b"\xff\xfb" * 100, headers=headers)
        assert response.status_code == status, (headers, response.text)
        assert response.json()["code"] == code, (headers, response.text)
    mine = await contestant.get("/api/me/songs", params={"contest_id": contest["id"]})
    assert mine.json()["items"] == []


async def test_missing_metadata_header_is_400(admin_api: Api, contestant: Api) -> None:
    contest = await open_contest(admin_api)
    response = await contestant.post(
        f"/api/contests/{contest['id']}/songs", content=b"abc", headers={"Content-Type": "audio/mpeg"}
    )
    assert response.status_code == 400
    assert "X-Song-Metadata" in response.json()["detail"]


FILENAMES = [
    ("../../../../etc/evil-passwd.mp3", "evil-passwd.mp3"),
    ("bad\x00name.mp3", "badname.mp3"),
    ("y" * 300 + ".mp3", "y" * 251 + ".mp3"),
    ("Чайка — 海鸥.mp3", "Чайка — 海鸥.mp3"),
]


async def test_client_filenames_are_display_names_only(
    admin_api: Api, contestant: Api, song_files: SongFiles, settings: Settings
) -> None:
    contest = await open_contest(admin_api)
    ids = []
    for given, shown in FILENAMES:
        response = await upload(
            contestant, contest["id"], await fresh(song_files.e_mp3), meta=metadata(filename=given)
        )
        assert response.status_code == 202, response.text
        assert response.json()["original_filename"] == shown
        ids.append(response.json()["id"])
    for song_id, (_, shown) in zip(ids, FILENAMES, strict=True):
        song = await wait_for_song(contestant, song_id)
        assert song["original_filename"] == shown
        assert (settings.upload_dir / key_for_sha256(song["sha256"])).is_file()
        audio = await contestant.get(song["audio_url"])
        assert quote(shown, safe="") in audio.headers["content-disposition"]
    # Nothing named after the client's files was written, in the data folder or where "../" pointed.
    assert not await asyncio.to_thread(os.path.exists, "/etc/evil-passwd.mp3")
    assert not [p for p in settings.data_dir.rglob("*") if "evil-passwd" in p.name or "yyyyyyyy" in p.name]


async def test_filename_from_the_x_filename_header(
    admin_api: Api, contestant: Api, song_files: SongFiles
) -> None:
    contest = await open_contest(admin_api)
    meta = metadata()
    del meta["filename"]
    response = await upload(
        contestant,
        contest["id"],
        await fresh(song_files.f_mp3),
        meta=meta,
        headers={"X-Filename": quote("../Été à Paris.mp3")},
    )
    assert response.status_code == 202, response.text
    assert response.json()["original_filename"] == "Été à Paris.mp3"


# --- entries ----------------------------------------------------------------------------------------------


async def test_entry_limit_counts_live_entries_and_withdrawal_frees_one(
    admin_api: Api, contestant: Api, song_files: SongFiles
) -> None:
    contest = await open_contest(admin_api, max_entries_per_contestant=2)
    first = await submit_and_wait(contestant, contest["id"], await fresh(song_files.b_mp3))
    rejected = await submit_and_wait(contestant, contest["id"], song_files.png)  # does not count
    assert rejected["status"] == "rejected"
    second = await upload(
        contestant, contest["id"], await fresh(song_files.c_flac), content_type="audio/flac"
    )
    assert second.status_code == 202, second.text

    third = await upload(contestant, contest["id"], await fresh(song_files.e_mp3))
    assert third.status_code == 409
    assert third.json()["code"] == "entry_limit_reached"
    assert third.json()["extra"] == {"limit": 2, "entries": 2}

    withdrawn = await contestant.post(f"/api/songs/{first['id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await contestant.post(f"/api/songs/{first['id']}/withdraw")).json()["code"] == "cannot_withdraw"
    again = await upload(contestant, contest["id"], await fresh(song_files.e_mp3))
    assert again.status_code == 202, again.text
    # A withdrawn song is kept, and no longer public.
    assert (await contestant.get(f"/api/songs/{first['id']}")).json()["status"] == "withdrawn"
    listed = await admin_api.get(f"/api/contests/{contest['id']}/songs")
    assert first["id"] not in [item["id"] for item in listed.json()["items"]]


async def test_entry_limit_holds_for_concurrent_uploads(
    admin_api: Api, settings: Settings, db: AsyncSession
) -> None:
    """Two uploads that both passed the early check, racing to insert: exactly one gets the last entry."""
    from core.db import create_engine, create_sessionmaker

    contest = await open_contest(admin_api, max_entries_per_contestant=1)
    _, user_id = await create_account(db, "contestant")
    user = await db.get(User, user_id)
    assert user is not None
    storage = open_storage(settings)
    both_streaming = asyncio.Barrier(2)

    async def body() -> AsyncIterator[bytes]:
        await both_streaming.wait()  # both requests are past the early check before either inserts
        yield b"ID3" + os.urandom(4096)

    engine = create_engine(settings.database, pooled=False)
    make_session = create_sessionmaker(engine)

    async def submit() -> str:
        async with make_session() as session:
            try:
                await submission.submit_song(
                    session,
                    storage,
                    contest_id=contest["id"],
                    contestant=user,
                    details=submission.SongDetails(title="Race", artist_name="Racer"),
                    body=body(),
                    declared_size=None,
                    now=datetime.now(UTC),
                )
            except Conflict as exc:
                return exc.code
            return "accepted"

    try:
        outcomes = await asyncio.gather(submit(), submit())
    finally:
        await engine.dispose()
    assert sorted(outcomes) == ["accepted", "entry_limit_reached"]
    count = await submission.count_entries(db, contest_id=contest["id"], contestant_id=user_id)
    assert count == 1


async def test_withdrawal_closes_when_voting_opens(
    admin_api: Api, contestant: Api, make_api: Any, db: AsyncSession, song_files: SongFiles
) -> None:
    now = datetime.now(UTC)
    contest = await open_contest(admin_api, voting_opens_at=(now - timedelta(minutes=1)).isoformat())
    song = await upload(contestant, contest["id"], await fresh(song_files.f_mp3))
    assert song.status_code == 202, song.text
    song_id = song.json()["id"]
    name, _ = await create_account(db, "contestant")
    stranger = await login(make_api, name)
    assert (await stranger.post(f"/api/songs/{song_id}/withdraw")).status_code == 404
    late = await contestant.post(f"/api/songs/{song_id}/withdraw")
    assert late.status_code == 409
    assert late.json()["code"] == "voting_started"


# --- duplicates and moderation ----------------------------------------------------------------------------


async def test_exact_duplicates_in_the_same_and_in_another_contest(
    admin_api: Api, contestant: Api, moderator: Api, make_api: Any, db: AsyncSession, song_files: SongFiles
) -> None:
    contest = await open_contest(admin_api)
    other_contest = await open_contest(admin_api)
    c_flac = await fresh(song_files.c_flac)  # uploaded three times on purpose
    original = await submit_and_wait(contestant, contest["id"], c_flac, content_type="audio/flac")
    assert original["status"] == "approved", original

    name, _ = await create_account(db, "contestant")
    copier = await login(make_api, name)
    copy = await submit_and_wait(copier, contest["id"], c_flac, content_type="audio/flac")
    assert copy["status"] == "duplicate"
    assert "Another contestant already submitted this exact file" in copy["status_reason"]

    elsewhere = await submit_and_wait(contestant, other_contest["id"], c_flac, content_type="audio/flac")
    assert elsewhere["status"] == "pending_review"
    assert "another contest" in elsewhere["status_reason"]
    # Not public while pending; the owner and moderators may listen.
    public = await (await make_api()).get(f"/api/songs/{elsewhere['id']}/audio")
    assert public.status_code == 404
    assert (await contestant.get(f"/api/songs/{elsewhere['id']}/audio")).status_code == 200
    assert (await moderator.get(f"/api/songs/{elsewhere['id']}/audio")).status_code == 200

    review = await moderator.get("/api/moderation/songs", params={"contest_id": other_contest["id"]})
    assert review.status_code == 200
    [item] = review.json()["items"]
    evidence = item["review_evidence"]
    assert [d["song_id"] for d in evidence["exact_duplicates"]] == [original["id"], copy["id"]]
    assert [d["same_contestant"] for d in evidence["exact_duplicates"]] == [True, False]

    approved = await moderator.post(f"/api/moderation/songs/{elsewhere['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert (await (await make_api()).get(f"/api/songs/{elsewhere['id']}/audio")).status_code == 200
    again = await moderator.post(f"/api/moderation/songs/{elsewhere['id']}/approve", json={})
    assert again.status_code == 409


async def test_near_duplicate_reencode_goes_to_review_and_moderators_decide(
    admin_api: Api, contestant: Api, moderator: Api, make_api: Any, db: AsyncSession, song_files: SongFiles
) -> None:
    contest = await open_contest(admin_api)
    a_wav = await fresh(song_files.a_wav)
    original = await submit_and_wait(contestant, contest["id"], a_wav, content_type="audio/wav")
    assert original["status"] == "approved", original
    different = await submit_and_wait(
        contestant, contest["id"], await fresh(song_files.d_ogg), content_type="audio/ogg"
    )
    assert different["status"] == "approved", different

    name, copier_id = await create_account(db, "contestant")
    copier = await login(make_api, name)
    reencoded = await submit_and_wait(copier, contest["id"], await fresh(song_files.a_mp3_64k))
    assert reencoded["status"] == "pending_review", reencoded
    assert "sounds very much like another song" in reencoded["status_reason"]

    queue = await moderator.get("/api/moderation/songs", params={"contest_id": contest["id"]})
    [item] = queue.json()["items"]
    assert item["id"] == reencoded["id"]
    assert item["contestant_id"] == copier_id
    [near] = item["review_evidence"]["near_duplicates"]
    assert near["song_id"] == original["id"]
    assert near["similarity"] >= 0.5
    assert near["same_contestant"] is False
    assert item["review_evidence"]["probe"]["codec"] == "mp3"

    assert (await contestant.get("/api/moderation/songs")).status_code == 403
    no_reason = await moderator.post(f"/api/moderation/songs/{reencoded['id']}/reject", json={})
    assert no_reason.status_code == 400
    assert no_reason.json()["code"] == "reason_required"
    rejected = await moderator.post(
        f"/api/moderation/songs/{reencoded['id']}/reject", json={"reason": "This is a copy of another entry."}
    )
    assert rejected.status_code == 200, rejected.text
    seen = await copier.get("/api/me/songs")
    [mine] = [s for s in seen.json()["items"] if s["id"] == reencoded["id"]]
    assert mine["status"] == "rejected"
    assert mine["status_reason"] == "This is a copy of another entry."

    # An approved song can be taken down; every decision is audited with who, what and why.
    takedown = await moderator.post(
        f"/api/moderation/songs/{different['id']}/reject", json={"reason": "Rules."}
    )
    assert takedown.status_code == 200
    actions = (
        await db.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.details).where(
                AuditEntry.target_type == "song",
                AuditEntry.target_id.in_([str(reencoded["id"]), str(different["id"])]),
                AuditEntry.action.in_(["song.reject", "song.approve"]),
            )
        )
    ).all()
    assert sorted(action for action, _, _ in actions) == ["song.reject", "song.reject"]
    assert {details["from"] for _, _, details in actions} == {"pending_review", "approved"}
    assert all(actor is not None for _, actor, _ in actions)


# --- crash safety -----------------------------------------------------------------------------------------


async def test_a_crashed_run_is_swept_and_redone_from_scratch(
    admin_api: Api, contestant: Api, db: AsyncSession, settings: Settings, song_files: SongFiles
) -> None:
    contest = await open_contest(admin_api)
    me = (await contestant.get("/api/auth/me")).json()
    storage = open_storage(settings)
    # What a worker killed mid-run leaves behind: processing, not processed, claimed long ago, file waiting.
    data = (await fresh(song_files.b_mp3)).read_bytes()

    long_ago = datetime.now(UTC) - processing.PROCESSING_LEASE - timedelta(minutes=1)
    song = Song(
        contest_id=contest["id"],
        contestant_id=me["id"],
        title="Crashed",
        artist_name="Worker",
        status=SongStatus.PROCESSING,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        process_attempts=1,
        review_evidence={},
        credits={},
        created_at=long_ago,
        updated_at=long_ago,
    )
    db.add(song)
    await db.commit()
    submission.incoming_path(storage, song.id).write_bytes(data)

    send_job(Job(SWEEP_TASK))
    done = await wait_for_song(contestant, song.id)
    assert done["status"] == "approved", done
    await db.refresh(song)
    assert song.process_attempts == 2
    assert song.processed_at is not None

    # Re-running the task on a processed song changes nothing.
    result = await processing.process_song(db, storage, song.id, now=datetime.now(UTC))
    assert result == "already_processed"
