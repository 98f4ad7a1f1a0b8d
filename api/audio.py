"""Serving stored audio over HTTP: conditional requests (ETag, Last-Modified) and single byte ranges.

Browsers' audio elements seek with ``Range: bytes=N-``; podcast-style clients ask for suffixes
(``bytes=-N``). One range per request is served (206); a request for several ranges gets the whole file
(200), which RFC 9110 allows and every client accepts. A syntactically invalid Range header is ignored
(200), a range that starts past the end is refused (416 with ``Content-Range: bytes */size``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.response import Stream

from core.errors import NotFound
from uploads import KeyNotFound, Storage

_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(Exception):
    pass


@dataclass(frozen=True, slots=True)
class AudioFile:
    key: str
    sha256: str
    mime_type: str
    last_modified: datetime
    filename: str
    public: bool  # cacheable by shared caches (approved songs only)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range ``(start, end)`` inclusive to serve, None for the whole file.

    Raises :class:`RangeNotSatisfiable` when the range is valid but lies outside the file.
    """
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    specs = header.strip()[6:].split(",")
    if len(specs) != 1:
        return None  # several ranges: the whole file is a valid answer
    match = _RANGE.match(specs[0])
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid syntax: ignored
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and int(last_modified.timestamp()) <= int(since.timestamp())


def _content_disposition(name: str) -> str:
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def audio_response(request: Request[Any, Any, Any], storage: Storage, audio: AudioFile) -> Response[Any]:
    try:
        size = storage.size(audio.key)
    except KeyNotFound:
        raise NotFound("this song's file is missing from storage", code="audio_not_available") from None
    etag = f'"{audio.sha256}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": format_datetime(audio.last_modified, usegmt=True),
        "Cache-Control": "public, max-age=300" if audio.public else "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if_none_match = request.headers.get("if-none-match")
    if_modified_since = request.headers.get("if-modified-since")
    if (if_none_match is not None and _etag_matches(if_none_match, etag)) or (
        if_none_match is None
        and if_modified_since is not None
        and _not_modified_since(if_modified_since, audio.last_modified)
    ):
        return Response(content=b"", status_code=304, headers=headers)

    headers["Content-Disposition"] = _content_disposition(audio.filename)
    requested = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if requested and if_range is not None and if_range.strip() != etag:
        requested = None  # the client's copy is outdated: send the whole current file
    try:
        byte_range = parse_range(requested, size)
    except RangeNotSatisfiable:
        return Response(
            content={
                "status_code": 416,
                "code": "range_not_satisfiable",
                "detail": f"the requested range is outside the file ({size} bytes)",
            },
            status_code=416,
            media_type=MediaType.JSON,
            headers={**headers, "Content-Range": f"bytes */{size}"},
        )
    if byte_range is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = byte_range, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    chunks = storage.open_range(audio.key, start, end) if size else iter(())
    return Stream(chunks, status_code=status, media_type=audio.mime_type, headers=headers)
