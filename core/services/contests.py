"""Contests: admins create, edit, open and close them; everyone reads the public ones."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pycountry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from core.models import Contest, ContestStatus
from core.services import audit
from fraud.config import FraudConfig

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
KNOWN_FORMATS = frozenset({"mp3", "flac", "ogg", "opus", "wav", "m4a", "aiff", "webm"})
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")

# Fields an admin may set on create or edit; everything else is managed by the platform.
EDITABLE_FIELDS = (
    "title",
    "description",
    "submission_opens_at",
    "submission_closes_at",
    "voting_opens_at",
    "voting_closes_at",
    "votes_per_voter_per_day",
    "votes_per_song_per_day",
    "eligible_countries",
    "allow_unknown_country",
    "max_entries_per_contestant",
    "allowed_formats",
    "max_file_bytes",
    "min_duration_seconds",
    "max_duration_seconds",
    "require_verified_email",
    "min_account_age_hours",
    "leaderboard_hidden",
    "freeze_hours",
    "retraction_minutes",
    "fraud_config",
)


def _validate(contest: Contest) -> None:
    """Check the rules with readable messages before the database's CHECK constraints would refuse them."""
    if not SLUG_PATTERN.match(contest.slug):
        raise InvalidInput("slug must be 3-64 lowercase letters, digits or '-'", code="invalid_slug")
    if not contest.submission_opens_at < contest.submission_closes_at:
        raise InvalidInput("submission must open before it closes", code="invalid_window")
    if not contest.voting_opens_at < contest.voting_closes_at:
        raise InvalidInput("voting must open before it closes", code="invalid_window")
    if contest.voting_opens_at < contest.submission_opens_at:
        raise InvalidInput("voting cannot open before submission opens", code="invalid_window")
    if contest.votes_per_song_per_day > contest.votes_per_voter_per_day:
        raise InvalidInput(
            "votes per song per day cannot exceed votes per voter per day", code="invalid_rules"
        )
    if contest.min_duration_seconds >= contest.max_duration_seconds:
        raise InvalidInput("min duration must be below max duration", code="invalid_rules")
    unknown = set(contest.allowed_formats) - KNOWN_FORMATS
    if unknown or not contest.allowed_formats:
        raise InvalidInput(
            f"allowed formats must be a non-empty subset of {', '.join(sorted(KNOWN_FORMATS))}",
            code="invalid_rules",
        )
    if contest.eligible_countries is not None:
        bad = [c for c in contest.eligible_countries if not _is_country(c)]
        if bad or not contest.eligible_countries:
            raise InvalidInput(
                "eligible countries must be ISO 3166 alpha-2 codes (e.g. 'SE'), or null for all"
                + (f"; unknown: {', '.join(bad[:10])}" if bad else ""),
                code="invalid_rules",
                extra={"unknown_countries": bad[:50]},
            )
    try:
        FraudConfig.from_dict(contest.fraud_config or {})
    except ValueError as exc:
        raise InvalidInput(f"fraud config: {exc}", code="invalid_fraud_config") from None


# Kosovo: not in ISO 3166-1 yet, but GeoIP databases locate voters there with this user-assigned code.
GEOIP_ONLY_COUNTRIES = frozenset({"XK"})


def _is_country(code: object) -> bool:
    if not isinstance(code, str) or not COUNTRY_PATTERN.match(code):
        return False
    return code in GEOIP_ONLY_COUNTRIES or pycountry.countries.get(alpha_2=code) is not None


async def create_contest(
    session: AsyncSession, *, slug: str, actor_id: int, fields: dict[str, Any]
) -> Contest:
    contest = Contest(slug=slug, created_by_id=actor_id, **_editable(fields))
    _fill_defaults(contest)
    _validate(contest)
    session.add(contest)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"a contest with slug {slug!r} already exists", code="slug_taken") from None
    audit.record(
        session, actor_id=actor_id, action="contest.create", target_type="contest", target_id=contest.id
    )
    await session.commit()
    return contest


async def update_contest(
    session: AsyncSession, *, contest_id: int, actor_id: int, fields: dict[str, Any]
) -> Contest:
    contest = await get_contest(session, contest_id, include_drafts=True)
    changes = _editable(fields)
    for name, value in changes.items():
        setattr(contest, name, value)
    _validate(contest)
    audit.record(
        session,
        actor_id=actor_id,
        action="contest.update",
        target_type="contest",
        target_id=contest.id,
        details={"fields": sorted(changes)},
    )
    await session.commit()
    return contest


async def set_status(
    session: AsyncSession, *, contest_id: int, actor_id: int, status: ContestStatus
) -> Contest:
    """Open a draft or close an open contest. A closed contest takes no submissions or votes, whatever its
    windows say (Contest.submission_open / voting_open check the status first)."""
    contest = await get_contest(session, contest_id, include_drafts=True)
    allowed = {
        ContestStatus.OPEN: {ContestStatus.DRAFT},
        ContestStatus.CLOSED: {ContestStatus.OPEN},
        ContestStatus.DRAFT: set(),
    }[status]
    if contest.status not in allowed:
        raise Conflict(f"a {contest.status} contest cannot become {status}", code="invalid_transition")
    previous = contest.status
    contest.status = status
    audit.record(
        session,
        actor_id=actor_id,
        action=f"contest.{status}",
        target_type="contest",
        target_id=contest.id,
        details={"from": previous},
    )
    await session.commit()
    return contest


async def get_contest(session: AsyncSession, contest_id: int, *, include_drafts: bool) -> Contest:
    contest = await session.get(Contest, contest_id)
    if contest is None or (contest.status == ContestStatus.DRAFT and not include_drafts):
        raise NotFound("no such contest", code="contest_not_found")
    return contest


async def get_contest_by_slug(session: AsyncSession, slug: str, *, include_drafts: bool) -> Contest:
    contest = await session.scalar(select(Contest).where(Contest.slug == slug))
    if contest is None or (contest.status == ContestStatus.DRAFT and not include_drafts):
        raise NotFound("no such contest", code="contest_not_found")
    return contest


async def list_contests(
    session: AsyncSession, *, include_drafts: bool, status: str | None, limit: int, offset: int
) -> Sequence[Contest]:
    query = select(Contest).order_by(Contest.voting_closes_at.desc(), Contest.id.desc())
    if not include_drafts:
        query = query.where(Contest.status != ContestStatus.DRAFT)
    if status is not None:
        query = query.where(Contest.status == status)
    return (await session.scalars(query.limit(limit).offset(offset))).all()


def _editable(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown contest field(s): {', '.join(sorted(unknown))}", code="unknown_field")
    return dict(fields)


def _fill_defaults(contest: Contest) -> None:
    # Column defaults apply at INSERT; validation runs before it, so fill them here.
    for column in Contest.__table__.columns:
        if getattr(contest, column.key) is None and column.default is not None and not column.nullable:
            default = column.default.arg
            setattr(contest, column.key, default(None) if callable(default) else default)
