"""Songs: submission (a streamed upload), processing by the media worker, moderation, and who may hear what.

Life of a song (docs/uploads.md has the reasons):

    uploaded --(media worker claims it)--> processing --> approved | pending_review | rejected | duplicate
    pending_review --(moderator)--> approved | rejected;  approved --(moderator takedown)--> rejected
    uploaded | processing | approved | pending_review --(owner, before voting opens)--> withdrawn

* The API checks the role, the submission window and the entry limit *before* reading the body, streams the
  body into a temp file of the upload storage (hashing as it goes, refusing with 413 as soon as the contest's
  size cap is passed), then inserts the song in one short transaction that re-checks the window and the limit
  under a lock on the contestant's row, and names the file ``.tmp/song-<id>.upload``. The processing job is
  sent after that commit.
* The worker claims the song (status processing, attempt + 1), inspects the file without holding a
  transaction (SHA-256, format from the bytes, strict probe, contest rules, Chromaprint fingerprint), then
  decides in a second short transaction that locks the contest row, so that two songs of one contest finishing
  at the same time still see each other's fingerprints. The final write only applies when the song is still
  in the attempt this run claimed: a stale or concurrent run cannot overwrite a newer one.
* Everything is safe to re-run: a run that finds the song already processed returns at once; a crash leaves
  ``processing`` with ``processed_at`` NULL, which the sweeper re-requests once the claim's lease has expired.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from core.jobs import process_song_job, recompute_job, request_after_commit
from core.models import Contest, ContestStatus, Role, Song, SongStatus, User, utcnow
from core.services import audit
from uploads import (
    AudioInfo,
    FingerprintError,
    PackedFingerprint,
    ProbeError,
    Storage,
    UploadTooLarge,
    compute_fingerprint,
    find_near_duplicates,
    key_for_sha256,
    probe_audio,
    receive_upload,
    sha256_file,
)

log = logging.getLogger(__name__)


# Songs in these statuses do not use up one of the contestant's entries in a contest.
NOT_COUNTED_STATUSES = (SongStatus.REJECTED.value, SongStatus.WITHDRAWN.value, SongStatus.DUPLICATE.value)
WITHDRAWABLE_STATUSES = (
    SongStatus.UPLOADED.value,
    SongStatus.PROCESSING.value,
    SongStatus.APPROVED.value,
    SongStatus.PENDING_REVIEW.value,
)
# An uploaded song whose job has not started after this long had its job lost: the sweeper asks again.
STUCK_AFTER = timedelta(minutes=3)
# A claim older than this belongs to a run that died; longer than the Celery hard time limit (600 s), so a
# run that is merely slow is never doubled.
PROCESSING_LEASE = timedelta(minutes=12)
# A file that crashed the worker this many times is refused rather than retried forever.
MAX_PROCESS_ATTEMPTS = 5
REASON_MAX_CHARS = 500

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

_FORMAT_LABELS = {
    "mp3": "MP3",
    "flac": "FLAC",
    "ogg": "Ogg Vorbis",
    "opus": "Opus",
    "wav": "WAV",
    "m4a": "M4A (AAC/ALAC)",
    "aiff": "AIFF",
    "webm": "WebM",
    "mka": "Matroska",
}


def incoming_path(storage: Storage, song_id: int) -> Path:
    """Where a received upload waits for the media worker (inside the storage's temp folder)."""
    return storage.temp_dir() / f"song-{song_id}.upload"


def is_moderator(user: User | None) -> bool:
    return user is not None and user.has_role(Role.MODERATOR, Role.ADMIN)


def _clip(text: str, limit: int = REASON_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_line(text: str) -> str:
    """A one-line field (title, artist...): control characters dropped, whitespace runs collapsed."""
    kept = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or ch.isprintable())
    return " ".join(kept.split())


def _clean_text(text: str) -> str:
    """A multi-line field: control characters other than newline and tab dropped."""
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()


def _duration_text(seconds: float) -> str:
    whole = round(seconds)
    if whole >= 60:
        return f"{whole // 60} min {whole % 60} s" if whole % 60 else f"{whole // 60} min"
    return f"{whole} s" if abs(seconds - whole) < 0.05 else f"{seconds:.1f} s"


# --- submission ---------------------------------------------------------------------------------------------


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
        title, artist = _clean_line(self.title), _clean_line(self.artist_name)
        if not title:
            raise InvalidInput("the title is empty", code="invalid_metadata")
        if not artist:
            raise InvalidInput("the artist name is empty", code="invalid_metadata")
        if self.license not in LICENSES:
            raise InvalidInput(f"license must be one of {', '.join(LICENSES)}", code="invalid_metadata")
        credits = {
            "tools": [_clean_line(tool) for tool in self.credits.get("tools", []) if _clean_line(tool)],
            "collaborators": [
                {"name": _clean_line(c.get("name", "")), "role": _clean_line(c.get("role", ""))}
                for c in self.credits.get("collaborators", [])
                if _clean_line(c.get("name", ""))
            ],
        }
        return SongDetails(
            title=title,
            artist_name=artist,
            genre=_clean_line(self.genre),
            description=_clean_text(self.description),
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


# --- processing (media worker) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rules:
    allowed_formats: tuple[str, ...]
    max_file_bytes: int
    min_duration_seconds: int
    max_duration_seconds: int


@dataclass(frozen=True, slots=True)
class _Claim:
    song_id: int
    contest_id: int
    contestant_id: int
    attempt: int
    upload_sha256: str | None
    rules: _Rules


@dataclass(frozen=True, slots=True)
class _Refusal:
    reason: str  # for the contestant
    evidence: dict[str, Any]


@dataclass(slots=True)
class _Inspection:
    source: Path | None = None
    from_incoming: bool = False
    sha256: str | None = None
    size: int = 0
    info: AudioInfo | None = None
    contest_format: str | None = None
    refusal: _Refusal | None = None
    fingerprint: PackedFingerprint | None = None
    fingerprint_note: str | None = None


def contest_format(info: AudioInfo) -> str:
    """The contest rule name (Contest.allowed_formats) of a probed file."""
    container = str(info.container)
    if container == "ogg":
        return "opus" if info.codec == "opus" else "ogg"
    if container in ("mp4", "aac"):
        return "m4a"
    if container == "matroska":
        return "mka"
    return container


def encode_fingerprint(fingerprint: PackedFingerprint) -> str:
    """Base64 of the little-endian uint32 items: ~5.2 KB for the 120 s Chromaprint takes by default."""
    return base64.b64encode(fingerprint.value.to_bytes(4 * fingerprint.length, "little")).decode("ascii")


def decode_fingerprint(text: str) -> PackedFingerprint:
    data = base64.b64decode(text)
    return PackedFingerprint(length=len(data) // 4, value=int.from_bytes(data, "little"))


def _probe_evidence(info: AudioInfo) -> dict[str, Any]:
    return {
        "container": str(info.container),
        "codec": info.codec,
        "mime_type": info.mime_type,
        "duration_s": round(info.duration_s, 3),
        "header_duration_s": info.header_duration_s,
        "bitrate_bps": info.bitrate_bps,
        "sample_rate_hz": info.sample_rate_hz,
        "channels": info.channels,
        "size_bytes": info.size_bytes,
        "decoded": info.decoded,
        "warnings": list(info.warnings),
    }


def _check_rules(info: AudioInfo, fmt: str, size: int, rules: _Rules) -> _Refusal | None:
    if fmt not in rules.allowed_formats:
        accepted = ", ".join(_FORMAT_LABELS.get(f, f) for f in rules.allowed_formats)
        return _Refusal(
            f"This contest accepts {accepted} files; yours is {_FORMAT_LABELS.get(fmt, fmt)}.",
            {"rule": "allowed_formats", "allowed": list(rules.allowed_formats), "actual": fmt},
        )
    if size > rules.max_file_bytes:
        return _Refusal(
            f"The file is larger than this contest's limit of {rules.max_file_bytes / 1024 / 1024:.1f} MiB.",
            {"rule": "max_file_bytes", "limit": rules.max_file_bytes, "actual": size},
        )
    if info.duration_s > rules.max_duration_seconds:
        return _Refusal(
            f"Your song is {_duration_text(info.duration_s)} long; this contest accepts songs of at most "
            f"{_duration_text(rules.max_duration_seconds)}.",
            {"rule": "max_duration_seconds", "limit": rules.max_duration_seconds, "actual": info.duration_s},
        )
    if info.duration_s < rules.min_duration_seconds:
        return _Refusal(
            f"Your song is {_duration_text(info.duration_s)} long; this contest needs songs of at least "
            f"{_duration_text(rules.min_duration_seconds)}.",
            {"rule": "min_duration_seconds", "limit": rules.min_duration_seconds, "actual": info.duration_s},
        )
    return None


def inspect_upload(storage: Storage, claim: _Claim) -> _Inspection:
    """Everything that reads the file; blocking, no database. OSError propagates (transient: retried)."""
    result = _Inspection()
    source = incoming_path(storage, claim.song_id)
    if source.exists():
        result.from_incoming = True
    else:
        # A previous run may have moved the file into the store and died before recording it.
        stored = key_for_sha256(claim.upload_sha256) if claim.upload_sha256 else None
        local = storage.local_path(stored) if stored and storage.exists(stored) else None
        if local is None:
            result.refusal = _Refusal(
                "We could not find your uploaded file any more. Please upload it again.",
                {"error": "file_lost"},
            )
            return result
        source = local
    result.source = source
    result.size = source.stat().st_size
    result.sha256 = sha256_file(source)
    if claim.upload_sha256 and result.sha256 != claim.upload_sha256:
        result.refusal = _Refusal(
            "Your file was damaged after it reached us. Please upload it again.",
            {"error": "sha256_mismatch", "received": claim.upload_sha256, "stored": result.sha256},
        )
        return result
    try:
        info = probe_audio(source)
    except ProbeError as exc:
        result.refusal = _Refusal(
            exc.user_message, {"probe_error": {"kind": type(exc).__name__, "detail": exc.detail[:1000]}}
        )
        return result
    result.info = info
    result.contest_format = contest_format(info)
    result.refusal = _check_rules(info, result.contest_format, result.size, claim.rules)
    if result.refusal is not None:
        return result
    try:
        result.fingerprint = PackedFingerprint.pack(compute_fingerprint(source))
    except FingerprintError as exc:
        # Not the contestant's fault (e.g. audio too short for Chromaprint, or fpcalc missing): the song is
        # judged without the near-duplicate check, and the evidence says so.
        result.fingerprint_note = str(exc)[:500]
        log.warning("song %s: no fingerprint: %s", claim.song_id, exc)
    return result


async def _claim(session: AsyncSession, storage: Storage, song_id: int, now: datetime) -> _Claim | str:
    song = await session.scalar(select(Song).where(Song.id == song_id).with_for_update())
    if song is None:
        await session.rollback()
        return "missing"
    if song.processed_at is not None or song.status not in (SongStatus.UPLOADED, SongStatus.PROCESSING):
        await session.rollback()
        return "already_processed"
    if song.status == SongStatus.PROCESSING and song.updated_at > now - PROCESSING_LEASE:
        await session.rollback()
        return "in_progress"
    if song.process_attempts >= MAX_PROCESS_ATTEMPTS:
        song.status = SongStatus.REJECTED
        song.status_reason = (
            "We could not check this file: it made our checker fail several times. Please export it again "
            "(for example as MP3 or FLAC) and upload the new file."
        )
        song.review_evidence = {**song.review_evidence, "gave_up_after_attempts": song.process_attempts}
        song.processed_at = now
        await session.commit()
        await asyncio.to_thread(incoming_path(storage, song_id).unlink, missing_ok=True)
        log.error("song %s: gave up after %s attempts", song_id, song.process_attempts)
        return "gave_up"
    contest = await session.get(Contest, song.contest_id)
    assert contest is not None  # the foreign key guarantees it
    song.status = SongStatus.PROCESSING
    song.process_attempts += 1
    claim = _Claim(
        song_id=song.id,
        contest_id=song.contest_id,
        contestant_id=song.contestant_id,
        attempt=song.process_attempts,
        upload_sha256=song.sha256,
        rules=_Rules(
            allowed_formats=tuple(contest.allowed_formats),
            max_file_bytes=contest.max_file_bytes,
            min_duration_seconds=contest.min_duration_seconds,
            max_duration_seconds=contest.max_duration_seconds,
        ),
    )
    await session.commit()
    return claim


async def _release(session: AsyncSession, claim: _Claim) -> None:
    """Hand a claimed song back after a transient error, so that the retry can claim it at once."""
    await session.rollback()
    song = await session.scalar(select(Song).where(Song.id == claim.song_id).with_for_update())
    if song is not None and song.status == SongStatus.PROCESSING and song.process_attempts == claim.attempt:
        song.status = SongStatus.UPLOADED
    await session.commit()


async def _other_songs(session: AsyncSession, song: Song, *, same_contest: bool) -> Sequence[Song]:
    contest_filter = (
        Song.contest_id == song.contest_id if same_contest else Song.contest_id != song.contest_id
    )
    query = select(Song).where(
        contest_filter, Song.sha256 == song.sha256, Song.id != song.id, Song.status != SongStatus.WITHDRAWN
    )
    return (await session.scalars(query.order_by(Song.id).limit(20))).all()


def _song_ref(other: Song, song: Song) -> dict[str, Any]:
    return {
        "song_id": other.id,
        "contest_id": other.contest_id,
        "contestant_id": other.contestant_id,
        "same_contestant": other.contestant_id == song.contestant_id,
        "title": other.title,
        "status": other.status,
    }


async def _decide(
    session: AsyncSession, song: Song, inspection: _Inspection, evidence: dict[str, Any]
) -> tuple[SongStatus, str | None]:
    """The verdict for a file that decoded and met the contest's rules: duplicate checks."""
    earlier = [other for other in await _other_songs(session, song, same_contest=True) if other.id < song.id]
    if earlier:
        original = earlier[0]
        evidence["duplicate_of"] = _song_ref(original, song)
        whose = (
            "You already" if original.contestant_id == song.contestant_id else "Another contestant already"
        )
        return SongStatus.DUPLICATE, f"{whose} submitted this exact file to this contest."

    reasons: list[str] = []
    elsewhere = await _other_songs(session, song, same_contest=False)
    if elsewhere:
        evidence["exact_duplicates"] = [_song_ref(other, song) for other in elsewhere]
        reasons.append("the same file was submitted to another contest")

    if inspection.fingerprint is not None:
        rows = (
            await session.execute(
                select(Song.id, Song.fingerprint).where(
                    Song.contest_id == song.contest_id,
                    Song.id != song.id,
                    Song.fingerprint.is_not(None),
                    Song.status.not_in((SongStatus.WITHDRAWN, SongStatus.DUPLICATE)),
                )
            )
        ).all()
        candidates = [(song_id, decode_fingerprint(text)) for song_id, text in rows if text]
        hits = find_near_duplicates(inspection.fingerprint, candidates)
        if hits:
            by_id = {
                s.id: s for s in await session.scalars(select(Song).where(Song.id.in_([h[0] for h in hits])))
            }
            evidence["near_duplicates"] = [
                {**_song_ref(by_id[song_id], song), "similarity": round(score, 3)}
                for song_id, score in hits[:10]
            ]
            reasons.append("it sounds very much like another song in this contest")
        evidence["fingerprint"] = {"items": inspection.fingerprint.length, "compared_with": len(candidates)}
    else:
        evidence["fingerprint"] = {"error": inspection.fingerprint_note, "near_duplicate_check": "skipped"}

    if reasons:
        return (
            SongStatus.PENDING_REVIEW,
            f"A moderator will listen to your song first: {' and '.join(reasons)}.",
        )
    return SongStatus.APPROVED, None


async def _finish(session: AsyncSession, storage: Storage, claim: _Claim, inspection: _Inspection) -> str:
    # Finishes in one contest take turns, so a near-duplicate pair finishing together still meets.
    await session.execute(
        select(Contest.id).where(Contest.id == claim.contest_id).with_for_update(key_share=True)
    )
    song = await session.scalar(select(Song).where(Song.id == claim.song_id).with_for_update())
    if (
        song is None
        or song.status != SongStatus.PROCESSING
        or song.process_attempts != claim.attempt
        or song.processed_at is not None
    ):
        await session.rollback()  # withdrawn meanwhile, or a newer run took over
        return "superseded"
    evidence: dict[str, Any] = {"attempt": claim.attempt, "sha256": inspection.sha256}
    status: SongStatus
    reason: str | None
    if inspection.info is not None:
        info = inspection.info
        evidence["probe"] = _probe_evidence(info)
        song.detected_format = inspection.contest_format
        song.codec = info.codec[:32]
        song.mime_type = info.mime_type
        song.duration_seconds = info.duration_s
        song.bitrate = info.bitrate_bps or None
        song.sample_rate = info.sample_rate_hz
        song.channels = info.channels
    if inspection.refusal is not None:
        evidence.update(inspection.refusal.evidence)
        status, reason = SongStatus.REJECTED, inspection.refusal.reason
    else:
        assert inspection.source is not None
        assert inspection.sha256 is not None
        status, reason = await _decide(session, song, inspection, evidence)
        if inspection.fingerprint is not None:
            song.fingerprint = encode_fingerprint(inspection.fingerprint)
        if inspection.from_incoming:
            song.storage_key = await asyncio.to_thread(
                storage.put_from_temp, inspection.source, inspection.sha256
            )
        else:
            song.storage_key = key_for_sha256(inspection.sha256)
    song.status = status
    song.status_reason = _clip(reason) if reason else None
    song.review_evidence = evidence
    song.processed_at = utcnow()
    if status == SongStatus.APPROVED:
        request_after_commit(session, recompute_job(song.contest_id))  # it joins the board with 0 votes
    audit.record(
        session,
        actor_id=None,
        action=f"song.processed.{status.value}",
        target_type="song",
        target_id=song.id,
        details={"reason": song.status_reason, "attempt": claim.attempt},
    )
    await session.commit()
    if status == SongStatus.REJECTED and inspection.from_incoming:
        # Refused files are not kept (the reason and the evidence are); stored files are shared by content.
        await asyncio.to_thread(incoming_path(storage, claim.song_id).unlink, missing_ok=True)
    return status.value


async def process_song(session: AsyncSession, storage: Storage, song_id: int, *, now: datetime) -> str:
    """The media worker's job for one song; returns what happened (for the task result and the logs)."""
    claim = await _claim(session, storage, song_id, now)
    if isinstance(claim, str):
        return claim
    try:
        inspection = await asyncio.to_thread(inspect_upload, storage, claim)
        return await _finish(session, storage, claim, inspection)
    except (OSError, DBAPIError):
        # Transient (disk, database): hand the song back so that Celery's retry can claim it at once. If even
        # that fails, the claim's lease runs out and the sweeper re-requests the song.
        try:
            await _release(session, claim)
        except (OSError, DBAPIError):
            log.warning("song %s: could not hand the claim back", song_id, exc_info=True)
        raise
    except BaseException:
        # Anything else (a bug, a kill): the claim stays; the sweeper re-requests it after the lease.
        log.exception("song %s: processing attempt %s failed", song_id, claim.attempt)
        raise


async def stuck_songs(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[int]:
    """Songs whose processing request was lost (uploaded too long ago) or whose run died (lease expired)."""
    rows = await session.scalars(
        select(Song.id)
        .where(
            or_(
                (Song.status == SongStatus.UPLOADED) & (Song.updated_at < now - STUCK_AFTER),
                (Song.status == SongStatus.PROCESSING) & (Song.updated_at < now - PROCESSING_LEASE),
            ),
            Song.processed_at.is_(None),
        )
        .order_by(Song.updated_at)
        .limit(limit)
    )
    return list(rows)


# --- reading ------------------------------------------------------------------------------------------------


def _viewable(song: Song, viewer: User | None) -> bool:
    return song.status == SongStatus.APPROVED or (
        viewer is not None and (song.contestant_id == viewer.id or is_moderator(viewer))
    )


async def get_song(session: AsyncSession, song_id: int, *, viewer: User | None) -> Song:
    """A song for this viewer: approved songs for everyone; any status for its owner and for moderators."""
    song = await session.get(Song, song_id)
    if song is None or not _viewable(song, viewer):
        raise NotFound("no such song", code="song_not_found")
    return song


async def get_audio(session: AsyncSession, song_id: int, *, viewer: User | None) -> Song:
    """A song whose file this viewer may fetch; 404 when there is none (yet) or it is not theirs to hear."""
    song = await get_song(session, song_id, viewer=viewer)
    if song.storage_key is None or song.sha256 is None:
        raise NotFound("this song has no playable file", code="audio_not_available")
    return song


async def list_contest_songs(
    session: AsyncSession, *, contest_id: int, include_drafts: bool, limit: int, offset: int
) -> Sequence[Song]:
    contest = await session.get(Contest, contest_id)
    if contest is None or (contest.status == ContestStatus.DRAFT and not include_drafts):
        raise NotFound("no such contest", code="contest_not_found")
    query = (
        select(Song)
        .where(Song.contest_id == contest_id, Song.status == SongStatus.APPROVED)
        .order_by(Song.created_at, Song.id)
    )
    return (await session.scalars(query.limit(limit).offset(offset))).all()


async def list_own_songs(
    session: AsyncSession, *, contestant_id: int, contest_id: int | None, limit: int, offset: int
) -> Sequence[Song]:
    query = select(Song).where(Song.contestant_id == contestant_id)
    if contest_id is not None:
        query = query.where(Song.contest_id == contest_id)
    query = query.order_by(Song.created_at.desc(), Song.id.desc())
    return (await session.scalars(query.limit(limit).offset(offset))).all()


async def list_for_review(
    session: AsyncSession, *, status: str, contest_id: int | None, limit: int, offset: int
) -> Sequence[Song]:
    query = select(Song).where(Song.status == status)
    if contest_id is not None:
        query = query.where(Song.contest_id == contest_id)
    query = query.order_by(Song.created_at, Song.id)
    return (await session.scalars(query.limit(limit).offset(offset))).all()


# --- decisions ----------------------------------------------------------------------------------------------


async def withdraw_song(session: AsyncSession, *, song_id: int, contestant_id: int, now: datetime) -> Song:
    """The owner takes a song out of the contest before voting opens; the record and its file are kept."""
    song = await session.scalar(select(Song).where(Song.id == song_id).with_for_update())
    if song is None or song.contestant_id != contestant_id:
        raise NotFound("no such song", code="song_not_found")
    contest = await session.get(Contest, song.contest_id)
    assert contest is not None
    if now >= contest.voting_opens_at:
        raise Conflict("voting has opened: songs can no longer be withdrawn", code="voting_started")
    if song.status not in WITHDRAWABLE_STATUSES:
        raise Conflict(f"a {song.status} song cannot be withdrawn", code="cannot_withdraw")
    previous = song.status
    song.status = SongStatus.WITHDRAWN
    song.status_reason = "You withdrew this song."
    audit.record(
        session,
        actor_id=contestant_id,
        action="song.withdraw",
        target_type="song",
        target_id=song.id,
        details={"from": previous},
    )
    await session.commit()
    return song


async def moderate_song(
    session: AsyncSession, *, song_id: int, moderator_id: int, approve: bool, reason: str | None
) -> Song:
    """A moderator's decision: approve or reject a song pending review, or take an approved song down."""
    song = await session.scalar(select(Song).where(Song.id == song_id).with_for_update())
    if song is None:
        raise NotFound("no such song", code="song_not_found")
    reason = _clean_text(reason or "") or None
    if approve:
        if song.status != SongStatus.PENDING_REVIEW:
            raise Conflict(
                f"only songs pending review can be approved (this one is {song.status})",
                code="invalid_transition",
            )
        if song.storage_key is None:
            raise Conflict("this song has no stored file to publish", code="audio_not_available")
        new_status, shown = SongStatus.APPROVED, None
    else:
        if song.status not in (SongStatus.PENDING_REVIEW, SongStatus.APPROVED):
            raise Conflict(
                f"only songs pending review or approved can be rejected (this one is {song.status})",
                code="invalid_transition",
            )
        if reason is None:
            raise InvalidInput(
                "say why the song is rejected: the contestant will read it", code="reason_required"
            )
        new_status, shown = SongStatus.REJECTED, _clip(reason)
    previous = song.status
    song.status = new_status
    song.status_reason = shown
    audit.record(
        session,
        actor_id=moderator_id,
        action="song.approve" if approve else "song.reject",
        target_type="song",
        target_id=song.id,
        details={"from": previous, "reason": reason},
    )
    request_after_commit(session, recompute_job(song.contest_id))  # the song joins or leaves the board
    await session.commit()
    return song
