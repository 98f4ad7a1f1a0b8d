"""Coordinated-voting detection over a contest's whole voter x song graph (run periodically).

Rings (accounts voting for the same songs in the same windows) and signup cohorts (accounts created
together, loyal to one song day after day) are both stored as vote groups. A confirmed group is stored with
its evidence; its accounts' votes get the group's reason and are re-judged: valid votes whose new score
passes the review threshold become suspicious (earlier verdicts can change).
Votes a moderator already decided (cleared, rejected) are never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.case_keys import group_case_key, held_by_own_signals
from core.jobs import recompute_job, request_after_commit
from core.models import Contest, User, Vote, VoteGroup, VoteStatus
from core.services.scoring import fraud_config_for
from fraud import (
    CoordinatedGroup,
    Reason,
    ScoringResult,
    Verdict,
    VoteEdge,
    find_coordinated_groups,
    with_group_reasons,
)

log = logging.getLogger(__name__)

# Votes the detector may re-judge; moderators' decisions stand.
_REJUDGED = (VoteStatus.VALID.value, VoteStatus.SUSPICIOUS.value, VoteStatus.PENDING.value)


@dataclass(frozen=True, slots=True)
class DetectionRun:
    groups: int
    votes_flagged: int
    blocks_examined: int


async def _edges(session: AsyncSession, contest_id: int) -> list[VoteEdge]:
    # The voter's creation time lets the library find signup cohorts (accounts created together).
    rows = await session.execute(
        select(
            Vote.id, Vote.voter_id, Vote.song_id, Vote.cast_at, User.created_at, Vote.status, Vote.case_key
        )
        .join(User, User.id == Vote.voter_id)
        .where(
            Vote.contest_id == contest_id,
            Vote.retracted_at.is_(None),
            Vote.status != VoteStatus.REJECTED,
        )
    )
    return [
        VoteEdge(
            vote_id, voter, song, cast_at.timestamp(), created.timestamp(), _held_by_scoring(status, case)
        )
        for vote_id, voter, song, cast_at, created, status, case in rows
    ]


def _held_by_scoring(status: str, case_key: str | None) -> bool:
    """Suspicious because of its own signals, not because an earlier run put it in a group or cohort."""
    return held_by_own_signals(status == VoteStatus.SUSPICIOUS, case_key)


async def _store_group(
    session: AsyncSession, contest_id: int, group: CoordinatedGroup, now: datetime
) -> VoteGroup:
    """Update the stored group that shares most of these accounts, or store a new one."""
    accounts = set(group.accounts)
    stored = None
    for candidate in await session.scalars(select(VoteGroup).where(VoteGroup.contest_id == contest_id)):
        overlap = len(accounts.intersection(candidate.accounts))
        if overlap * 2 >= min(len(accounts), candidate.accounts_count):
            stored = candidate
            break
    if stored is None:
        stored = VoteGroup(contest_id=contest_id, detected_at=now)
        session.add(stored)
    stored.accounts = sorted(accounts)
    stored.songs = list(group.songs)
    stored.windows = [[start.isoformat(), end.isoformat()] for start, end in group.windows]
    stored.accounts_count = len(accounts)
    stored.votes_count = len(group.vote_ids)
    stored.metrics = {"density": group.density, "lift": group.lift, "lockstep": group.lockstep}
    stored.evidence = group.reason.evidence
    stored.updated_at = now
    await session.flush()
    return stored


def _stored_verdicts(votes: Sequence[Vote]) -> ScoringResult:
    """The votes' stored scores and reasons, as the fraud library's verdicts."""
    return ScoringResult(
        tuple(
            Verdict(
                vote_id=vote.id,
                score=vote.fraud_score or 0,
                reasons=tuple(Reason.from_dict(reason) for reason in vote.reasons),
                suspicious=vote.status == VoteStatus.SUSPICIOUS,
            )
            for vote in votes
        )
    )


async def detect_groups(session: AsyncSession, *, contest_id: int, now: datetime) -> DetectionRun:
    contest = await session.get(Contest, contest_id)
    if contest is None:
        return DetectionRun(0, 0, 0)
    config = fraud_config_for(contest)
    scan = find_coordinated_groups(await _edges(session, contest_id), config)
    flagged = 0
    for group in scan.groups:
        stored = await _store_group(session, contest_id, group, now)
        votes = (
            await session.scalars(
                select(Vote).where(Vote.id.in_(group.vote_ids), Vote.status.in_(_REJUDGED)).with_for_update()
            )
        ).all()
        merged = with_group_reasons(
            _stored_verdicts(votes), dict.fromkeys((vote.id for vote in votes), group.reason), config
        )
        for vote, verdict in zip(votes, merged.verdicts, strict=True):
            vote.reasons = [reason.as_dict() for reason in verdict.reasons]
            vote.fraud_score = verdict.score
            vote.group_id = stored.id
            if vote.status != VoteStatus.PENDING and verdict.suspicious:
                if vote.status == VoteStatus.VALID:
                    flagged += 1
                vote.status = VoteStatus.SUSPICIOUS
                vote.case_key = group_case_key(stored.id)
    if scan.groups:
        request_after_commit(session, recompute_job(contest_id))
    await session.commit()
    for line in scan.rejected:
        log.info("contest %s: %s", contest_id, line)
    return DetectionRun(len(scan.groups), flagged, scan.blocks_examined)


async def contests_in_voting(session: AsyncSession, *, now: datetime) -> list[int]:
    """Contests whose votes may still change: voting open now or closed within the last day."""
    rows = await session.scalars(
        select(Contest.id).where(
            Contest.status != "draft",
            Contest.voting_opens_at <= now,
            Contest.voting_closes_at >= now - timedelta(days=1),
        )
    )
    return list(rows)
