"""The verdict on a file that decoded and met the contest's rules: an exact copy of an earlier song of the
contest is a duplicate; the same file in another contest, or a near-duplicate by fingerprint in this one, goes
to a moderator; anything else is approved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Song, SongStatus
from core.songs.inspection import Inspection, decode_fingerprint
from uploads import find_near_duplicates


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


async def decide(
    session: AsyncSession, song: Song, inspection: Inspection, evidence: dict[str, Any]
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
