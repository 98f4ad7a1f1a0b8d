"""Request and response bodies (msgspec Structs: validated at the edge, with limits on every string)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Username = Annotated[str, msgspec.Meta(min_length=3, max_length=32)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
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


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    username: Username
    password: Password
    roles: Annotated[list[RoleName], msgspec.Meta(max_length=4)] = msgspec.field(default_factory=list)


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


class Page(msgspec.Struct):
    items: list[Any]
    limit: int
    offset: int
