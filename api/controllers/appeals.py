"""A voter's appeals against the hold on their votes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user
from api.openapi import error_responses
from api.params import Limit, Offset, VoteId
from api.presenters import appeal_out
from api.schemas import AppealOut, AppealRequest, Page
from core.models import utcnow
from core.votes import appeals


class AppealController(Controller):
    tags = ["votes"]

    @post(
        "/api/votes/{vote_id:int}/appeal",
        operation_id="appealVote",
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 403, 404, 409),
    )
    async def appeal(
        self,
        request: Request[Any, Any, Any],
        vote_id: VoteId,
        data: JSONBody[AppealRequest],
        db: NamedDependency[AsyncSession],
    ) -> AppealOut:
        """Appeal a vote of yours that is held for review, once, with a short note for the moderator
        (409 vote_not_held or already_appealed otherwise). The decision and its note show in your appeals."""
        made = await appeals.appeal_vote(
            db, vote_id=vote_id, voter_id=current_user(request).id, note=data.note, now=utcnow()
        )
        return appeal_out(made)

    @get("/api/me/appeals", operation_id="listMyAppeals", responses=error_responses(400, 401))
    async def mine(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """Your appeals, newest first: waiting, or decided (counted or not) with the moderator's note."""
        rows = await appeals.my_appeals(db, voter_id=current_user(request).id, limit=limit, offset=offset)
        return Page(items=[appeal_out(row) for row in rows], limit=limit, offset=offset)
