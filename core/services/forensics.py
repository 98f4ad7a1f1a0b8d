"""Forensic export: every flagged vote of a contest with the evidence it was judged on, for an
investigation or a dispute outside the platform (CSV or JSON, streamed in batches)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.models import Contest, Vote, VoteStatus

# Column order of the export (CSV header, JSON keys).
FORENSIC_FIELDS = (
    "vote_id",
    "song_id",
    "voter_id",
    "cast_at",
    "status",
    "retracted_at",
    "fraud_score",
    "reason_codes",
    "reasons",
    "case_key",
    "group_id",
    "ip",
    "network_prefix",
    "asn",
    "as_org",
    "country",
    "region",
    "city",
    "user_agent",
    "device_fingerprint",
    "device_cookie_id",
    "accept_language",
    "client_timezone",
    "reviewed_by_id",
    "reviewed_at",
    "review_note",
)
BATCH = 1000


def _flagged() -> Any:
    # Flagged: held for review now, or decided by a moderator, or linked to a case. Honest votes carry weak
    # reasons too (a new account): those alone are no evidence.
    return or_(
        Vote.status.in_((VoteStatus.SUSPICIOUS, VoteStatus.REJECTED, VoteStatus.CLEARED)),
        Vote.case_key.is_not(None),
    )


def _row(vote: Vote) -> dict[str, Any]:
    reasons = vote.reasons or []
    return {
        "vote_id": vote.id,
        "song_id": vote.song_id,
        "voter_id": vote.voter_id,
        "cast_at": vote.cast_at.isoformat(),
        "status": vote.status,
        "retracted_at": vote.retracted_at.isoformat() if vote.retracted_at else None,
        "fraud_score": vote.fraud_score,
        "reason_codes": " ".join(str(reason.get("code", "?")) for reason in reasons),
        "reasons": reasons,
        "case_key": vote.case_key,
        "group_id": vote.group_id,
        "ip": vote.ip,
        "network_prefix": vote.network_prefix,
        "asn": vote.asn,
        "as_org": vote.as_org,
        "country": vote.country,
        "region": vote.region,
        "city": vote.city,
        "user_agent": vote.user_agent,
        "device_fingerprint": vote.device_fingerprint,
        "device_cookie_id": vote.device_cookie_id,
        "accept_language": vote.accept_language,
        "client_timezone": vote.client_timezone,
        "reviewed_by_id": vote.reviewed_by_id,
        "reviewed_at": vote.reviewed_at.isoformat() if vote.reviewed_at else None,
        "review_note": vote.review_note,
    }


async def check_contest(session: AsyncSession, contest_id: int) -> None:
    """Refuse before a download starts: an export of nothing would look like a clean contest."""
    if await session.get(Contest, contest_id) is None:
        raise NotFound("no such contest", code="contest_not_found")


async def flagged_votes(session: AsyncSession, contest_id: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Batches of export rows in vote order; keyset paging keeps memory flat on any contest size."""
    after = 0
    while True:
        votes = (
            await session.scalars(
                select(Vote)
                .where(Vote.contest_id == contest_id, Vote.id > after, _flagged())
                .order_by(Vote.id)
                .limit(BATCH)
            )
        ).all()
        if not votes:
            return
        after = votes[-1].id
        yield [_row(vote) for vote in votes]
        session.expunge_all()  # the batch is written out: do not keep it in the identity map


def csv_value(value: Any) -> Any:
    """A cell: nested evidence as compact JSON, nothing for None. Text a voter controls (user agent,
    language) that starts like a formula is quoted, so a spreadsheet shows it instead of running it."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{value}"
    return value
