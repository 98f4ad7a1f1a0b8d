"""Leaderboards: public pages of a board, one song's standing, history, a live feed; results for staff."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_304_NOT_MODIFIED
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC_READ, optional_user, requires_role
from api.deps import send_jobs
from api.openapi import error_responses
from api.params import Limit, Offset, OptionalRecordId, RecordId
from api.presenters import board_out, history_out, results_out, standing_out
from api.schemas import BoardCountriesOut, BoardOut, HistoryOut, ResultsOut, StandingOut
from core.errors import DomainError
from core.jobs import take_committed
from core.leaderboard import compute, countries, read, reports
from core.leaderboard.cache import BoardCache, BoardDoc, open_board_cache
from core.leaderboard.read import RulesMemo
from core.leaderboard.reports import RESULT_FIELDS
from core.leaderboard.rules import Access, access, parse_country
from core.models import Role, User, utcnow
from core.settings import Settings

staff_only = [requires_role(Role.MODERATOR, Role.ADMIN)]
admin_only = [requires_role(Role.ADMIN)]

CountryParam = Annotated[
    str | None, Parameter(max_length=16, description="ISO 3166 alpha-2 code; omit for the global board")
]
FEED_KEEPALIVE_SECONDS = 15.0


@dataclass
class BoardContext:
    """Per API process: the board cache client and the briefly cached contest rules."""

    cache: BoardCache
    rules: RulesMemo

    @classmethod
    def open(cls, settings: Settings) -> BoardContext:
        return cls(open_board_cache(settings), RulesMemo())


def board_context(state: State) -> BoardContext:
    context: BoardContext = state.leaderboard  # built in the app's lifespan
    return context


def _is_staff(user: User | None) -> bool:
    return user is not None and user.has_role(Role.MODERATOR.value, Role.ADMIN.value)


async def _access(request: Request[Any, Any, Any], db: AsyncSession, contest_id: int) -> Access:
    viewer = await optional_user(request)
    rules = await board_context(request.app.state).rules.get(db, contest_id)
    return access(
        rules,
        staff=_is_staff(viewer),
        admin=viewer is not None and viewer.has_role(Role.ADMIN.value),
        now=utcnow(),
    )


def _matches(request: Request[Any, Any, Any], etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in given.split(",")}
    return etag in tags or "*" in tags


def _cache_headers(access: Access, etag: str) -> dict[str, str]:
    # Staff see the live board, which the public must not get from a shared cache.
    control = "private, no-cache" if access.staff else "public, max-age=2"
    return {"ETag": etag, "Cache-Control": control, "Vary": "Cookie"}


def _conditional(request: Request[Any, Any, Any], access: Access, etag: str, body: Any) -> Response[Any]:
    headers = _cache_headers(access, etag)
    if _matches(request, etag):
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=body, headers=headers)


class LeaderboardController(Controller):
    path = "/api/contests/{contest_id:int}/leaderboard"
    tags = ["leaderboards"]

    @get("/", operation_id="getLeaderboard", opt=PUBLIC_READ)
    async def board(
        self,
        request: Request[Any, Any, Any],
        contest_id: RecordId,
        db: NamedDependency[AsyncSession],
        limit: Limit = 20,
        offset: Offset = 0,
        country: CountryParam = None,
    ) -> Response[BoardOut]:
        """A page of the board in rank order (ties: earlier submission first). ETag + If-None-Match."""
        access = await _access(request, db, contest_id)
        code = parse_country(country)
        cache = board_context(request.app.state).cache
        doc = await read.load_board(db, cache, contest_id, access.view, code, now=utcnow())
        etag = f'"{access.view}-{doc.version}-{code or "all"}-{limit}-{offset}"'
        body = board_out(contest_id, code, access, doc, limit=limit, offset=offset)
        return _conditional(request, access, etag, body)

    @get("/songs/{song_id:int}", operation_id="getLeaderboardStanding", opt=PUBLIC_READ)
    async def standing(
        self,
        request: Request[Any, Any, Any],
        contest_id: RecordId,
        song_id: RecordId,
        db: NamedDependency[AsyncSession],
        country: CountryParam = None,
    ) -> Response[StandingOut]:
        """One song's rank and votes, and how many songs share its rank."""
        access = await _access(request, db, contest_id)
        code = parse_country(country)
        cache = board_context(request.app.state).cache
        doc = await read.load_board(db, cache, contest_id, access.view, code, now=utcnow())
        standing = await read.song_standing(db, doc, contest_id, song_id, code)
        etag = f'"{access.view}-{doc.version}-{code or "all"}-song{song_id}"'
        return _conditional(
            request, access, etag, standing_out(contest_id, code, access, doc.version, standing)
        )

    @get(
        "/countries",
        operation_id="listLeaderboardCountries",
        opt=PUBLIC_READ,
        responses=error_responses(400, 403, 404, 429),
    )
    async def list_countries(
        self, request: Request[Any, Any, Any], contest_id: RecordId, db: NamedDependency[AsyncSession]
    ) -> BoardCountriesOut:
        """The countries with a board of their own (counted votes came from there), for a country picker."""
        await _access(request, db, contest_id)  # a hidden board hides this too
        codes = await countries.countries_with_votes(db, contest_id)
        return BoardCountriesOut(contest_id=contest_id, countries=codes)

    @get("/history", operation_id="getLeaderboardHistory", opt=PUBLIC_READ)
    async def history(
        self,
        request: Request[Any, Any, Any],
        contest_id: RecordId,
        db: NamedDependency[AsyncSession],
        song_id: OptionalRecordId = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        top: Annotated[int, Parameter(ge=1, le=100)] = 10,
    ) -> HistoryOut:
        """Snapshots of the global board over time, oldest first: one song's rank, or the top ``top``."""
        access = await _access(request, db, contest_id)
        points = await reports.history(
            db, contest_id, song_id=song_id, until=access.frozen_at, limit=limit, top=top
        )
        return history_out(contest_id, song_id, access, points)

    @get("/feed", operation_id="leaderboardFeed", opt=PUBLIC_READ)
    async def feed(
        self,
        request: Request[Any, Any, Any],
        contest_id: RecordId,
        state: State,
        limit: Limit = 10,
        country: CountryParam = None,
    ) -> ServerSentEvent:
        """Server-Sent Events: a ``board`` event with the top ``limit`` now, and again whenever it changes."""
        code = parse_country(country)
        viewer = await optional_user(request)
        async with _session(state) as db:
            await _access(request, db, contest_id)  # refuse before the stream starts
        return ServerSentEvent(_board_events(state, viewer, contest_id, code, limit))

    @get(
        "/results",
        operation_id="exportLeaderboardResults",
        guards=staff_only,
        media_type=MediaType.JSON,
    )
    async def results(
        self,
        contest_id: RecordId,
        db: NamedDependency[AsyncSession],
        format: Annotated[str, Parameter(pattern="^(json|csv)$")] = "json",
    ) -> Response[Any]:
        """Per song: weighted counted votes, rank, and valid / cleared / pending / suspicious / rejected /
        retracted counts, counted from the votes now."""
        now = utcnow()
        rows = await reports.results(db, contest_id)
        if format == "json":
            body: ResultsOut = results_out(contest_id, rows, now)
            return Response(content=body, headers={"Cache-Control": "private, no-store"})
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(RESULT_FIELDS)
        for row in rows:
            writer.writerow(
                ["" if value is None else value for value in (getattr(row, f) for f in RESULT_FIELDS)]
            )
        return Response(
            content=out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="contest-{contest_id}-results.csv"',
                "Cache-Control": "private, no-store",
            },
        )

    @post("/recompute", operation_id="recomputeLeaderboard", guards=admin_only, status_code=HTTP_202_ACCEPTED)
    async def recompute(self, contest_id: RecordId, db: NamedDependency[AsyncSession]) -> dict[str, Any]:
        """Ask the leaderboard worker to recompute this contest's boards now."""
        await compute.request_recompute(db, contest_id)
        return {"contest_id": contest_id, "requested": True}


