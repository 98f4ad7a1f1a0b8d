import itertools
import random

from fraud import FraudConfig, GroupConfig, VoteEdge, find_coordinated_groups, score_batch, with_group_reasons
from fraud.groups import REASON_CODE, edges_from_events
from fraud.types import Reason
from tests.unit.fraud.factories import CONTEXT, T0, vote

DAY = 86400.0
START = T0.timestamp()
SONGS = list(range(1, 41))
POPULARITY = [1 / rank for rank in range(1, 41)]
RING_SONGS = [22, 27, 31, 36]


class Contest:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.edges: list[VoteEdge] = []
        self.ids = itertools.count(1)
        self.voters = itertools.count(1)

    def add(self, voter: int, song: int, at: float) -> None:
        self.edges.append(VoteEdge(next(self.ids), voter, song, at))

    def honest(self, voters: int = 3000, days: int = 3) -> None:
        """Voters pick 1-6 songs by popularity, at random hours, some return on later days."""
        cumulative = list(itertools.accumulate(POPULARITY))
        for _ in range(voters):
            voter = next(self.voters)
            picks = set(self.rng.choices(SONGS, cum_weights=cumulative, k=self.rng.randint(1, 6)))
            for day in range(days):
                if day and self.rng.random() > 0.3:
                    continue
                at = START + day * DAY + self.rng.uniform(0, DAY)
                for song in picks:
                    self.add(voter, song, at)
                    at += self.rng.uniform(5, 60)

    def ring(self, members: int, camouflage: int = 0, days: int = 3) -> set[int]:
        """Members vote for the ring's songs within minutes of a daily call, plus camouflage picks."""
        accounts = {next(self.voters) for _ in range(members)}
        cumulative = list(itertools.accumulate(POPULARITY))
        for day in range(days):
            call = START + day * DAY + 18 * 3600
            for account in sorted(accounts):
                picks = set(RING_SONGS)
                while len(picks) < len(RING_SONGS) + camouflage:
                    picks.add(self.rng.choices(SONGS, cum_weights=cumulative)[0])
                at = call + self.rng.expovariate(1 / 600)
                for song in picks:
                    self.add(account, song, at)
                    at += self.rng.uniform(5, 60)
        return accounts

    def flash_crowd(self, size: int, song: int = 12) -> None:
        for _ in range(size):
            voter = next(self.voters)
            self.add(voter, song, START + DAY + 20 * 3600 + self.rng.expovariate(1 / 1800))
            if self.rng.random() < 0.15:
                self.add(voter, self.rng.choice(SONGS), START + DAY + 21 * 3600)


def test_a_vote_ring_is_found_with_its_accounts_songs_windows_and_votes():
    contest = Contest()
    contest.honest()
    ring = contest.ring(40)
    scan = find_coordinated_groups(contest.edges)
    assert len(scan.groups) == 1
    group = scan.groups[0]
    assert set(group.accounts) == ring
    assert set(group.songs) == set(RING_SONGS)
    ring_votes = {edge.vote_id for edge in contest.edges if edge.voter_id in ring}
    assert set(group.vote_ids) == ring_votes
    call_hour = (T0.hour + 18) % 24  # the ring's daily call
    assert group.windows
    assert all(start.hour in (call_hour, call_hour + 1) for start, _ in group.windows)
    assert group.lift > 10
    assert group.lockstep > 0.5
    assert group.reason.code == REASON_CODE
    assert "40 accounts" in group.reason.evidence


def test_camouflage_votes_for_popular_songs_do_not_hide_the_ring():
    contest = Contest(2)
    contest.honest()
    ring = contest.ring(40, camouflage=8)  # 2:1 camouflage, biased by popularity
    scan = find_coordinated_groups(contest.edges)
    found = {account for group in scan.groups for account in group.accounts}
    assert len(found & ring) >= 36
    assert not found - ring


def test_flash_crowd_and_honest_majority_are_not_groups():
    contest = Contest(3)
    contest.honest(5000)
    contest.flash_crowd(1500)
    scan = find_coordinated_groups(contest.edges)
    assert scan.groups == ()
    assert scan.blocks_examined >= 1
    assert scan.rejected


def test_small_rings_below_the_minimum_and_disabled_config():
    contest = Contest(4)
    contest.honest(1000)
    contest.ring(6)
    assert find_coordinated_groups(contest.edges).groups == ()
    contest.ring(30)
    assert find_coordinated_groups(contest.edges, GroupConfig(enabled=False)).groups == ()
    assert (
        find_coordinated_groups(contest.edges, FraudConfig.from_dict({"groups": {"enabled": False}})).groups
        == ()
    )
    assert find_coordinated_groups([]).groups == ()


def test_group_reasons_join_the_per_vote_verdicts():
    events = [vote(voter=1), vote(voter=2)]
    result = score_batch(events, [], CONTEXT, now=T0)
    contest = Contest(5)
    contest.honest(500)
    ring = contest.ring(20)
    scan = find_coordinated_groups(contest.edges)
    reason = scan.groups[0].reason
    merged = with_group_reasons(result, {events[0].vote_id: reason})
    first, second = merged.verdicts
    assert first.suspicious
    assert first.reasons[0].code == REASON_CODE
    assert not second.suspicious
    assert set(scan.reasons_by_vote()) == {e.vote_id for e in contest.edges if e.voter_id in ring}
    assert edges_from_events(events)[0] == VoteEdge(
        events[0].vote_id, 1, 1, T0.timestamp(), events[0].account_created_at.timestamp()
    )


def test_merging_a_group_reason_twice_counts_it_once():
    events = [vote(voter=1)]
    result = score_batch(events, [], CONTEXT, now=T0)
    contest = Contest(6)
    contest.honest(500)
    contest.ring(20)
    reason = find_coordinated_groups(contest.edges).groups[0].reason
    once = with_group_reasons(result, {events[0].vote_id: reason})
    twice = with_group_reasons(once, {events[0].vote_id: reason})
    assert twice == once
    assert [r.code for r in twice.verdicts[0].reasons].count(REASON_CODE) == 1


def test_a_stored_reason_reads_back_as_it_was():
    contest = Contest(7)
    contest.honest(500)
    contest.ring(20)
    reason = find_coordinated_groups(contest.edges).groups[0].reason
    assert Reason.from_dict(reason.as_dict()) == reason
