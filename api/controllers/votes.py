from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import SIGNED_IN_SESSION, current_user, session_user_id
from api.deps import send_jobs
from api.params import Limit, Offset, OptionalRecordId, RecordId, VoteId
from api.presenters import vote_out
from api.ratelimit import ADDRESS_LIMIT_ON_ROUTE
from api.schemas import Page, RemainingOut, VoteOut, VoteRequest
from core.devices import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, new_device_cookie, verify_device_cookie
from core.errors import InvalidInput
from core.jobs import scoring_job
from core.models import utcnow
from core.net import network_prefix, normalize_ip
from core.votes import own
from core.votes.ballot import Ballot, VoteContext
from core.votes.writers import VoteWriter

FINGERPRINT_PATTERN = re.compile(r"^[A-Za-z0-9+/=_-]{8,128}$")


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _clean_fingerprint(value: str | None) -> str | None:
    # Garbage is not an error (old browsers, blockers): it is recorded as missing, which scoring notes.
    return value if value and FINGERPRINT_PATTERN.match(value) else None


def _header(request: Request[Any, Any, Any], name: str, limit: int) -> str | None:
    value = request.headers.get(name)
    return value[:limit] if value else None


class VoteController(Controller):
    tags = ["votes"]

    # The hottest path of the platform: the auth middleware's account load is skipped (the session is still
    # read); the vote writer reads the account with the contest's rules (core.votes.writers).
    @post(
        "/api/contests/{contest_id:int}/votes",
        operation_id="castVote",
        status_code=HTTP_201_CREATED,
        # The vote limiter takes the per-address budget too, in the same Redis call (api/ratelimit.py).
        opt={**SIGNED_IN_SESSION, ADDRESS_LIMIT_ON_ROUTE: True},
    )
    async def cast(
        self,
        request: Request[Any, Any, Any],
        state: State,
        contest_id: RecordId,
        data: JSONBody[VoteRequest],
    ) -> Response[VoteOut]:
        """Vote for an approved song: recorded as pending, then scored for fraud in the background."""
        voter_id = session_user_id(request)
        ip = normalize_ip(request.client.host if request.client else None)
        if ip is None:
            raise InvalidInput(
                "the server could not determine your network address", code="client_address_unknown"
            )
        secret = state.settings.secret_key
        device_id = verify_device_cookie(request.cookies.get(DEVICE_COOKIE), secret)
        cookies = []
        if device_id is None:
            device_id, cookie_value = new_device_cookie(secret)
            cookies.append(
                Cookie(
                    key=DEVICE_COOKIE,
                    value=cookie_value,
                    max_age=DEVICE_COOKIE_MAX_AGE,
                    httponly=True,
                    samesite="lax",
                    secure=state.settings.http.secure_cookies,
                )
            )
        timezone = data.timezone if data.timezone in _known_timezones() else None
        context = VoteContext(
            ip=ip,
            network_prefix=network_prefix(ip),
            user_agent=_header(request, "user-agent", 512),
            fingerprint=_clean_fingerprint(data.fingerprint),
            device_cookie_id=device_id,
            accept_language=_header(request, "accept-language", 256),
            client_timezone=timezone,
            geo=state.geo.lookup(ip),
        )
        ballot = Ballot(contest_id, data.song_id, voter_id, context, utcnow())
        # Checks that refuse a vote before it reaches the database (a proof-of-work challenge, say) belong
        # here: after the request is parsed, before the writer. A refusal raised here costs no round trip
        # and never enters a batch.
        writer: VoteWriter = state.vote_writer
        vote = await writer.cast(ballot)  # committed when it returns; refusals raise DomainError
        await send_jobs(state, [scoring_job(contest_id)])
        return Response(vote_out(vote, vote.retractable_until), status_code=HTTP_201_CREATED, cookies=cookies)

    @get("/api/contests/{contest_id:int}/votes/remaining", operation_id="getRemainingVotes")
    async def remaining(
        self, request: Request[Any, Any, Any], contest_id: RecordId, db: NamedDependency[AsyncSession]
    ) -> RemainingOut:
        """Votes the current voter has left today in this contest, and songs already at their limit."""
        left = await own.remaining_votes(
            db, contest_id=contest_id, voter_id=current_user(request).id, now=utcnow()
        )
        return RemainingOut(
            day=left.day,
            votes_left_today=left.votes_left_today,
            votes_per_day=left.votes_per_day,
            votes_per_song_per_day=left.votes_per_song_per_day,
            songs_at_limit=left.songs_at_limit,
        )

    @get("/api/me/votes", operation_id="listMyVotes")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contest_id: OptionalRecordId = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """The current voter's votes with their status and, when under review, why in plain words."""
        rows = await own.my_votes(
            db, voter_id=current_user(request).id, contest_id=contest_id, limit=limit, offset=offset
        )
        items = [vote_out(own.vote, own.retractable_until) for own in rows]
        return Page(items=items, limit=limit, offset=offset)

    @post("/api/votes/{vote_id:int}/retract", operation_id="retractVote", status_code=HTTP_200_OK)
    async def retract(
        self, request: Request[Any, Any, Any], vote_id: VoteId, db: NamedDependency[AsyncSession]
    ) -> VoteOut:
        """Take a vote back within the retraction window: it is kept, marked and no longer counted."""
        vote = await own.retract_vote(db, vote_id=vote_id, voter_id=current_user(request).id, now=utcnow())
        return vote_out(vote)
