"""Model -> response body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from api.schemas import (
    AdminUserOut,
    AppealOut,
    AuditEntryOut,
    BoardEntryOut,
    BoardOut,
    CaseAppealOut,
    CaseOut,
    ContestOut,
    HistoryEntryOut,
    HistoryOut,
    HistoryPointOut,
    MySongOut,
    ResultOut,
    ResultsOut,
    ReviewedVoteOut,
    SongEffectOut,
    SongOut,
    SongReviewOut,
    SongSubmitted,
    StandingOut,
    UserOut,
    VoteOut,
)
from core.leaderboard.cache import BoardDoc
from core.leaderboard.counting import is_counted
from core.leaderboard.read import Standing
from core.leaderboard.reports import RESULT_FIELDS, HistoryPoint, ResultRow
from core.leaderboard.rules import Access
from core.models import AuditEntry, Contest, ContestStatus, Song, User, Vote, VoteAppeal, VoteStatus
from core.services.moderation import Case
from core.votes.appeals import Appeal, AppealState
from fraud.explain import plain_words


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


def admin_user_out(user: User, locked_until: datetime | None = None) -> AdminUserOut:
    """``locked_until``: until when the account's logins wait (from an unknown browser) after failures."""
    return AdminUserOut(
        **msgspec.structs.asdict(user_out(user)), ban_reason=user.ban_reason, locked_until=locked_until
    )


def audit_entry_out(entry: AuditEntry, actor_username: str | None) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        created_at=entry.created_at,
        actor_id=entry.actor_id,
        actor_username=actor_username,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        details=entry.details or {},
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


def contest_out(contest: Contest, now: datetime, *, admin: bool = False) -> ContestOut:
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
        freeze_hours=contest.freeze_hours,
        retraction_minutes=contest.retraction_minutes,
        fraud_config=dict(contest.fraud_config or {}) if admin else None,
    )


_EXPLANATIONS = {
    VoteStatus.PENDING: "Your vote was recorded and is being checked; it counts once the check is done.",
    VoteStatus.VALID: "Your vote counts.",
    VoteStatus.SUSPICIOUS: "Your vote is under review by a moderator and does not count until it is cleared.",
    VoteStatus.REJECTED: "A moderator found this vote broke the contest rules; it does not count.",
    VoteStatus.CLEARED: "A moderator reviewed this vote and it counts.",
}


class VoteView(Protocol):
    """What a vote's answer shows: an ORM ``Vote`` or a just-recorded one (``core.votes.ballot``)."""

    @property
    def id(self) -> int: ...
    @property
    def contest_id(self) -> int: ...
    @property
    def song_id(self) -> int: ...
    @property
    def cast_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def retracted_at(self) -> datetime | None: ...
    @property
    def reasons(self) -> Sequence[dict[str, Any]]: ...


def vote_explanation(vote: VoteView) -> str:
    if vote.retracted_at is not None:
        return "You took this vote back; it does not count."
    text = _EXPLANATIONS[VoteStatus(vote.status)]
    if vote.status == VoteStatus.SUSPICIOUS and vote.reasons:
        why = "; ".join(plain_words(reason.get("code", "")) for reason in vote.reasons[:3])
        text += f" Why: {why}."
    return text


def vote_out(vote: VoteView, retractable_until: datetime | None = None) -> VoteOut:
    return VoteOut(
        id=vote.id,
        contest_id=vote.contest_id,
        song_id=vote.song_id,
        cast_at=vote.cast_at,
        status=vote.status,
        counted=is_counted(vote.status, vote.retracted_at),
        retracted_at=vote.retracted_at,
        retractable_until=retractable_until,
        explanation=vote_explanation(vote),
    )


# --- songs ---------------------------------------------------------------------------------------------


def _song_fields(song: Song) -> dict[str, Any]:
    return {
        "id": song.id,
        "contest_id": song.contest_id,
        "title": song.title,
        "artist_name": song.artist_name,
        "genre": song.genre,
        "description": song.description,
        "credits": song.credits,
        "license": song.license,
        "duration_seconds": song.duration_seconds,
        "format": song.detected_format,
        "audio_url": f"/api/songs/{song.id}/audio" if song.storage_key else None,
        "created_at": song.created_at,
    }


def _own_fields(song: Song) -> dict[str, Any]:
    return {
        **_song_fields(song),
        "status": song.status,
        "status_reason": song.status_reason,
        "original_filename": song.original_filename,
        "size_bytes": song.size_bytes,
        "sha256": song.sha256,
        "mime_type": song.mime_type,
        "codec": song.codec,
        "bitrate": song.bitrate,
        "sample_rate": song.sample_rate,
        "channels": song.channels,
        "processed_at": song.processed_at,
        "updated_at": song.updated_at,
    }


def song_out(song: Song) -> SongOut:
    return SongOut(**_song_fields(song))


