"""The audit log: every change records who did it, in the change's own transaction; admins read it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditEntry, Song, User, Vote


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction: it commits or rolls back with the change it records."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
    )
    session.add(entry)
    return entry


def _contest_filter(contest_id: int) -> ColumnElement[bool]:
    """Entries about one contest: the contest itself, its cases, and its songs and votes (matched through
    their tables: the entry keeps only the target's id). Account-wide actions (bans) are not per contest."""
    contest_key = str(contest_id)
    song_ids = select(cast(Song.id, String)).where(Song.contest_id == contest_id)
    # Only reviewed votes have entries of their own: keep the subquery to those.
    vote_ids = select(cast(Vote.id, String)).where(
        Vote.contest_id == contest_id, Vote.reviewed_at.is_not(None)
    )
    return or_(
        and_(AuditEntry.target_type == "contest", AuditEntry.target_id == contest_key),
        and_(AuditEntry.target_type == "case", AuditEntry.target_id.startswith(f"{contest_key}/")),
        and_(AuditEntry.target_type == "song", AuditEntry.target_id.in_(song_ids)),
        and_(AuditEntry.target_type == "vote", AuditEntry.target_id.in_(vote_ids)),
    )


async def list_entries(
    session: AsyncSession,
    *,
    contest_id: int | None,
    actor_id: int | None,
    action: str | None,
    limit: int,
    offset: int,
) -> Sequence[tuple[AuditEntry, str | None]]:
    """Entries newest first with the actor's username; ``action`` matches exactly, or as a prefix when it
    ends with a dot ("song." for every song action)."""
    statement = (
        select(AuditEntry, User.username)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if contest_id is not None:
        statement = statement.where(_contest_filter(contest_id))
    if actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == actor_id)
    if action:
        statement = statement.where(
            AuditEntry.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    rows = await session.execute(statement.limit(limit).offset(offset))
    return [(entry, username) for entry, username in rows.all()]
