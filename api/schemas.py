"""Request and response bodies (msgspec Structs: validated at the edge, with limits on every string)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from core.songs.submission import LICENSES

# The patterns are the ones core.services.users applies (documented here, checked there with their own codes).
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=254,
        extra_json_schema={"pattern": r"^[^@\s\x00]{1,64}@[^@\s\x00]+\.[^@\s\x00]{2,}$"},
    ),
]
Username = Annotated[
    str, msgspec.Meta(min_length=3, max_length=32, extra_json_schema={"pattern": r"^[A-Za-z0-9_.-]{3,32}$"})
]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
# The schema names the roles; the server still answers an unknown one with its own code (unknown_role).
RoleName = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=16, extra_json_schema={"enum": ["voter", "contestant", "moderator", "admin"]}
    ),
]
SelfServiceRole = Annotated[
    str, msgspec.Meta(min_length=1, max_length=16, extra_json_schema={"enum": ["voter", "contestant"]})
]
Slug = Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=10_000)]
Country = Annotated[str, msgspec.Meta(min_length=2, max_length=2)]
Format = Annotated[str, msgspec.Meta(min_length=2, max_length=8)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
FileBytes = Annotated[int, msgspec.Meta(ge=1, le=2 * 1024**3)]
# Naive datetimes are ambiguous: the client must say which zone it means.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class ErrorOut(msgspec.Struct):
    """Every error answer: a status, a machine-readable code, words for people, and details if any."""

    status_code: int
    code: str
    detail: str
    extra: Any | None = None


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    username: Username
    password: Password
    roles: Annotated[list[SelfServiceRole], msgspec.Meta(max_length=4)] = msgspec.field(default_factory=list)


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Password


class UserOut(msgspec.Struct):
    id: int
    email: str
    username: str
    roles: list[str]
    email_verified: bool
    status: str
    created_at: datetime
    last_login_at: datetime | None


LinkToken = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class EmailRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class LinkRequest(msgspec.Struct, forbid_unknown_fields=True):
    token: LinkToken


class ResetPasswordRequest(msgspec.Struct, forbid_unknown_fields=True):
    token: LinkToken
    password: Password


class ChangePasswordRequest(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class ChangeEmailRequest(msgspec.Struct, forbid_unknown_fields=True):
    password: Password
    new_email: Email


class MailQueuedOut(msgspec.Struct):
    """The answer to anything that may send mail: the same whether or not the address has an account."""

    status: str
    detail: str


class EmailVerifiedOut(msgspec.Struct):
    email: str
    username: str


class AdminUserOut(UserOut):
    """An account as an admin sees it in the user search."""

    ban_reason: str | None
    locked_until: datetime | None


class AuditEntryOut(msgspec.Struct):
    id: int
    created_at: datetime
    actor_id: int | None  # None: the platform itself (a worker's verdict, a lockout)
    actor_username: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]


class SetRolesRequest(msgspec.Struct, forbid_unknown_fields=True):
    roles: Annotated[list[RoleName], msgspec.Meta(max_length=4)]


class ContestRules(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Fields shared by create and edit; on edit every field is optional (UNSET = leave as is)."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: LongText | msgspec.UnsetType = msgspec.UNSET
    submission_opens_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    submission_closes_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    voting_opens_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    voting_closes_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    votes_per_voter_per_day: PositiveInt | msgspec.UnsetType = msgspec.UNSET
    votes_per_song_per_day: PositiveInt | msgspec.UnsetType = msgspec.UNSET
    eligible_countries: Annotated[list[Country], msgspec.Meta(max_length=250)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    allow_unknown_country: bool | msgspec.UnsetType = msgspec.UNSET
    max_entries_per_contestant: PositiveInt | msgspec.UnsetType = msgspec.UNSET
    allowed_formats: Annotated[list[Format], msgspec.Meta(max_length=16)] | msgspec.UnsetType = msgspec.UNSET
    max_file_bytes: FileBytes | msgspec.UnsetType = msgspec.UNSET
    min_duration_seconds: NonNegativeInt | msgspec.UnsetType = msgspec.UNSET
    max_duration_seconds: PositiveInt | msgspec.UnsetType = msgspec.UNSET
    require_verified_email: bool | msgspec.UnsetType = msgspec.UNSET
    min_account_age_hours: NonNegativeInt | msgspec.UnsetType = msgspec.UNSET
    leaderboard_hidden: bool | msgspec.UnsetType = msgspec.UNSET
    freeze_hours: Annotated[int, msgspec.Meta(ge=0, le=8760)] | msgspec.UnsetType = msgspec.UNSET
    retraction_minutes: Annotated[int, msgspec.Meta(ge=0, le=10_080)] | msgspec.UnsetType = msgspec.UNSET
    fraud_config: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET

    def given(self) -> dict[str, Any]:
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not msgspec.UNSET
        }


class ContestCreate(ContestRules, forbid_unknown_fields=True, kw_only=True):
    slug: Slug
    title: Title
    submission_opens_at: AwareDatetime
    submission_closes_at: AwareDatetime
    voting_opens_at: AwareDatetime
    voting_closes_at: AwareDatetime


class ContestOut(msgspec.Struct):
    id: int
    slug: str
    title: str
    description: str
    status: str
    phase: str
    submission_opens_at: datetime
    submission_closes_at: datetime
    voting_opens_at: datetime
    voting_closes_at: datetime
    votes_per_voter_per_day: int
    votes_per_song_per_day: int
    eligible_countries: list[str] | None
    allow_unknown_country: bool
    max_entries_per_contestant: int
    allowed_formats: list[str]
    max_file_bytes: int
    min_duration_seconds: int
    max_duration_seconds: int
    require_verified_email: bool
    min_account_age_hours: int
    leaderboard_hidden: bool
    freeze_hours: int = 0
    retraction_minutes: int = 0
    # Admins only (None for everyone else): the thresholds would tell a fraudster how far to go.
    fraud_config: dict[str, Any] | None = None


class Page(msgspec.Struct):
    items: list[Any]
    limit: int
    offset: int


class VoteRequest(msgspec.Struct, forbid_unknown_fields=True):
    song_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    # Sent by the web client; anything malformed is accepted and recorded as missing.
    fingerprint: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class VoteOut(msgspec.Struct):
    id: int
    contest_id: int
    song_id: int
    cast_at: datetime
    status: str
    counted: bool
    retracted_at: datetime | None
    # Until when the voter may take the vote back (minutes after casting, while voting is open); None: never.
    retractable_until: datetime | None
    explanation: str


class RemainingOut(msgspec.Struct):
    day: date
    votes_left_today: int
    votes_per_day: int
    votes_per_song_per_day: int
    songs_at_limit: list[int]


# --- songs ---------------------------------------------------------------------------------------------

ShortText = Annotated[str, msgspec.Meta(max_length=100)]


class Collaborator(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    role: ShortText = ""


class SongCredits(msgspec.Struct, forbid_unknown_fields=True):
    tools: Annotated[list[ShortText], msgspec.Meta(max_length=30)] = msgspec.field(default_factory=list)
    collaborators: Annotated[list[Collaborator], msgspec.Meta(max_length=30)] = msgspec.field(
        default_factory=list
    )


class SongMetadata(msgspec.Struct, forbid_unknown_fields=True):
    """Sent with an upload as JSON in the ``X-Song-Metadata`` header (ASCII with \\u escapes, or UTF-8)."""

    title: Title
    artist_name: Title
    genre: Annotated[str, msgspec.Meta(max_length=64)] = ""
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    credits: SongCredits = msgspec.field(default_factory=SongCredits)
    license: Annotated[str, msgspec.Meta(max_length=64, extra_json_schema={"enum": list(LICENSES)})] = (
        "all-rights-reserved"
    )
    # The client's file name, kept to show people; never used as a path.
    filename: Annotated[str, msgspec.Meta(max_length=4096)] | None = None


class SongSubmitted(msgspec.Struct):
    id: int
    contest_id: int
    status: str
    status_url: str
    size_bytes: int
    sha256: str
    original_filename: str


# Closed (no field beyond these): a song answer is one of three shapes, and each must match only its own.
class SongOut(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What everyone sees of an approved song."""

    id: int
    contest_id: int
    title: str
    artist_name: str
    genre: str
    description: str
    credits: dict[str, Any]
    license: str
    duration_seconds: float | None
    format: str | None
    audio_url: str | None
    created_at: datetime