@asynccontextmanager
async def _session(state: State) -> AsyncIterator[AsyncSession]:
    """A session of the feed's own (it outlives the request's); jobs it asked for are sent after commit."""
    async with state.sessionmaker() as session:
        yield session
        jobs = take_committed(session)
    await send_jobs(state, jobs)


async def _board_events(
    state: State, viewer: User | None, contest_id: int, country: str, limit: int
) -> AsyncGenerator[ServerSentEventMessage, None]:
    context = board_context(state)
    staff = _is_staff(viewer)
    admin = viewer is not None and viewer.has_role(Role.ADMIN.value)
    sent: tuple[str, int] | None = None
    async with context.cache.subscribe(contest_id) as changes:
        while True:
            try:
                async with _session(state) as db:
                    rules = await context.rules.get(db, contest_id)
                    allowed = access(rules, staff=staff, admin=admin, now=utcnow())
                    doc: BoardDoc = await read.load_board(
                        db, context.cache, contest_id, allowed.view, country, now=utcnow()
                    )
            except DomainError as exc:  # hidden meanwhile, or the contest is gone
                yield ServerSentEventMessage(
                    event="closed", data=msgspec.json.encode({"code": exc.code}).decode()
                )
                return
            if sent != (allowed.view, doc.version):
                sent = (allowed.view, doc.version)
                body = board_out(contest_id, country, allowed, doc, limit=limit, offset=0)
                yield ServerSentEventMessage(
                    event="board", id=f"{allowed.view}-{doc.version}", data=msgspec.json.encode(body).decode()
                )
            if not await changes.wait(FEED_KEEPALIVE_SECONDS):
                yield ServerSentEventMessage(comment="keepalive")
