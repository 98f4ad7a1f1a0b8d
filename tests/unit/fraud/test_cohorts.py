import itertools
import random

import pytest

from fraud import FraudConfig, VoteEdge, find_coordinated_groups
from fraud.cohorts import REASON_CODE
from tests.unit.fraud.factories import T0

DAY = 86400.0
START = T0.timestamp()
SONGS = list(range(1, 31))
POPULARITY = [1 / rank for rank in range(1, 31)]


class Contest:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.edges: list[VoteEdge] = []
        self.ids = itertools.count(1)
        self.voters = itertools.count(1)

    def add(self, voter: int, song: int, at: float, created: float | None) -> None:
        self.edges.append(VoteEdge(next(self.ids), voter, song, at, created))

    def honest(self, voters: int = 3000, days: int = 3, born: tuple[float, float] = (1, 730)) -> None:
        """Accounts created ``born`` days ago pick 1-4 songs by popularity; some return on later days."""
        cumulative = list(itertools.accumulate(POPULARITY))
        for _ in range(voters):
            voter = next(self.voters)
            created = START - self.rng.uniform(*born) * DAY
            picks = set(self.rng.choices(SONGS, cum_weights=cumulative, k=self.rng.randint(1, 4)))
            for day in range(days):
                if day and self.rng.random() > 0.4:
                    continue
                at = START + day * DAY + self.rng.uniform(0, DAY)
                for song in picks:
                    self.add(voter, song, at, created)
                    at += self.rng.uniform(5, 60)

    def cohort(
        self,
        members: int,
        song: int | None = 9,
        created: float = START - 25 * DAY,
        days: int = 3,
        extra: int = 0,
    ) -> set[int]:
        """Accounts created within two hours; each votes once a day, at a random time, for ``song``
        (plus ``extra`` other songs a day)."""
        accounts = set()
        cumulative = list(itertools.accumulate(POPULARITY))
        for _ in range(members):
            voter = next(self.voters)
            accounts.add(voter)
            born = created + self.rng.uniform(0, 7200)
            for day in range(days):
                pick = song or self.rng.choices(SONGS, cum_weights=cumulative)[0]
                at = START + day * DAY + self.rng.uniform(0, DAY)
                self.add(voter, pick, at, born)
                for other in self.rng.sample([s for s in SONGS if s != pick], extra):
                    at += self.rng.uniform(5, 60)
                    self.add(voter, other, at, born)
        return accounts


def _cohorts(edges, config=None):
    return [group for group in find_coordinated_groups(edges, config).groups if group.kind == REASON_CODE]


def test_accounts_created_together_and_loyal_to_one_song_are_a_cohort():
    contest = Contest()
    contest.honest()
    drip = contest.cohort(40)
    [cohort] = _cohorts(contest.edges)
    assert set(cohort.accounts) == drip
    assert cohort.songs == (9,)
    assert set(cohort.vote_ids) == {edge.vote_id for edge in contest.edges if edge.voter_id in drip}
    assert cohort.reason.code == REASON_CODE
    assert cohort.reason.points == 60
    assert "40 accounts created within" in cohort.reason.evidence
    assert "song 9" in cohort.reason.evidence
    assert cohort.lift >= 10
    by_vote = find_coordinated_groups(contest.edges).reasons_by_vote()
    assert {vote_id for vote_id, reason in by_vote.items() if reason.code == REASON_CODE} == set(
        cohort.vote_ids
    )


def test_honest_contest_has_no_cohort():
    contest = Contest(2)
    contest.honest(5000)
    assert _cohorts(contest.edges) == []


def test_a_signup_wave_that_votes_like_everybody_else_is_not_a_cohort():
    contest = Contest(3)
    contest.honest()
    contest.cohort(60, song=None)  # a marketing push brought them in together; their tastes are ordinary
    assert _cohorts(contest.edges) == []


def test_a_launch_day_full_of_loyal_fans_of_popular_songs_is_not_a_cohort():
    contest = Contest(8)
    contest.honest()
    # Thousands of ordinary accounts created the same afternoon (the app's launch): the fans of the
    # popular songs among them are many, but no more than those songs' share predicts.
    contest.honest(3000, born=(400, 400.15))
    assert _cohorts(contest.edges) == []


def test_accounts_created_together_that_vote_for_many_songs_are_not_loyal():
    contest = Contest(9)
    contest.honest()
    contest.cohort(40, extra=3)  # song 9 every day, but three quarters of their votes elsewhere
    assert _cohorts(contest.edges) == []