class MySongOut(SongOut, kw_only=True, forbid_unknown_fields=True):
    """What the contestant sees of their own song: its status and the reason for it."""

    status: str
    status_reason: str | None
    original_filename: str
    size_bytes: int
    sha256: str | None
    mime_type: str | None
    codec: str | None
    bitrate: int | None
    sample_rate: int | None
    channels: int | None
    processed_at: datetime | None
    updated_at: datetime


class SongReviewOut(MySongOut, kw_only=True, forbid_unknown_fields=True):
    """What a moderator sees: who submitted it and the evidence the checks collected."""

    contestant_id: int
    review_evidence: dict[str, Any]
    process_attempts: int


class ModerationDecision(msgspec.Struct, forbid_unknown_fields=True):
    # Required to reject (the contestant reads it); optional to approve.
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


DecisionName = Annotated[str, msgspec.Meta(pattern="^(confirm|clear)$")]
# Blank notes are refused (note_required): the schema asks for one character Python's strip() keeps.
Note = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=1000,
        extra_json_schema={"pattern": r"^[^\x00]*[^\s\x00\x1c-\x1f\x85][^\x00]*$"},
    ),
]


class CaseDecisionRequest(msgspec.Struct, forbid_unknown_fields=True):
    key: Annotated[str, msgspec.Meta(min_length=3, max_length=96)]
    decision: DecisionName
    note: Note


