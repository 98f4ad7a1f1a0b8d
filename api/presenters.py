"""Model -> response body."""

from __future__ import annotations

from datetime import datetime

from api.schemas import ContestOut, UserOut
from core.models import Contest, ContestStatus, User


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        username=user.username,
        roles=sorted(user.roles),
        email_verified=user.email_verified,
        status=user.status,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def contest_phase(contest: Contest, now: datetime) -> str:
    if contest.status != ContestStatus.OPEN:
        return str(contest.status)
    if now < contest.submission_opens_at:
        return "upcoming"
    if contest.voting_open(now) and contest.submission_open(now):
        return "submission_and_voting"
    if contest.voting_open(now):
        return "voting"
    if contest.submission_open(now):
        return "submission"
    return "between_windows" if now < contest.voting_opens_at else "voting_ended"


def contest_out(contest: Contest, now: datetime) -> ContestOut:
    return ContestOut(
        id=contest.id,
        slug=contest.slug,
        title=contest.title,
        description=contest.description,
        status=contest.status,
        phase=contest_phase(contest, now),
        submission_opens_at=contest.submission_opens_at,
        submission_closes_at=contest.submission_closes_at,
        voting_opens_at=contest.voting_opens_at,
        voting_closes_at=contest.voting_closes_at,
        votes_per_voter_per_day=contest.votes_per_voter_per_day,
        votes_per_song_per_day=contest.votes_per_song_per_day,
        eligible_countries=contest.eligible_countries,
        allow_unknown_country=contest.allow_unknown_country,
        max_entries_per_contestant=contest.max_entries_per_contestant,
        allowed_formats=contest.allowed_formats,
        max_file_bytes=contest.max_file_bytes,
        min_duration_seconds=contest.min_duration_seconds,
        max_duration_seconds=contest.max_duration_seconds,
        require_verified_email=contest.require_verified_email,
        min_account_age_hours=contest.min_account_age_hours,
        leaderboard_hidden=contest.leaderboard_hidden,
    )
