"""The pure rules of core/leaderboard: who sees which board, when the freeze is in force, country codes, the
counted-vote predicate, and how boards are grouped, digested and a song's standing read from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Forbidden, InvalidInput, NotFound
from core.leaderboard.boards import digest, docs, grouped
from core.leaderboard.cache import BoardDoc
from core.leaderboard.counting import COUNTED_VOTE_SQL, is_counted
from core.leaderboard.read import standing_on
from core.leaderboard.rules import BoardRules, access, parse_country
from core.models import VoteStatus

CLOSES = datetime(2030, 6, 1, 20, 0, tzinfo=UTC)


def rules(
    *, status: str = "open", hidden: bool = False, freeze_hours: int = 0, closes: datetime = CLOSES
) -> BoardRules:
    return BoardRules(1, status, hidden, freeze_hours, closes)


# --- freeze timing ------------------------------------------------------------------------------------------


def test_the_freeze_begins_freeze_hours_before_voting_closes() -> None:
    assert rules(freeze_hours=0).freeze_at is None
    assert rules(freeze_hours=3).freeze_at == CLOSES - timedelta(hours=3)


@pytest.mark.parametrize(
    ("now", "status", "frozen"),
    [
        (CLOSES - timedelta(hours=3, seconds=1), "open", False),  # not yet
        (CLOSES - timedelta(hours=3), "open", True),  # the moment it begins
        (CLOSES - timedelta(seconds=1), "open", True),
        (CLOSES, "open", False),  # voting closed: the final board
        (CLOSES - timedelta(hours=1), "closed", False),  # closed early
        (CLOSES - timedelta(hours=1), "draft", False),
    ],
)
def test_the_freeze_is_in_force_from_its_start_until_voting_ends(
    now: datetime, status: str, frozen: bool
) -> None:
    assert rules(status=status, freeze_hours=3).frozen(now) is frozen


def test_no_freeze_without_freeze_hours() -> None:
    assert not rules(freeze_hours=0).frozen(CLOSES - timedelta(minutes=1))


# --- access -------------------------------------------------------------------------------------------------


def test_the_public_sees_the_live_board_while_voting() -> None:
    seen = access(rules(), staff=False, admin=False, now=CLOSES - timedelta(days=1))
    assert (seen.view, seen.staff, seen.frozen_at) == ("live", False, None)


def test_the_public_sees_the_frozen_board_during_the_freeze_and_staff_the_live_one() -> None:
    during = CLOSES - timedelta(hours=1)
    public = access(rules(freeze_hours=2), staff=False, admin=False, now=during)
    assert (public.view, public.frozen_at) == ("frozen", CLOSES - timedelta(hours=2))
    staff = access(rules(freeze_hours=2), staff=True, admin=False, now=during)
    assert (staff.view, staff.staff, staff.frozen_at) == ("live", True, None)


def test_a_hidden_board_is_refused_to_the_public_until_voting_ends() -> None:
    with pytest.raises(Forbidden) as refused:
        access(rules(hidden=True), staff=False, admin=False, now=CLOSES - timedelta(hours=1))
    assert refused.value.code == "leaderboard_hidden"
    assert access(rules(hidden=True), staff=True, admin=False, now=CLOSES - timedelta(hours=1)).view == "live"
    assert access(rules(hidden=True), staff=False, admin=False, now=CLOSES).view == "final"


def test_everyone_sees_the_final_board_after_voting_or_once_closed() -> None:
    after = access(rules(freeze_hours=2, hidden=True), staff=False, admin=False, now=CLOSES)
    assert after.view == "final"
    early = access(
        rules(status="closed", hidden=True), staff=False, admin=False, now=CLOSES - timedelta(days=2)
    )
    assert early.view == "final"


def test_a_draft_contest_exists_for_admins_only() -> None:
    now = CLOSES - timedelta(days=1)
    for staff in (False, True):
        with pytest.raises(NotFound):
            access(rules(status="draft"), staff=staff, admin=False, now=now)
    assert access(rules(status="draft"), staff=True, admin=True, now=now).view == "live"


# --- country codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "code"), [(None, ""), ("", ""), ("se", "SE"), ("SE", "SE"), ("gB", "GB")])
def test_parse_country_accepts_alpha2_codes_and_nothing_for_the_global_board(
    raw: str | None, code: str
) -> None:
    assert parse_country(raw) == code


@pytest.mark.parametrize("raw", ["S", "SWE", "S1", "ÅÄ", " SE", "*", "--"])
def test_parse_country_refuses_anything_else(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_country(raw)
    assert refused.value.code == "invalid_country"


# --- the counted-vote rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(VoteStatus))
def test_only_valid_and_cleared_votes_not_retracted_count(status: VoteStatus) -> None:
    expected = status in (VoteStatus.VALID, VoteStatus.CLEARED)
    assert is_counted(status.value, None) is expected
    assert is_counted(status.value, CLOSES) is False  # retracted: never counts


def test_the_raw_sql_rule_names_the_same_statuses() -> None:
    assert COUNTED_VOTE_SQL == "votes.status IN ('valid', 'cleared') AND votes.retracted_at IS NULL"


# --- boards -------------------------------------------------------------------------------------------------


ROWS = [
    ("", 2, 1, 5, "B", "Bee"),
    ("", 1, 2, 3, "A", "Ay"),
    ("", 3, 2, 3, "C", "Cee"),
    ("SE", 1, 1, 2, "A", "Ay"),
]


def test_grouped_keeps_display_order_per_country_and_always_a_global_board() -> None:
    boards = grouped(ROWS)
    assert boards == {
        "": [(2, 1, 5, "B", "Bee"), (1, 2, 3, "A", "Ay"), (3, 2, 3, "C", "Cee")],
        "SE": [(1, 1, 2, "A", "Ay")],
    }
    assert grouped([]) == {"": []}


def test_the_digest_changes_with_any_entry_and_not_with_dict_order() -> None:
    boards = grouped(ROWS)
    reordered = dict(reversed(list(boards.items())))
    assert digest(boards) == digest(reordered)
    changed = grouped([*ROWS[:3], ("SE", 1, 1, 3, "A", "Ay")])
    assert digest(changed) != digest(boards)
    renamed = grouped([("", 2, 1, 5, "B", "Bee 2"), *ROWS[1:]])
    assert digest(renamed) != digest(boards)


def test_docs_share_one_version_and_time() -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    made = docs(grouped(ROWS), 7, when)
    assert {country: (doc.version, doc.computed_at) for country, doc in made.items()} == {
        "": (7, when),
        "SE": (7, when),
    }


def test_a_songs_standing_counts_the_songs_tied_with_it() -> None:
    board = BoardDoc(3, CLOSES, grouped(ROWS)[""])
    tied = standing_on(board, 3)
    assert tied is not None
    assert (tied.rank, tied.votes, tied.tied_with, tied.board_size, tied.title) == (2, 3, 1, 3, "C")
    alone = standing_on(board, 2)
    assert alone is not None
    assert (alone.rank, alone.tied_with) == (1, 0)
    assert standing_on(board, 99) is None
