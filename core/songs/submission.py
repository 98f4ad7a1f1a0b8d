"""Submission: a contestant's song file streamed in and recorded; the media worker is asked to process it.

The API checks the role, the submission window and the entry limit *before* reading the body, streams the
body into a temp file of the upload storage (hashing as it goes, refusing with 413 as soon as the contest's
size cap is passed), then inserts the song in one short transaction that re-checks the window and the limit
under a lock on the contestant's row, and names the file ``.tmp/song-<id>.upload``. The processing job is
sent after that commit.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from core.jobs import process_song_job, request_after_commit
from core.models import Contest, ContestStatus, Role, Song, SongStatus, User, utcnow
from core.services import audit
from core.songs.text import clean_line, clean_text
from uploads import Storage, UploadTooLarge, receive_upload

# Songs in these statuses do not use up one of the contestant's entries in a contest.
NOT_COUNTED_STATUSES = (SongStatus.REJECTED.value, SongStatus.WITHDRAWN.value, SongStatus.DUPLICATE.value)

LICENSES = (
    "all-rights-reserved",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
    "CC0-1.0",
)


def incoming_path(storage: Storage, song_id: int) -> Path:
    """Where a received upload waits for the media worker (inside the storage's temp folder)."""
    return storage.temp_dir() / f"song-{song_id}.upload"


@dataclass(frozen=True, slots=True)
class SongDetails:
    """What the contestant tells about the song (the API validated lengths and shapes)."""

    title: str
    artist_name: str
    genre: str = ""
    description: str = ""
    credits: dict[str, Any] = field(default_factory=dict)
    license: str = "all-rights-reserved"
    original_filename: str = ""

    def cleaned(self) -> SongDetails:
        title, artist = clean_line(self.title), clean_line(self.artist_name)
        if not title:
            raise InvalidInput("the title is empty", code="invalid_metadata")
        if not artist:
            raise InvalidInput("the artist name is empty", code="invalid_metadata")
        if self.license not in LICENSES:
            raise InvalidInput(f"license must be one of {', '.join(LICENSES)}", code="invalid_metadata")
        credits = {
            "tools": [clean_line(tool) for tool in self.credits.get("tools", []) if clean_line(tool)],
            "collaborators": [
                {"name": clean_line(c.get("name", "")), "role": clean_line(c.get("role", ""))}
                for c in self.credits.get("collaborators", [])
                if clean_line(c.get("name", ""))
            ],
        }
        return SongDetails(
            title=title,
            artist_name=artist,
            genre=clean_line(self.genre),
            description=clean_text(self.description),
            credits=credits,
            license=self.license,
            original_filename=self.original_filename,
        )


async def _submission_contest(session: AsyncSession, contest_id: int, now: datetime) -> Contest:
    contest = await session.get(Contest, contest_id, populate_existing=True)
    if contest is None or contest.status == ContestStatus.DRAFT:
        raise NotFound("no such contest", code="contest_not_found")
    if not contest.submission_open(now):
        when = (
            f"it opens at {contest.submission_opens_at.isoformat()}"
            if contest.status == ContestStatus.OPEN and now < contest.submission_opens_at
            else "it is closed"
        )
        raise Forbidden(f"this contest is not taking submissions: {when}", code="submissions_closed")
    return contest


async def count_entries(session: AsyncSession, *, contest_id: int, contestant_id: int) -> int:
    """Songs that use up an entry: everything except rejected, withdrawn and duplicate songs."""
    count = await session.scalar(
        select(func.count(Song.id)).where(
            Song.contest_id == contest_id,
            Song.contestant_id == contestant_id,
            Song.status.not_in(NOT_COUNTED_STATUSES),
        )
    )
    return int(count or 0)


async def _check_entry_limit(session: AsyncSession, contest: Contest, contestant_id: int) -> None:
    used = await count_entries(session, contest_id=contest.id, contestant_id=contestant_id)
    if used >= contest.max_entries_per_contestant:
        raise Conflict(
            f"you already have {used} entries in this contest (the limit is "
            f"{contest.max_entries_per_contestant}); withdraw one to submit another",
            code="entry_limit_reached",
            extra={"limit": contest.max_entries_per_contestant, "entries": used},
        )


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"the file is larger than this contest's limit of {limit} bytes ({limit / 1024 / 1024:.1f} MiB)",
        code="file_too_large",
        extra={"limit_bytes": limit},
    )


async def submit_song(
    session: AsyncSession,
    storage: Storage,
    *,
    contest_id: int,
    contestant: User,
    details: SongDetails,
    body: AsyncIterable[bytes],
    declared_size: int | None,
    now: datetime,
) -> Song:
    """Receive a contestant's song file and record it; the media worker is asked to process it after commit.

    Nothing is read from ``body`` until the role, the window and the entry limit allow the upload, and no
    database connection is held while it streams.
    """
    if not contestant.has_role(Role.CONTESTANT):
        raise Forbidden("submitting a song needs the contestant role", code="missing_role")
    details = details.cleaned()
    contest = await _submission_contest(session, contest_id, now)
    await _check_entry_limit(session, contest, contestant.id)
    max_bytes = contest.max_file_bytes
    await session.rollback()  # end the read-only transaction: the body may take minutes to arrive

    if declared_size is not None and declared_size > max_bytes:
        raise _too_large(max_bytes)
    if declared_size == 0:
        raise InvalidInput("the file is empty (0 bytes)", code="empty_file")
    try:
        received = await receive_upload(body, storage, max_bytes=max_bytes)
    except UploadTooLarge:
        raise _too_large(max_bytes) from None
    if received.size == 0:
        await asyncio.to_thread(received.temp_path.unlink, missing_ok=True)
        raise InvalidInput("the file is empty (0 bytes)", code="empty_file")

    incoming: Path | None = None
    try:
        # Concurrent uploads by one contestant serialise here, so the limit holds exactly. FOR NO KEY UPDATE:
        # it does not block the key-share locks other rows referring to this account take (votes, songs).
        await session.execute(select(User.id).where(User.id == contestant.id).with_for_update(key_share=True))
        contest = await _submission_contest(session, contest_id, utcnow())
        await _check_entry_limit(session, contest, contestant.id)
        if received.size > contest.max_file_bytes:  # the admin lowered the limit while the body streamed
            raise _too_large(contest.max_file_bytes)
        song = Song(
            contest_id=contest.id,
            contestant_id=contestant.id,
            title=details.title,
            artist_name=details.artist_name,
            genre=details.genre,
            description=details.description,
            credits=details.credits,
            license=details.license,
            status=SongStatus.UPLOADED,
            original_filename=details.original_filename,
            size_bytes=received.size,
            sha256=received.sha256,
            review_evidence={},
            process_attempts=0,
        )
        session.add(song)
        await session.flush()
        incoming = incoming_path(storage, song.id)
        await asyncio.to_thread(os.replace, received.temp_path, incoming)
        audit.record(
            session,
            actor_id=contestant.id,
            action="song.submit",
            target_type="song",
            target_id=song.id,
            details={"contest_id": contest.id, "size_bytes": received.size, "sha256": received.sha256},
        )
        request_after_commit(session, process_song_job(song.id))
        await session.commit()
    except BaseException:
        received.temp_path.unlink(missing_ok=True)
        if incoming is not None:
            incoming.unlink(missing_ok=True)
        raise
    return song
