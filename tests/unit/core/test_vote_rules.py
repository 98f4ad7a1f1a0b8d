"""The ballot rules and the retraction window, on plain values."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Conflict, DomainError, Forbidden, NotFound
from core.geo import GeoData
from core.votes.rules import Voter, VotingRules, check_ballot, check_retraction, retractable_until

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OPEN = VotingRules(
    status="open",
    voting_opens_at=NOW - timedelta(days=1),
    voting_closes_at=NOW + timedelta(days=1),
    votes_per_voter_per_day=5,
    votes_per_song_per_day=1,
    eligible_countries=None,
    allow_unknown_country=True,
    require_verified_email=False,
    min_account_age_hours=0,
    retraction_minutes=10,
)
VOTER = Voter(email_verified=True, created_at=NOW - timedelta(days=30))
SWEDEN = GeoData(country="SE")


def refusal(
    rules: VotingRules | None = OPEN,
    song: str | None = "approved",
    voter: Voter = VOTER,
    geo: GeoData = SWEDEN,
    now: datetime = NOW,
) -> DomainError:
    with pytest.raises(DomainError) as caught:
        check_ballot(rules, song, voter, geo, now)
    return caught.value


def test_a_legal_ballot_passes() -> None:
    check_ballot(OPEN, "approved", VOTER, SWEDEN, NOW)
    check_ballot(replace(OPEN, eligible_countries=["SE"]), "approved", VOTER, SWEDEN, NOW)


@pytest.mark.parametrize("rules", [None, replace(OPEN, status="draft")])
def test_a_missing_or_draft_contest_is_not_found(rules: VotingRules | None) -> None:
    error = refusal(rules)
    assert isinstance(error, NotFound)
    assert error.code == "contest_not_found"


@pytest.mark.parametrize(
    ("rules", "now"),
    [
        (replace(OPEN, status="closed"), NOW),
        (OPEN, OPEN.voting_opens_at - timedelta(seconds=1)),
        (OPEN, OPEN.voting_closes_at),  # the closing moment itself is closed
    ],
)
def test_voting_outside_the_window_is_closed(rules: VotingRules, now: datetime) -> None:
    error = refusal(rules, now=now)
    assert isinstance(error, Forbidden)
    assert error.code == "voting_closed"


def test_the_opening_moment_itself_is_open() -> None:
    check_ballot(OPEN, "approved", VOTER, SWEDEN, OPEN.voting_opens_at)


def test_songs_must_exist_in_the_contest_and_be_approved() -> None:
    missing, withdrawn = refusal(song=None), refusal(song="withdrawn")
    assert isinstance(missing, NotFound)
    assert missing.code == "song_not_found"
    assert isinstance(withdrawn, Conflict)
    assert withdrawn.code == "song_not_votable"


def test_a_closed_contest_is_named_before_a_missing_song() -> None:
    assert refusal(replace(OPEN, status="closed"), song=None).code == "voting_closed"


def test_verified_email_is_needed_only_where_the_contest_asks() -> None:
    unverified = replace(VOTER, email_verified=False)
    check_ballot(OPEN, "approved", unverified, SWEDEN, NOW)
    error = refusal(replace(OPEN, require_verified_email=True), voter=unverified)
    assert isinstance(error, Forbidden)
    assert error.code == "email_not_verified"


def test_a_new_account_is_told_how_many_hours_to_wait() -> None:
    young = Voter(True, NOW - timedelta(hours=10, minutes=30))
    error = refusal(replace(OPEN, min_account_age_hours=24), voter=young)
    assert error.code == "account_too_new"
    assert "24 h old" in str(error)
    assert "try again in 14 h" in str(error)
    check_ballot(replace(OPEN, min_account_age_hours=10), "approved", young, SWEDEN, NOW)


def test_countries_outside_the_list_are_refused() -> None:
    nordic = replace(OPEN, eligible_countries=["SE", "NO"])
    error = refusal(nordic, geo=GeoData(country="DE"))
    assert error.code == "country_not_eligible"
    assert "DE" in str(error)


def test_an_unknown_country_passes_only_where_allowed() -> None:
    nordic = replace(OPEN, eligible_countries=["SE"])
    check_ballot(nordic, "approved", VOTER, GeoData(), NOW)
    assert refusal(replace(nordic, allow_unknown_country=False), geo=GeoData()).code == "country_unknown"
    # Without a country list, nobody's country matters.
    check_ballot(replace(OPEN, allow_unknown_country=False), "approved", VOTER, GeoData(), NOW)


@dataclass
class CastVote:
    cast_at: datetime
    status: str = "pending"
    retracted_at: datetime | None = None


def test_the_retraction_window_ends_minutes_after_casting_or_at_closing() -> None:
    closes = NOW + timedelta(minutes=5)
    assert retractable_until(
        CastVote(NOW), retraction_minutes=10, voting_closes_at=NOW + timedelta(days=1)
    ) == (NOW + timedelta(minutes=10))
    assert retractable_until(CastVote(NOW), retraction_minutes=10, voting_closes_at=closes) == closes


@pytest.mark.parametrize(
    ("vote", "minutes"),
    [(CastVote(NOW), 0), (CastVote(NOW, retracted_at=NOW), 10), (CastVote(NOW, status="rejected"), 10)],
)
def test_some_votes_cannot_be_taken_back_at_all(vote: CastVote, minutes: int) -> None:
    assert (
        retractable_until(vote, retraction_minutes=minutes, voting_closes_at=NOW + timedelta(days=1)) is None
    )


def test_retraction_is_refused_once_taken_back_closed_or_too_late() -> None:
    def code(**changes: object) -> str:
        arguments: dict[str, object] = {
            "retracted_at": None,
            "cast_at": NOW - timedelta(minutes=5),
            "voting_open": True,
            "retraction_minutes": 10,
            "now": NOW,
            **changes,
        }
        with pytest.raises(DomainError) as caught:
            check_retraction(**arguments)  # type: ignore[arg-type]
        return caught.value.code

    check_retraction(
        retracted_at=None,
        cast_at=NOW - timedelta(minutes=10),
        voting_open=True,
        retraction_minutes=10,
        now=NOW,
    )
    assert code(retracted_at=NOW) == "already_retracted"
    assert code(voting_open=False) == "voting_closed"
    assert code(cast_at=NOW - timedelta(minutes=10, seconds=1)) == "retraction_window_passed"
