"""Decisions on a song after processing: the owner withdraws it before voting opens; a moderator approves or
rejects a song pending review, or takes an approved one down. Each is audited and, where the board changes,
requests a recount."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from core.jobs import recompute_job, request_after_commit
from core.models import Contest, Song, SongStatus
from core.services import audit
from core.songs.text import clean_text, clip

WITHDRAWABLE_STATUSES = (
    SongStatus.UPLOADED.value,
    SongStatus.PROCESSING.value,
    SongStatus.APPROVED.value,
    SongStatus.PENDING_REVIEW.value,
)


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
    reason = clean_text(reason or "") or None
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
        new_status, shown = SongStatus.REJECTED, clip(reason)
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
