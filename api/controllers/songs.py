"""Songs: streamed upload, status, listing, withdrawal, playback with ranges, and moderation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import unquote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, InternalServerException
from litestar.params import HeaderParameter, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from api.audio import AudioFile, audio_response
from api.auth import PUBLIC_READ, current_user, optional_user, requires_role
from api.csrf import check_header_token
from api.openapi import error_responses
from api.params import Limit, Offset, OptionalRecordId, RecordId
from api.presenters import my_song_out, song_for_viewer, song_out, song_review_out, song_submitted
from api.schemas import (
    ModerationDecision,
    MySongOut,
    Page,
    SongMetadata,
    SongOut,
    SongReviewOut,
    SongSubmitted,
)
from core.errors import InvalidInput
from core.models import Role, SongStatus, utcnow
from core.songs import decisions, queries, submission
from core.songs.submission import SongDetails
from uploads import clean_display_name

# The route's own ceiling (the largest max_file_bytes a contest may set); each contest's cap is enforced
# while the body streams. Every other route keeps the app-wide 1 MiB.
MAX_UPLOAD_BYTES = 2 * 1024**3
STATUS_PATTERN = "^(uploaded|processing|approved|pending_review|rejected|duplicate|withdrawn)$"

moderators = [requires_role(Role.MODERATOR, Role.ADMIN)]


def _check_csrf(request: Request[Any, Any, Any]) -> None:
    """The CSRF middleware's check, header only.

    The upload route is excluded from the middleware because, without the header, the middleware parses
    multipart and url-encoded bodies to look for a form token, and that parser buffers non-file fields in
    memory: on a route that accepts 2 GiB that is a way to exhaust memory. Here the token must come in the
    header, and the body is never parsed.
    """
    check_header_token(request, request.app.state.settings.secret_key)


def _check_content_type(request: Request[Any, Any, Any]) -> None:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/octet-stream" and not content_type.startswith("audio/"):
        raise HTTPException(
            status_code=415,
            detail="send the audio file itself as the body, with Content-Type audio/* or "
            "application/octet-stream, and the song's details as JSON in the X-Song-Metadata header",
        )


def _parse_metadata(header: str, filename_header: str | None) -> SongDetails:
    # Header values arrive decoded as Latin-1; a client that sent raw UTF-8 gets its bytes back this way.
    try:
        raw = header.encode("latin-1")
    except UnicodeEncodeError:
        raw = header.encode("utf-8")
    try:
        meta = msgspec.json.decode(raw, type=SongMetadata)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"X-Song-Metadata: {exc}", code="invalid_metadata") from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"X-Song-Metadata is not valid JSON: {exc}", code="invalid_metadata") from None
    name = meta.filename
    if name is None and filename_header:
        name = unquote(filename_header[:4096], errors="replace")  # percent-encoded UTF-8
    return SongDetails(
        title=meta.title,
        artist_name=meta.artist_name,
        genre=meta.genre,
        description=meta.description,
        credits=msgspec.to_builtins(meta.credits),
        license=meta.license,
        original_filename=clean_display_name(name),
    )


def _declared_size(request: Request[Any, Any, Any]) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


async def _body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except InternalServerException as exc:  # the client went away mid-upload
        raise InvalidInput(
            "the upload was interrupted before the whole file arrived", code="upload_interrupted"
        ) from exc


class SongController(Controller):
    tags = ["songs"]

    @post(
        "/api/contests/{contest_id:int}/songs",
        operation_id="submitSong",
        responses=error_responses(409),
        status_code=HTTP_202_ACCEPTED,
        guards=[requires_role(Role.CONTESTANT)],
        request_max_body_size=MAX_UPLOAD_BYTES,
        # CSRF is checked in the handler, header only (see _check_csrf); the body is the audio file itself.
        opt={
            "exclude_from_csrf": True,
            "raw_body": ["audio/*", "application/octet-stream"],
            "json_headers": {"X-Song-Metadata": SongMetadata},
        },
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        contest_id: RecordId,
        db: NamedDependency[AsyncSession],
        metadata: Annotated[str, HeaderParameter(name="X-Song-Metadata", max_length=32_768)],
        filename: Annotated[str | None, HeaderParameter(name="X-Filename", max_length=4096)] = None,
    ) -> Response[SongSubmitted]:
        """Submit a song: the body is the audio file, streamed to storage; details in ``X-Song-Metadata``.

        The role, the submission window and the entry limit are checked before the body is read; a body
        over the contest's ``max_file_bytes`` is refused with 413 as soon as it passes the limit. The answer
        (202) gives the song's id and status URL; the media worker then approves, rejects or flags it.
        """
        _check_content_type(request)
        _check_csrf(request)
        details = _parse_metadata(metadata, filename)
        song = await submission.submit_song(
            db,
            state.storage,
            contest_id=contest_id,
            contestant=current_user(request),
            details=details,
            body=_body(request),
            declared_size=_declared_size(request),
            now=utcnow(),
        )
        out = song_submitted(song)
        return Response(out, status_code=HTTP_202_ACCEPTED, headers={"Location": out.status_url})

    @get("/api/contests/{contest_id:int}/songs", operation_id="listContestSongs", opt=PUBLIC_READ)
    async def list_for_contest(
        self,
        request: Request[Any, Any, Any],
        contest_id: RecordId,
        db: NamedDependency[AsyncSession],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """Approved songs of a contest, in submission order."""
        viewer = await optional_user(request)
        rows = await queries.list_contest_songs(
            db,
            contest_id=contest_id,
            include_drafts=viewer is not None and viewer.has_role(Role.ADMIN),
            limit=limit,
            offset=offset,
        )
        return Page(items=[song_out(row) for row in rows], limit=limit, offset=offset)

    @get("/api/songs/{song_id:int}", operation_id="getSong", opt=PUBLIC_READ)
    async def get_song(
        self, request: Request[Any, Any, Any], song_id: RecordId, db: NamedDependency[AsyncSession]
    ) -> SongOut | MySongOut | SongReviewOut:
        """A song: approved ones for everyone; with status and reason for its owner; with evidence for
        moderators."""
        viewer = await optional_user(request)
        song = await queries.get_song(db, song_id, viewer=viewer)
        return song_for_viewer(song, viewer)

    @get(
        "/api/songs/{song_id:int}/audio",
        operation_id="getSongAudio",
        opt={**PUBLIC_READ, "binary_answer": "audio/*"},
    )
    async def audio(
        self,
        request: Request[Any, Any, Any],
        state: State,
        song_id: RecordId,
        db: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """The song's file, with Range (206), ETag/Last-Modified (304). Approved songs for everyone; other
        songs only for their owner and moderators (404 for anyone else)."""
        viewer = await optional_user(request)
        song = await queries.get_audio(db, song_id, viewer=viewer)
        assert song.storage_key is not None
        assert song.sha256 is not None
        audio = AudioFile(
            key=song.storage_key,
            sha256=song.sha256,
            mime_type=song.mime_type or "application/octet-stream",
            last_modified=song.processed_at or song.created_at,
            filename=song.original_filename or f"song-{song.id}",
            public=song.status == SongStatus.APPROVED,
        )
        return audio_response(request, state.storage, audio)

    @get("/api/me/songs", operation_id="listMySongs")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contest_id: OptionalRecordId = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """The current user's submissions, newest first, with status and the reason for it."""
        rows = await queries.list_own_songs(
            db, contestant_id=current_user(request).id, contest_id=contest_id, limit=limit, offset=offset
        )
        return Page(items=[my_song_out(row) for row in rows], limit=limit, offset=offset)

    @post(
        "/api/songs/{song_id:int}/withdraw",
        operation_id="withdrawSong",
        responses=error_responses(409),
        status_code=HTTP_200_OK,
    )
    async def withdraw(
        self, request: Request[Any, Any, Any], song_id: RecordId, db: NamedDependency[AsyncSession]
    ) -> MySongOut:
        """Withdraw one of your songs before voting opens (it is kept, with status withdrawn)."""
        song = await decisions.withdraw_song(
            db, song_id=song_id, contestant_id=current_user(request).id, now=utcnow()
        )
        return my_song_out(song)


