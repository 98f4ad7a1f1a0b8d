"""Moderators' review of suspicious votes: cases, decisions, voiding accounts. Votes are never deleted.

A case is the set of suspicious votes of a contest that share a ``case_key``: a detected coordinated
group, a device, or a network prefix (set by scoring and the group detector). Confirming rejects the
votes (they never count); clearing counts them. Every decision is kept on the votes and in the audit
log, and requests a recount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.case_keys import case_kind
from core.errors import Conflict, InvalidInput, NotFound
from core.jobs import recompute_job, request_after_commit
from core.models import AccountStatus, Contest, User, Vote, VoteGroup, VoteStatus, VoteTally
from core.services import audit, authority


class Decision(StrEnum):
    CONFIRM = "confirm"  # the votes are fraudulent: rejected
    CLEAR = "clear"  # the votes are honest: counted


_OUTCOME = {Decision.CONFIRM: VoteStatus.REJECTED, Decision.CLEAR: VoteStatus.CLEARED}


@dataclass(frozen=True, slots=True)
class SongEffect:
    song_id: int
    case_votes: int
    counted_votes: int  # counted now (valid + cleared)
    rank_now: int
    rank_if_cleared: int


@dataclass(frozen=True, slots=True)
class Case:
    key: str
    kind: str  # group | device | prefix
    votes: int
    accounts: int
    first_cast_at: datetime
    last_cast_at: datetime
    reasons: dict[str, int]  # reason code -> votes carrying it
    sample_evidence: list[str]
    group: dict[str, Any] | None = None
    effect: list[SongEffect] = field(default_factory=list)


async def _contest(session: AsyncSession, contest_id: int) -> Contest:
    contest = await session.get(Contest, contest_id)
    if contest is None:
        raise NotFound("no such contest", code="contest_not_found")
    return contest


async def list_cases(session: AsyncSession, *, contest_id: int, limit: int, offset: int) -> list[Case]:
    """Open cases of a contest, largest first, with reasons, evidence and leaderboard effect."""
    await _contest(session, contest_id)
    rows = (
        await session.execute(
            select(
                Vote.case_key,
                func.count(Vote.id),
                func.count(func.distinct(Vote.voter_id)),
                func.min(Vote.cast_at),
                func.max(Vote.cast_at),
            )
            .where(
                Vote.contest_id == contest_id,
                Vote.status == VoteStatus.SUSPICIOUS,
                Vote.case_key.is_not(None),
            )
            .group_by(Vote.case_key)
            .order_by(func.count(Vote.id).desc(), Vote.case_key)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    counted = await _counted_by_song(session, contest_id)
    cases = []
    for key, votes, accounts, first, last in rows:
        cases.append(await _describe(session, contest_id, str(key), votes, accounts, first, last, counted))
    return cases


async def get_case(session: AsyncSession, *, contest_id: int, case_key: str) -> tuple[Case, Sequence[Vote]]:
    await _contest(session, contest_id)
    votes = (
        await session.scalars(
            select(Vote)
            .where(
                Vote.contest_id == contest_id, Vote.case_key == case_key, Vote.status == VoteStatus.SUSPICIOUS
            )
            .order_by(Vote.cast_at)
        )
    ).all()
    if not votes:
        raise NotFound("no open case with this key", code="case_not_found")
    case = await _describe(
        session,
        contest_id,
        case_key,
        len(votes),
        len({vote.voter_id for vote in votes}),
        votes[0].cast_at,
        votes[-1].cast_at,
        await _counted_by_song(session, contest_id),
    )
    return case, votes


async def _counted_by_song(session: AsyncSession, contest_id: int) -> dict[int, int]:
    # From the tallies the vote triggers keep exact (a few rows per song), not a scan of the contest's votes
    # on every case a moderator opens.
    rows = await session.execute(
        select(VoteTally.song_id, func.sum(VoteTally.votes))
        .where(VoteTally.contest_id == contest_id, VoteTally.ballots > 0)
        .group_by(VoteTally.song_id)
    )
    return {song_id: int(total) for song_id, total in rows}


def _rank(totals: dict[int, int], song_id: int) -> int:
    mine = totals.get(song_id, 0)
    return 1 + sum(1 for total in totals.values() if total > mine)


async def _describe(
    session: AsyncSession,
    contest_id: int,
    key: str,
    votes: int,
    accounts: int,
    first: datetime,
    last: datetime,
    counted: dict[int, int],
) -> Case:
    case_rows = (
        await session.execute(
            select(Vote.song_id, Vote.weight, Vote.reasons).where(
                Vote.contest_id == contest_id, Vote.case_key == key, Vote.status == VoteStatus.SUSPICIOUS
            )
        )
    ).all()
    reasons: Counter[str] = Counter()
    evidence: dict[str, str] = {}
    per_song: Counter[int] = Counter()
    for song_id, weight, vote_reasons in case_rows:
        per_song[song_id] += weight
        for reason in vote_reasons or []:
            code = str(reason.get("code", "unknown"))
            reasons[code] += 1
            evidence.setdefault(code, str(reason.get("evidence", "")))
    if_cleared = dict(counted)
    for song_id, extra in per_song.items():
        if_cleared[song_id] = if_cleared.get(song_id, 0) + extra
    effect = [
        SongEffect(
            song_id, extra, counted.get(song_id, 0), _rank(counted, song_id), _rank(if_cleared, song_id)
        )
        for song_id, extra in per_song.most_common(10)
    ]
    group = None
    if case_kind(key) == "group":
        stored = await session.get(VoteGroup, int(key.split(":", 1)[1]))
        if stored is not None:
            group = {
                "id": stored.id,
                "accounts": stored.accounts,
                "songs": stored.songs,
                "windows": stored.windows,
                "metrics": stored.metrics,
                "evidence": stored.evidence,
            }
    return Case(
        key=key,
        kind=case_kind(key),
        votes=votes,
        accounts=accounts,
        first_cast_at=first,
        last_cast_at=last,
        reasons=dict(reasons.most_common()),
        sample_evidence=[evidence[code] for code, _ in reasons.most_common(5)],
        group=group,
        effect=effect,
    )


def _check_note(note: str) -> str:
    note = note.strip()
    if not note:
        raise InvalidInput("a decision needs a note saying why", code="note_required")
    return note


async def decide_case(
    session: AsyncSession,
    *,
    contest_id: int,
    case_key: str,
    decision: Decision,
    moderator_id: int,
    note: str,
    now: datetime,
) -> int:
    note = _check_note(note)
    await _contest(session, contest_id)
    actor = await authority.load_actor(session, moderator_id)
    voters = await session.scalars(
        select(User).where(
            User.id.in_(
                select(Vote.voter_id).where(
                    Vote.contest_id == contest_id,
                    Vote.case_key == case_key,
                    Vote.status == VoteStatus.SUSPICIOUS,
                )
            )
        )
    )
    for voter in sorted(voters.unique(), key=lambda voter: voter.id != actor.id):  # own votes named first
        authority.check_may_act_on(actor, voter, "judge the votes of")
    result = await session.execute(
        update(Vote)
        .where(Vote.contest_id == contest_id, Vote.case_key == case_key, Vote.status == VoteStatus.SUSPICIOUS)
        .values(status=_OUTCOME[decision], reviewed_by_id=moderator_id, reviewed_at=now, review_note=note)
        .returning(Vote.id)
    )
    decided = [row[0] for row in result]
    if not decided:
        await session.rollback()
        raise NotFound("no open case with this key", code="case_not_found")
    audit.record(
        session,
        actor_id=moderator_id,
        action=f"votes.{decision}",
        target_type="case",
        target_id=f"{contest_id}/{case_key}",
        details={"votes": len(decided), "note": note, "vote_ids": decided[:1000]},
    )
    request_after_commit(session, recompute_job(contest_id))
    await session.commit()
    return len(decided)


async def decide_vote(
    session: AsyncSession, *, vote_id: int, decision: Decision, moderator_id: int, note: str, now: datetime
) -> Vote:
    note = _check_note(note)
    vote = await session.get(Vote, vote_id, with_for_update=True)
    if vote is None:
        raise NotFound("no such vote", code="vote_not_found")
    if vote.status not in (VoteStatus.SUSPICIOUS, VoteStatus.VALID, VoteStatus.CLEARED, VoteStatus.REJECTED):
        raise Conflict(f"a {vote.status} vote cannot be decided yet", code="vote_not_scored")
    actor = await authority.load_actor(session, moderator_id)
    voter = await session.get(User, vote.voter_id)
    if voter is not None:  # always there: an account with votes cannot be deleted (RESTRICT)
        authority.check_may_act_on(actor, voter, "judge the votes of")
    previous = vote.status
    vote.status = _OUTCOME[decision]
    vote.reviewed_by_id, vote.reviewed_at, vote.review_note = moderator_id, now, note
    audit.record(
        session,
        actor_id=moderator_id,
        action=f"vote.{decision}",
        target_type="vote",
        target_id=vote.id,
        details={"from": previous, "note": note},
    )
    request_after_commit(session, recompute_job(vote.contest_id))
    await session.commit()
    return vote


async def void_account(
    session: AsyncSession, *, user_id: int, moderator_id: int, note: str, ban: bool, now: datetime
) -> int:
    """Reject every vote of an account (all contests), and optionally ban it. Returns the votes voided."""
    note = _check_note(note)
    if ban:
        await authority.lock_admins(session)
    actor = await authority.load_actor(session, moderator_id)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("no such user", code="user_not_found")
    authority.check_may_act_on(actor, user, "ban" if ban else "void the votes of")
    result = await session.execute(
        update(Vote)
        .where(Vote.voter_id == user_id, Vote.status != VoteStatus.REJECTED)
        .values(status=VoteStatus.REJECTED, reviewed_by_id=moderator_id, reviewed_at=now, review_note=note)
        .returning(Vote.contest_id)
    )
    contests = Counter(row[0] for row in result)
    if ban:
        user.status = AccountStatus.BANNED
        user.ban_reason = note[:500]
    audit.record(
        session,
        actor_id=moderator_id,
        action="user.void_votes" + ("_and_ban" if ban else ""),
        target_type="user",
        target_id=user_id,
        details={"votes": sum(contests.values()), "contests": sorted(contests), "note": note},
    )
    for contest_id in contests:
        request_after_commit(session, recompute_job(contest_id))
    await session.commit()
    return sum(contests.values())
