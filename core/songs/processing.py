"""Processing by the media worker: claim a song, inspect its file, decide, and record the verdict.

* The worker claims the song (status processing, attempt + 1), inspects the file without holding a
  transaction (``inspection``), then decides in a second short transaction that locks the contest row, so that
  two songs of one contest finishing at the same time still see each other's fingerprints (``verdict``). The
  final write only applies when the song is still in the attempt this run claimed: a stale or concurrent run
  cannot overwrite a newer one.
* Everything is safe to re-run: a run that finds the song already processed returns at once; a crash leaves
  ``processing`` with ``processed_at`` NULL, which the sweeper re-requests once the claim's lease has expired.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import recompute_job, request_after_commit
from core.models import Contest, Song, SongStatus, utcnow
from core.services import audit
from core.songs.inspection import Inspection, Rules, encode_fingerprint, inspect_upload, probe_evidence
from core.songs.submission import incoming_path
from core.songs.text import clip
from core.songs.verdict import decide
from uploads import Storage, key_for_sha256

log = logging.getLogger(__name__)

# An uploaded song whose job has not started after this long had its job lost: the sweeper asks again.
STUCK_AFTER = timedelta(minutes=3)
# A claim older than this belongs to a run that died; longer than the Celery hard time limit (600 s), so a
# run that is merely slow is never doubled.
PROCESSING_LEASE = timedelta(minutes=12)
# A file that crashed the worker this many times is refused rather than retried forever.
MAX_PROCESS_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Claim:
    song_id: int
    contest_id: int
    contestant_id: int
    attempt: int
    upload_sha256: str | None
    rules: Rules


async def _claim(session: AsyncSession, storage: Storage, song_id: int, now: datetime) -> Claim | str:
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
    claim = Claim(
        song_id=song.id,
        contest_id=song.contest_id,
        contestant_id=song.contestant_id,
        attempt=song.process_attempts,
        upload_sha256=song.sha256,
        rules=Rules(
            allowed_formats=tuple(contest.allowed_formats),
            max_file_bytes=contest.max_file_bytes,
            min_duration_seconds=contest.min_duration_seconds,
            max_duration_seconds=contest.max_duration_seconds,
        ),
    )
    await session.commit()
    return claim


async def _release(session: AsyncSession, claim: Claim) -> None:
    """Hand a claimed song back after a transient error, so that the retry can claim it at once."""
    await session.rollback()
    song = await session.scalar(select(Song).where(Song.id == claim.song_id).with_for_update())
    if song is not None and song.status == SongStatus.PROCESSING and song.process_attempts == claim.attempt:
        song.status = SongStatus.UPLOADED
    await session.commit()


async def _finish(session: AsyncSession, storage: Storage, claim: Claim, inspection: Inspection) -> str:
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
        evidence["probe"] = probe_evidence(info)
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
        status, reason = await decide(session, song, inspection, evidence)
        if inspection.fingerprint is not None:
            song.fingerprint = encode_fingerprint(inspection.fingerprint)
        if inspection.from_incoming:
            song.storage_key = await asyncio.to_thread(
                storage.put_from_temp, inspection.source, inspection.sha256
            )
        else:
            song.storage_key = key_for_sha256(inspection.sha256)
    song.status = status
    song.status_reason = clip(reason) if reason else None
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
        inspection = await asyncio.to_thread(
            inspect_upload, storage, claim.song_id, claim.upload_sha256, claim.rules
        )
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
