"""Reading songs: who may see and hear which song, and the lists the pages show."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.models import Contest, ContestStatus, Role, Song, SongStatus, User


def is_moderator(user: User | None) -> bool:
    return user is not None and user.has_role(Role.MODERATOR, Role.ADMIN)


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