class VoteDecisionRequest(msgspec.Struct, forbid_unknown_fields=True):
    decision: DecisionName
    note: Note


class VoidAccountRequest(msgspec.Struct, forbid_unknown_fields=True):
    note: Note
    ban: bool = False


class UnbanRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Note


class DecisionOut(msgspec.Struct):
    votes: int
    decision: str


class SongEffectOut(msgspec.Struct):
    song_id: int
    case_votes: int
    counted_votes: int
    rank_now: int
    rank_if_cleared: int


class AppealRequest(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class AppealOut(msgspec.Struct):
    """An appeal as its voter sees it: waiting, or decided (counted or not) with the moderator's note."""

    id: int
    vote_id: int
    contest_id: int
    song_id: int
    note: str
    created_at: datetime
    state: str  # waiting | counted | not_counted
    decision_note: str | None
    decided_at: datetime | None


class CaseAppealOut(msgspec.Struct):
    vote_id: int
    voter_id: int
    note: str
    created_at: datetime


class CaseOut(msgspec.Struct):
    key: str
    kind: str
    votes: int
    accounts: int
    first_cast_at: datetime
    last_cast_at: datetime
    reasons: dict[str, int]
    sample_evidence: list[str]
    group: dict[str, Any] | None
    effect_if_cleared: list[SongEffectOut]
    appeals: int = 0  # held votes of the case whose voters appealed


class ReviewedVoteOut(msgspec.Struct):
    id: int
    song_id: int
    voter_id: int
    cast_at: datetime
    status: str
    fraud_score: int | None
    reasons: list[dict[str, Any]]
    ip: str
    network_prefix: str
    country: str | None
    city: str | None
    asn: int | None
    as_org: str | None
    user_agent: str | None
    device_fingerprint: str | None
    device_cookie_id: str | None
    accept_language: str | None
    client_timezone: str | None


class CaseDetailOut(msgspec.Struct):
    case: CaseOut
    votes: list[ReviewedVoteOut]
    # The voters' appeals against the hold on votes of this case; the decision's note is their answer.
    appeals: list[CaseAppealOut] = msgspec.field(default_factory=list)


# --- leaderboards --------------------------------------------------------------------------------------


class BoardEntryOut(msgspec.Struct):
    song_id: int
    rank: int
    votes: int  # weighted total of counted votes (valid and cleared, not retracted)
    title: str
    artist_name: str


class BoardOut(msgspec.Struct):
    """One page of a board. ``view``: live, frozen (the public during a freeze) or final (voting ended)."""

    contest_id: int
    country: str | None  # None: the global board
    view: str
    version: int
    computed_at: datetime
    frozen_at: datetime | None
    total: int
    limit: int
    offset: int
    items: list[BoardEntryOut]


class BoardCountriesOut(msgspec.Struct):
    contest_id: int
    countries: list[str]  # ISO 3166 alpha-2 codes, alphabetical


class StandingOut(msgspec.Struct):
    contest_id: int
    country: str | None
    view: str
    version: int
    song_id: int
    title: str
    artist_name: str
    rank: int
    votes: int
    tied_with: int
    board_size: int


class HistoryEntryOut(msgspec.Struct, array_like=True):
    song_id: int
    rank: int
    votes: int


class HistoryPointOut(msgspec.Struct):
    taken_at: datetime
    reason: str
    entries: list[HistoryEntryOut]  # [song_id, rank, votes]


class HistoryOut(msgspec.Struct):
    contest_id: int
    song_id: int | None
    view: str
    points: list[HistoryPointOut]


class ResultOut(msgspec.Struct):
    song_id: int
    title: str
    artist_name: str
    song_status: str
    rank: int | None
    votes: int
    valid: int
    cleared: int
    pending: int
    suspicious: int
    rejected: int
    retracted: int


class ResultsOut(msgspec.Struct):
    contest_id: int
    generated_at: datetime
    items: list[ResultOut]