def my_song_out(song: Song) -> MySongOut:
    return MySongOut(**_own_fields(song))


def song_review_out(song: Song) -> SongReviewOut:
    return SongReviewOut(
        **_own_fields(song),
        contestant_id=song.contestant_id,
        review_evidence=song.review_evidence,
        process_attempts=song.process_attempts,
    )


def song_for_viewer(song: Song, viewer: User | None) -> SongOut:
    """The fullest view this viewer may have of a song (see core.songs.queries.get_song)."""
    if viewer is not None and viewer.has_role("moderator", "admin"):
        return song_review_out(song)
    if viewer is not None and viewer.id == song.contestant_id:
        return my_song_out(song)
    return song_out(song)


def song_submitted(song: Song) -> SongSubmitted:
    return SongSubmitted(
        id=song.id,
        contest_id=song.contest_id,
        status=song.status,
        status_url=f"/api/songs/{song.id}",
        size_bytes=song.size_bytes,
        sha256=song.sha256 or "",
        original_filename=song.original_filename,
    )


def case_out(case: Case, *, appeals: int = 0) -> CaseOut:
    return CaseOut(
        key=case.key,
        kind=case.kind,
        votes=case.votes,
        accounts=case.accounts,
        first_cast_at=case.first_cast_at,
        last_cast_at=case.last_cast_at,
        reasons=case.reasons,
        sample_evidence=case.sample_evidence,
        group=case.group,
        effect_if_cleared=[
            SongEffectOut(e.song_id, e.case_votes, e.counted_votes, e.rank_now, e.rank_if_cleared)
            for e in case.effect
        ],
        appeals=appeals,
    )


def case_appeal_out(appeal: VoteAppeal) -> CaseAppealOut:
    return CaseAppealOut(appeal.vote_id, appeal.voter_id, appeal.note, appeal.created_at)


def appeal_out(appeal: Appeal) -> AppealOut:
    decision_note = appeal.decision_note
    return AppealOut(
        id=appeal.appeal.id,
        vote_id=appeal.vote.id,
        contest_id=appeal.vote.contest_id,
        song_id=appeal.vote.song_id,
        note=appeal.appeal.note,
        created_at=appeal.appeal.created_at,
        state=appeal.state,
        decision_note=decision_note,
        decided_at=appeal.vote.reviewed_at if appeal.state != AppealState.WAITING else None,
    )


def reviewed_vote_out(vote: Vote) -> ReviewedVoteOut:
    return ReviewedVoteOut(
        id=vote.id,
        song_id=vote.song_id,
        voter_id=vote.voter_id,
        cast_at=vote.cast_at,
        status=vote.status,
        fraud_score=vote.fraud_score,
        reasons=vote.reasons,
        ip=vote.ip,
        network_prefix=vote.network_prefix,
        country=vote.country,
        city=vote.city,
        asn=vote.asn,
        as_org=vote.as_org,
        user_agent=vote.user_agent,
        device_fingerprint=vote.device_fingerprint,
        device_cookie_id=vote.device_cookie_id,
        accept_language=vote.accept_language,
        client_timezone=vote.client_timezone,
    )


# --- leaderboards --------------------------------------------------------------------------------------


def board_out(
    contest_id: int, country: str, access: Access, doc: BoardDoc, *, limit: int, offset: int
) -> BoardOut:
    return BoardOut(
        contest_id=contest_id,
        country=country or None,
        view=access.view,
        version=doc.version,
        computed_at=doc.computed_at,
        frozen_at=access.frozen_at,
        total=len(doc.entries),
        limit=limit,
        offset=offset,
        items=[BoardEntryOut(*entry) for entry in doc.entries[offset : offset + limit]],
    )


def standing_out(
    contest_id: int, country: str, access: Access, version: int, standing: Standing
) -> StandingOut:
    return StandingOut(
        contest_id=contest_id,
        country=country or None,
        view=access.view,
        version=version,
        song_id=standing.song_id,
        title=standing.title,
        artist_name=standing.artist_name,
        rank=standing.rank,
        votes=standing.votes,
        tied_with=standing.tied_with,
        board_size=standing.board_size,
    )


def history_out(
    contest_id: int, song_id: int | None, access: Access, points: list[HistoryPoint]
) -> HistoryOut:
    return HistoryOut(
        contest_id=contest_id,
        song_id=song_id,
        view=access.view,
        points=[
            HistoryPointOut(point.taken_at, point.reason, [HistoryEntryOut(*e) for e in point.entries])
            for point in points
        ],
    )


def results_out(contest_id: int, rows: list[ResultRow], now: datetime) -> ResultsOut:
    return ResultsOut(
        contest_id=contest_id,
        generated_at=now,
        items=[ResultOut(**{name: getattr(row, name) for name in RESULT_FIELDS}) for row in rows],
    )
