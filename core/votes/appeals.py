"""Appeals: a voter whose vote is held for review may appeal it once, with a short note. The appeal joins the
moderator's case (the case shows its appeals); the moderator's decision on the vote, with its note, is the
answer the voter sees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from core.models import Vote, VoteAppeal, VoteStatus
from core.services import audit

NOTE_LIMIT = 500


class AppealState(StrEnum):
    WAITING = "waiting"  # the vote is still held
    COUNTED = "counted"  # cleared: the vote counts
    NOT_COUNTED = "not_counted"  # rejected: the vote does not count


@dataclass(frozen=True, slots=True)
class Appeal:
    appeal: VoteAppeal
    vote: Vote

    @property
    def state(self) -> AppealState:
        if self.vote.status in (VoteStatus.CLEARED, VoteStatus.VALID):
            return AppealState.COUNTED
        if self.vote.status == VoteStatus.REJECTED:
            return AppealState.NOT_COUNTED
        return AppealState.WAITING

    @property
    def decision_note(self) -> str | None:
        """The moderator's reason, once the vote was decided after the appeal."""
        decided = self.vote.reviewed_at
        if self.state == AppealState.WAITING or decided is None or decided < self.appeal.created_at:
            return None
        return self.vote.review_note


def _check_note(note: str) -> str:
    note = " ".join(note.split())  # one line: it is shown in a table cell
    if not note:
        raise InvalidInput("an appeal needs a short note saying why the vote is honest", code="note_required")
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(f"an appeal's note is at most {NOTE_LIMIT} characters", code="note_too_long")
    return note


async def appeal_vote(
    session: AsyncSession, *, vote_id: int, voter_id: int, note: str, now: datetime
) -> Appeal:
    """Appeal one's own held vote, once. Commits."""
    note = _check_note(note)
    vote = await session.get(Vote, vote_id)
    if vote is None or vote.voter_id != voter_id:  # another voter's vote is not found, not forbidden
        raise NotFound("no such vote of yours", code="vote_not_found")
    existing = await session.scalar(select(VoteAppeal).where(VoteAppeal.vote_id == vote_id))
    if existing is not None:
        raise Conflict("you already appealed this vote; a moderator will decide", code="already_appealed")
    if vote.status != VoteStatus.SUSPICIOUS or vote.retracted_at is not None:
        raise Conflict("only a vote held for review can be appealed", code="vote_not_held")
    appeal = VoteAppeal(vote_id=vote_id, voter_id=voter_id, note=note, created_at=now)
    session.add(appeal)
    try:
        await session.flush()
    except IntegrityError:  # a parallel appeal of the same vote won
        await session.rollback()
        raise Conflict(
            "you already appealed this vote; a moderator will decide", code="already_appealed"
        ) from None
    audit.record(
        session,
        actor_id=voter_id,
        action="vote.appeal",
        target_type="vote",
        target_id=vote_id,
        details={"case": vote.case_key, "note": note},
    )
    await session.commit()
    return Appeal(appeal, vote)


async def my_appeals(session: AsyncSession, *, voter_id: int, limit: int, offset: int) -> list[Appeal]:
    rows = await session.execute(
        select(VoteAppeal, Vote)
        .join(Vote, Vote.id == VoteAppeal.vote_id)
        .where(VoteAppeal.voter_id == voter_id)
        .order_by(VoteAppeal.created_at.desc(), VoteAppeal.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [Appeal(appeal, vote) for appeal, vote in rows]


async def appeals_of_votes(session: AsyncSession, vote_ids: Sequence[int]) -> list[VoteAppeal]:
    """The appeals among these votes (a case's), oldest first."""
    if not vote_ids:
        return []
    rows = await session.scalars(
        select(VoteAppeal).where(VoteAppeal.vote_id.in_(vote_ids)).order_by(VoteAppeal.created_at)
    )
    return list(rows)


async def appeal_counts(
    session: AsyncSession, *, contest_id: int, case_keys: Sequence[str]
) -> dict[str, int]:
    """Open appeals per case: appealed votes still held."""
    if not case_keys:
        return {}
    rows = await session.execute(
        select(Vote.case_key, func.count(VoteAppeal.id))
        .join(VoteAppeal, VoteAppeal.vote_id == Vote.id)
        .where(
            Vote.contest_id == contest_id,
            Vote.status == VoteStatus.SUSPICIOUS,
            Vote.case_key.in_(case_keys),
        )
        .group_by(Vote.case_key)
    )
    return {str(key): int(count) for key, count in rows}