class SongModerationController(Controller):
    path = "/api/moderation/songs"
    tags = ["moderation"]
    guards = moderators

    @get("/", operation_id="listSongsForReview")
    async def list_for_review(
        self,
        db: NamedDependency[AsyncSession],
        status: Annotated[str, Parameter(pattern=STATUS_PATTERN)] = SongStatus.PENDING_REVIEW.value,
        contest_id: OptionalRecordId = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """Songs in one status (default: pending review), oldest first, with the checks' evidence."""
        rows = await queries.list_for_review(
            db, status=status, contest_id=contest_id, limit=limit, offset=offset
        )
        return Page(items=[song_review_out(row) for row in rows], limit=limit, offset=offset)

    @post(
        "/{song_id:int}/approve",
        operation_id="approveSong",
        responses=error_responses(409),
        status_code=HTTP_200_OK,
    )
    async def approve(
        self,
        request: Request[Any, Any, Any],
        song_id: RecordId,
        data: JSONBody[ModerationDecision],
        db: NamedDependency[AsyncSession],
    ) -> SongReviewOut:
        """Publish a song pending review (audited)."""
        song = await decisions.moderate_song(
            db, song_id=song_id, moderator_id=current_user(request).id, approve=True, reason=data.reason
        )
        return song_review_out(song)

    @post(
        "/{song_id:int}/reject",
        operation_id="rejectSong",
        responses=error_responses(409),
        status_code=HTTP_200_OK,
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        song_id: RecordId,
        data: JSONBody[ModerationDecision],
        db: NamedDependency[AsyncSession],
    ) -> SongReviewOut:
        """Reject a song pending review, or take an approved one down; the reason is shown to the contestant
        (audited)."""
        song = await decisions.moderate_song(
            db, song_id=song_id, moderator_id=current_user(request).id, approve=False, reason=data.reason
        )
        return song_review_out(song)
