"""Scoring pending votes in micro-batches with the fraud library.

A run claims a batch of pending votes (FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent runs never take the
same votes), scores it against the contest's last 24 hours, writes every verdict in one UPDATE and commits;
then the next batch, until none is pending. The 24 h history is loaded once per run.

On PostgreSQL the verdicts are one set-based UPDATE ... FROM unnest(arrays): the vote tallies' statement-level
trigger (migration 0007) then runs once per batch, where an executemany would run it once per vote.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    SmallInteger,
    String,
    Text,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.case_keys import vote_case_key
from core.db_dialect import is_postgresql
from core.jobs import recompute_job, request_after_commit
from core.models import Contest, User, Vote, VoteStatus
from core.models.base import UtcDateTime
from fraud.config import FraudConfig
from fraud.scoring import score_batch
from fraud.types import ContestContext, Verdict, VoteEvent

log = logging.getLogger(__name__)

HISTORY_WINDOW = timedelta(hours=24)
_EVENT_COLUMNS = (
    Vote.id,
    Vote.contest_id,
    Vote.song_id,
    Vote.voter_id,
    Vote.cast_at,
    Vote.ip,
    Vote.network_prefix,
    Vote.user_agent,
    Vote.device_fingerprint,
    Vote.device_cookie_id,
    Vote.accept_language,
    Vote.client_timezone,
    Vote.country,
    Vote.asn,
    Vote.as_org,
    User.created_at,
    User.email,
    User.email_verified,
    Vote.previous_vote_at,
    Vote.known_network,
    Vote.known_device,
)
_EARLIER = aliased(Vote)
_EARLIER_VOTE = and_(_EARLIER.voter_id == Vote.voter_id, _EARLIER.cast_at < Vote.cast_at)
# What the account's own earlier votes (any contest) say about this one, looked up once when it is claimed.
_ACCOUNT_PAST = (
    select(func.max(_EARLIER.cast_at)).where(_EARLIER_VOTE).scalar_subquery(),
    exists()
    .where(
        _EARLIER_VOTE,
        or_(
            and_(Vote.asn.is_not(None), _EARLIER.asn == Vote.asn),
            and_(Vote.asn.is_(None), _EARLIER.network_prefix == Vote.network_prefix),
        ),
    )
    .label("known_network"),
    exists()
    .where(
        _EARLIER_VOTE,
        or_(
            _EARLIER.device_fingerprint == Vote.device_fingerprint,
            _EARLIER.device_cookie_id == Vote.device_cookie_id,
        ),
    )
    .label("known_device"),
)


@dataclass(frozen=True, slots=True)
class ScoringRun:
    scored: int
    suspicious: int
    detector_failures: dict[str, int]


def fraud_config_for(contest: Contest) -> FraudConfig:
    try:
        return FraudConfig.from_dict(contest.fraud_config or {})
    except ValueError:
        # Contest settings are validated on save; a stale invalid one must not stop scoring.
        log.exception("contest %s has an invalid fraud config; scoring with the defaults", contest.id)
        return FraudConfig.default()


def _event(row: Sequence[Any]) -> VoteEvent:
    return VoteEvent(*row)


async def _history(session: AsyncSession, contest_id: int, since: datetime) -> list[VoteEvent]:
    rows = await session.execute(
        select(*_EVENT_COLUMNS)
        .join(User, User.id == Vote.voter_id)
        .where(Vote.contest_id == contest_id, Vote.cast_at >= since, Vote.retracted_at.is_(None))
    )
    return [_event(row) for row in rows]


async def _claim(session: AsyncSession, contest_id: int, limit: int) -> list[VoteEvent]:
    rows = await session.execute(
        select(*_EVENT_COLUMNS[:-3], *_ACCOUNT_PAST)
        .join(User, User.id == Vote.voter_id)
        .where(Vote.contest_id == contest_id, Vote.status == VoteStatus.PENDING)
        .order_by(Vote.id)
        .limit(limit)
        .with_for_update(of=Vote, skip_locked=True)
    )
    return [_event(row) for row in rows]


def _update_rows(
    verdicts: Sequence[Verdict], events: dict[int, VoteEvent], now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "id": verdict.vote_id,
            "status": VoteStatus.SUSPICIOUS if verdict.suspicious else VoteStatus.VALID,
            "fraud_score": verdict.score,
            "reasons": [reason.as_dict() for reason in verdict.reasons],
            "case_key": vote_case_key(verdict, events[verdict.vote_id]),
            "scored_at": now,
            "previous_vote_at": events[verdict.vote_id].previous_vote_at,
            "known_network": events[verdict.vote_id].known_network,
            "known_device": events[verdict.vote_id].known_device,
        }
        for verdict in verdicts
    ]


_WRITE_VERDICTS = text(
    """
