from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user, requires_role
from api.openapi import error_responses
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
from core.services import forensics, moderation
from core.services.moderation import Decision
from core.votes import appeals

CaseKey = Annotated[str, Parameter(min_length=3, max_length=96)]

_EXPORT_RESPONSE = ResponseSpec(
    data_container=dict[str, Any],
    description="JSON {contest_id, fields, items: [...]} or, with format=csv, text/csv with the same columns "
    "(one row per vote; nested evidence as JSON)",
)


async def _batches(state: State, contest_id: int) -> AsyncIterator[list[dict[str, Any]]]:
    # A session of the download's own: the request's is closed before the body has been sent.
    async with state.sessionmaker() as session:
        async for batch in forensics.flagged_votes(session, contest_id):
            yield batch


async def _export_csv(state: State, contest_id: int) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(forensics.FORENSIC_FIELDS)
    async for batch in _batches(state, contest_id):
        for row in batch:
            writer.writerow([forensics.csv_value(row[name]) for name in forensics.FORENSIC_FIELDS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


async def _export_json(state: State, contest_id: int) -> AsyncIterator[str]:
    yield json.dumps({"contest_id": contest_id, "fields": forensics.FORENSIC_FIELDS})[:-1] + ', "items": ['
    first = True
    async for batch in _batches(state, contest_id):
        for row in batch:
            yield ("" if first else ",") + json.dumps(row, ensure_ascii=False)
            first = False
    yield "]}"


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

    @get(
        "/contests/{contest_id:int}/votes/export",
        operation_id="exportFlaggedVotes",
        responses={200: _EXPORT_RESPONSE, **error_responses(400, 401, 403, 404, 429)},
        opt={"csv_answer": True},
    )
    async def export_flagged_votes(
        self,
        state: State,
        contest_id: RecordId,
        db: NamedDependency[AsyncSession],
        format: Annotated[str, Parameter(pattern="^(json|csv)$")] = "json",
    ) -> Stream:
        """Forensic export, as a download: every flagged vote of the contest (held for review, decided by a
        moderator, or linked to a case) with its network, device and GeoIP data, its reasons with
        evidence, and the review."""
        await forensics.check_contest(db, contest_id)
        name = f"contest-{contest_id}-flagged-votes.{format}"
        rows = _export_csv(state, contest_id) if format == "csv" else _export_json(state, contest_id)
        return Stream(
            rows,
            media_type="text/csv" if format == "csv" else MediaType.JSON,  # Litestar adds the charset
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "private, no-store",
            },
        )

    @post(
        "/votes/{vote_id:int}/decision",
        operation_id="decideVote",
        responses=error_responses(409),
        status_code=HTTP_200_OK,
    )
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