def test_newcomers_who_sign_up_together_for_a_song_and_come_back_are_not_a_cohort():
    contest = Contest(4)
    contest.honest()
    # A flash crowd: accounts created minutes before their first vote, returning on the next days.
    contest.cohort(80, song=5, created=START + 0.5 * DAY)
    assert _cohorts(contest.edges) == []


def test_loyal_accounts_that_voted_on_a_single_day_are_not_a_cohort():
    contest = Contest(5)
    contest.honest()
    contest.cohort(40, days=1)
    assert _cohorts(contest.edges) == []


def test_edges_without_creation_times_and_disabled_detector():
    contest = Contest(6)
    contest.honest(1000)
    contest.cohort(40)
    assert len(_cohorts(contest.edges)) == 1
    assert _cohorts(contest.edges, FraudConfig.from_dict({"cohorts": {"enabled": False}})) == []
    bare = [VoteEdge(edge.vote_id, edge.voter_id, edge.song_id, edge.cast_at) for edge in contest.edges]
    assert _cohorts(bare) == []


def test_cohort_settings_are_tunable_and_validated():
    contest = Contest(7)
    contest.honest(1000)
    contest.cohort(40)
    assert _cohorts(contest.edges, FraudConfig.from_dict({"cohorts": {"min_accounts": 50}})) == []
    with pytest.raises(ValueError, match=r"'cohorts\.min_acounts'"):
        FraudConfig.from_dict({"cohorts": {"min_acounts": 3}})
    with pytest.raises(ValueError, match=r"'cohorts\.min_days'"):
        FraudConfig.from_dict({"cohorts": {"min_days": 1.5}})


def test_accounts_the_per_vote_scoring_already_holds_do_not_form_a_cohort():
    """A crude script's batch is already held vote by vote; as a cohort it would only pull in the honest
    fans of its song who happen to have signed up in the same hours."""
    contest = Contest()
    contest.honest()
    script = contest.cohort(40)
    fans = contest.cohort(3)  # honest fans of the same song, created in the same two hours
    assert {frozenset(c.accounts) for c in _cohorts(contest.edges)} == {frozenset(script | fans)}

    held = [edge._replace(held=edge.voter_id in script) for edge in contest.edges]
    assert _cohorts(held) == []

    half_held = [
        edge._replace(held=edge.voter_id in script and edge.cast_at < START + DAY) for edge in contest.edges
    ]
    assert [set(c.accounts) for c in _cohorts(half_held)] == [script | fans]  # a third held: still a cohort


def _newcomers(contest: Contest, members: int, song: int | None, created: float, returns: float, span: float):
    """Accounts created within ``span`` seconds that vote minutes after signing up, for ``song`` (or a
    popular pick), and come back on each later day with probability ``returns``."""
    accounts = set()
    cumulative = list(itertools.accumulate(POPULARITY))
    for _ in range(members):
        voter = next(contest.voters)
        accounts.add(voter)
        born = created + contest.rng.uniform(0, span)
        pick = song or contest.rng.choices(SONGS, cum_weights=cumulative)[0]
        contest.add(voter, pick, born + contest.rng.uniform(20, 300), born)
        day = int(born // DAY)  # UTC days, as the detector counts them
        for later in range(day + 1, int(START // DAY) + 4):
            if contest.rng.random() < returns:
                contest.add(voter, pick, later * DAY + contest.rng.uniform(0, DAY), born)
    return accounts


def test_recruits_who_vote_at_signup_and_return_every_day_are_a_cohort():
    contest = Contest(11)
    contest.honest()
    _newcomers(contest, 600, None, START, returns=0.3, span=2.5 * DAY)  # the contest's ordinary newcomers
    recruits = _newcomers(contest, 60, 9, START + 0.2 * DAY, returns=1.0, span=3 * 3600)
    [cohort] = _cohorts(contest.edges)
    assert set(cohort.accounts) >= recruits
    assert len(set(cohort.accounts) - recruits) <= 3
    assert cohort.reason.data["voted_at_signup"] is True
    assert "voted within" in cohort.reason.evidence


def test_a_viral_burst_of_newcomers_who_return_like_the_others_is_not_a_cohort():
    contest = Contest(12)
    contest.honest()
    _newcomers(contest, 600, None, START, returns=0.3, span=2.5 * DAY)
    _newcomers(contest, 900, 9, START + 0.2 * DAY, returns=0.3, span=3600)  # one shared post, in an hour
    assert _cohorts(contest.edges) == []