UPDATE votes AS v
SET status = u.status, fraud_score = u.fraud_score, reasons = CAST(u.reasons AS JSONB), case_key = u.case_key,
    scored_at = :now, previous_vote_at = u.previous_vote_at, known_network = u.known_network,
    known_device = u.known_device
FROM unnest(:ids, :statuses, :scores, :reasons, :case_keys, :previous, :networks, :devices)
    AS u(id, status, fraud_score, reasons, case_key, previous_vote_at, known_network, known_device)
WHERE v.id = u.id
"""
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger())),
    bindparam("statuses", type_=ARRAY(String())),
    bindparam("scores", type_=ARRAY(SmallInteger())),
    bindparam("reasons", type_=ARRAY(Text())),
    bindparam("case_keys", type_=ARRAY(String())),
    bindparam("previous", type_=ARRAY(UtcDateTime())),
    bindparam("networks", type_=ARRAY(Boolean())),
    bindparam("devices", type_=ARRAY(Boolean())),
    bindparam("now", type_=UtcDateTime()),
)


async def _write_verdicts(session: AsyncSession, rows: list[dict[str, Any]], now: datetime) -> None:
    if not is_postgresql(session):
        await session.execute(update(Vote), rows)  # embedded: small batches, row triggers either way
        return
    await session.execute(
        _WRITE_VERDICTS,
        {
            "ids": [row["id"] for row in rows],
            "statuses": [str(row["status"]) for row in rows],
            "scores": [row["fraud_score"] for row in rows],
            "reasons": [json.dumps(row["reasons"]) for row in rows],
            "case_keys": [row["case_key"] for row in rows],
            "previous": [row["previous_vote_at"] for row in rows],
            "networks": [row["known_network"] for row in rows],
            "devices": [row["known_device"] for row in rows],
            "now": now,
        },
    )


async def score_pending(
    session: AsyncSession, *, contest_id: int, now: datetime, batch_size: int = 5000
) -> ScoringRun:
    # The fraud library pays ~0.5 s per call to index the 24 h history, then ~55 us per vote: batches of
    # 5,000 reach ~5,000 votes/s where 2,000 reached ~3,000 (docs/fraud.md).
    contest = await session.get(Contest, contest_id)
    if contest is None:
        return ScoringRun(0, 0, {})
    config = fraud_config_for(contest)
    context = ContestContext(
        contest_id=contest.id,
        eligible_countries=frozenset(contest.eligible_countries) if contest.eligible_countries else None,
    )
    history = await _history(session, contest_id, now - HISTORY_WINDOW)
    await session.commit()  # end the read; each batch below is its own short transaction
    scored = suspicious = 0
    failures: dict[str, int] = {}
    while batch := await _claim(session, contest_id, batch_size):
        result = score_batch(batch, history, context, config, now)
        rows = _update_rows(result.verdicts, {event.vote_id: event for event in batch}, now)
        await _write_verdicts(session, rows, now)
        if any(not verdict.suspicious for verdict in result.verdicts):
            request_after_commit(session, recompute_job(contest_id))  # valid votes now count
        await session.commit()
        scored += len(rows)
        suspicious += sum(1 for verdict in result.verdicts if verdict.suspicious)
        for name, count in result.detector_failures.items():
            failures[name] = failures.get(name, 0) + count
        known = {event.vote_id for event in history}
        history.extend(event for event in batch if event.vote_id not in known)
    return ScoringRun(scored, suspicious, failures)


async def contests_with_stale_pending_votes(session: AsyncSession, *, older_than: datetime) -> list[int]:
    """Contests holding pending votes cast before ``older_than``: their scoring request may have been lost."""
    rows = await session.scalars(
        select(Vote.contest_id).where(Vote.status == VoteStatus.PENDING, Vote.cast_at < older_than).distinct()
    )
    return list(rows)
