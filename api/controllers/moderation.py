from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user, requires_role
from api.params import Limit, Offset, RecordId, VoteId
from api.presenters import case_appeal_out, case_out, reviewed_vote_out, vote_out
from api.schemas import (
    CaseDecisionRequest,
    CaseDetailOut,
    CaseOut,
    DecisionOut,
    VoidAccountRequest,
    VoteDecisionRequest,
    VoteOut,
)
from core.models import Role, utcnow
from core.services import moderation
from core.services.moderation import Decision
from core.votes import appeals

CaseKey = Annotated[str, Parameter(min_length=3, max_length=96)]


class ModerationController(Controller):
    path = "/api/moderation"
    tags = ["moderation"]
    guards = [requires_role(Role.MODERATOR, Role.ADMIN)]

    @get("/contests/{contest_id:int}/cases", operation_id="listCases")
    async def list_cases(
        self,
        contest_id: RecordId,
        db: NamedDependency[AsyncSession],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[CaseOut]:
        """Suspicious votes grouped by what links them, largest first, with reasons and leaderboard effect."""
        cases = await moderation.list_cases(db, contest_id=contest_id, limit=limit, offset=offset)
        appealed = await appeals.appeal_counts(
            db, contest_id=contest_id, case_keys=[case.key for case in cases]
        )
        return [case_out(case, appeals=appealed.get(case.key, 0)) for case in cases]

    @get("/contests/{contest_id:int}/case", operation_id="getCase")
    async def get_case(
        self, contest_id: RecordId, key: CaseKey, db: NamedDependency[AsyncSession]
    ) -> CaseDetailOut:
        """One case with each of its votes, their network, device and GeoIP data, reasons and evidence, and
        the voters' appeals (they see the note of the decision)."""
        case, votes = await moderation.get_case(db, contest_id=contest_id, case_key=key)
        appealed = await appeals.appeals_of_votes(db, [vote.id for vote in votes])
        return CaseDetailOut(
            case=case_out(case, appeals=len(appealed)),
            votes=[reviewed_vote_out(vote) for vote in votes],
            appeals=[case_appeal_out(appeal) for appeal in appealed],
        )

    @post("/contests/{contest_id:int}/case/decision", operation_id="decideCase", status_code=HTTP_200_OK)
    async def decide_case(
        self,
        request: Request[Any, Any, Any],
        contest_id: RecordId,
        data: JSONBody[CaseDecisionRequest],
        db: NamedDependency[AsyncSession],
    ) -> DecisionOut:
        """Confirm (reject every vote of the case) or clear it (count them), with a note."""
        decided = await moderation.decide_case(
            db,
            contest_id=contest_id,
            case_key=data.key,
            decision=Decision(data.decision),
            moderator_id=current_user(request).id,
            note=data.note,
            now=utcnow(),
        )
        return DecisionOut(votes=decided, decision=data.decision)

    @post("/votes/{vote_id:int}/decision", operation_id="decideVote", status_code=HTTP_200_OK)
    async def decide_vote(
        self,
        request: Request[Any, Any, Any],
        vote_id: VoteId,
        data: JSONBody[VoteDecisionRequest],
        db: NamedDependency[AsyncSession],
    ) -> VoteOut:
        vote = await moderation.decide_vote(
            db,
            vote_id=vote_id,
            decision=Decision(data.decision),
            moderator_id=current_user(request).id,
            note=data.note,
            now=utcnow(),
        )
        return vote_out(vote)

    @post("/users/{user_id:int}/void", operation_id="voidAccount", status_code=HTTP_200_OK)
    async def void_account(
        self,
        request: Request[Any, Any, Any],
        user_id: RecordId,
        data: JSONBody[VoidAccountRequest],
        db: NamedDependency[AsyncSession],
    ) -> DecisionOut:
        """Reject every vote of an account, and ban it if asked."""
        voided = await moderation.void_account(
            db,
            user_id=user_id,
            moderator_id=current_user(request).id,
            note=data.note,
            ban=data.ban,
            now=utcnow(),
        )
        return DecisionOut(votes=voided, decision="void_and_ban" if data.ban else "void")
