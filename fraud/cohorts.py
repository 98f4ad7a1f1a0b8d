"""Signup cohorts: accounts created together, dormant, then loyal to one song day after day.

A slow drip stays under every rate: each account votes once a day, each vote through another residential
IP. What gives it away is where the accounts came from. Bought or farmed accounts are made in batches
(a script, an afternoon of manual signups) and left to age so that they do not look new; when the contest
opens they all vote for the same song, and nothing else, every day.

Run with the coordinated-group detector over the whole contest (it needs every vote and each account's
creation time, ``VoteEdge.account_created_at``):

1. *Loyal* accounts: at least ``min_song_share`` of the account's votes went to one song, on at least
   ``min_days`` different days (UTC), and the account existed ``dormant_hours`` before its first vote of
   the contest. Newcomers of the contest (an honest flash crowd signs up together too) are left to the
   per-vote ``fresh_account_surge``.
2. For each song, the ``window_hours`` span of creation time holding the most accounts loyal to it.
3. Expected: every contest voter created in that span x the song's loyal rate among the accounts created
   outside it (what accounts born then would do if they behaved like everybody else). A cohort is
   confirmed with at least ``min_accounts`` members and ``min_lift`` x the expected count; its members
   leave and the song's next densest span is examined, up to ``max_cohorts`` per song.

Honest loyal fans are spread over years of signups, so any few hours hold a handful of them, in proportion
to the song's popularity.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from fraud.config import CohortConfig
from fraud.stats import median
from fraud.types import CoordinatedGroup, Reason, VoteEdge

REASON_CODE = "signup_cohort"
_DAY = 86400.0
_MIN_NEWCOMERS = 50  # newcomers outside a fresh cohort's span needed to judge how often newcomers return


def _densest_span(times: Sequence[float], width: float) -> tuple[int, int]:
    """Indexes [start, end) of the sorted ``times`` holding the most values within ``width``."""
    best, best_start, best_end, start = 0, 0, 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > width:
            start += 1
        if end - start + 1 > best:
            best, best_start, best_end = end - start + 1, start, end + 1
    return best_start, best_end


def find_signup_cohorts(
    edges: Sequence[VoteEdge], settings: CohortConfig, claimed: set[int] | None = None
) -> list[CoordinatedGroup]:
    """Confirmed cohorts, ignoring the accounts in ``claimed`` (already in a coordinated group)."""
    if not settings.enabled:
        return []
    claimed = claimed or set()
    created: dict[int, float] = {}
    first_vote: dict[int, float] = {}
    voter_votes: Counter[int] = Counter()
    voter_held: Counter[int] = Counter()
    pair_votes: Counter[tuple[int, int]] = Counter()
    pair_days: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for edge in edges:
        birth = edge.account_created_at
        if birth is None:
            continue
        voter = edge.voter_id
        created[voter] = birth
        if edge.cast_at < first_vote.get(voter, math.inf):
            first_vote[voter] = edge.cast_at
        voter_votes[voter] += 1
        voter_held[voter] += edge.held
        pair = (voter, edge.song_id)
        pair_votes[pair] += 1
        pair_days[pair].add(int(edge.cast_at // _DAY))
    if not created:
        return []
    dormant = settings.dormant_hours * 3600.0
    quick = settings.fresh_minutes * 60.0
    last_day = max(int(edge.cast_at // _DAY) for edge in edges)
    loyal: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)  # song -> (created, voter)
    fresh_loyal: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
    for (voter, song), count in pair_votes.items():
        if (
            voter not in claimed
            # Accounts whose votes the per-vote scoring already holds need no cohort, and counting them
            # would let a crude script's batch pull in the honest fans created in the same hours.
            and voter_held[voter] * 2 < voter_votes[voter]
            and count >= settings.min_song_share * voter_votes[voter]
            and len(pair_days[(voter, song)]) >= settings.min_days
        ):
            waited = first_vote[voter] - created[voter]
            if waited >= dormant:
                loyal[song].append((created[voter], voter))
            elif waited <= quick and len(pair_days[(voter, song)]) > last_day - int(
                first_vote[voter] // _DAY
            ):
                # voted right away, then on every day since, for this song
                fresh_loyal[song].append((created[voter], voter))
    births = sorted(created.values())
    width = settings.window_hours * 3600.0
    found = _dormant_cohorts(loyal, births, width, settings)
    if fresh_loyal:
        newcomers: defaultdict[int, list[float]] = defaultdict(list)  # first-vote day -> creation times
        for voter, birth in created.items():
            # The yardstick from honest-looking newcomers only: a farm's one-shot accounts, already held,
            # would make every newcomer who comes back look loyal.
            honest_looking = voter_held[voter] * 2 < voter_votes[voter]
            if voter not in claimed and honest_looking and first_vote[voter] - birth <= quick:
                newcomers[int(first_vote[voter] // _DAY)].append(birth)
        found += _fresh_cohorts(fresh_loyal, newcomers, width, settings)
    return _materialise(edges, found, created, first_vote, pair_days, settings)


_Found = tuple[int, list[int], float, float, bool]  # song, members, expected, lift, fresh


def _dormant_cohorts(
    loyal: dict[int, list[tuple[float, int]]], births: list[float], width: float, settings: CohortConfig
) -> list[_Found]:
    found: list[_Found] = []
    for song, accounts in loyal.items():
        accounts.sort()
        for _ in range(settings.max_cohorts):
            if len(accounts) < settings.min_accounts:
                break
            times = [birth for birth, _ in accounts]
            start, end = _densest_span(times, width)
            count = end - start
            if count < settings.min_accounts:
                break
            born_then = bisect_right(births, times[end - 1]) - bisect_left(births, times[start])
            rate = (len(accounts) - count) / max(1, len(births) - born_then)
            expected = born_then * rate
            lift = count / max(expected, 1.0)
            if lift < settings.min_lift:
                break
            found.append((song, [voter for _, voter in accounts[start:end]], expected, lift, False))
            del accounts[start:end]
    return found


def _fresh_cohorts(
    loyal: dict[int, list[tuple[float, int]]],
    newcomers: dict[int, list[float]],
    width: float,
    settings: CohortConfig,
) -> list[_Found]:
    """Accounts created together that voted right away and came back every day since, for one song.

    A viral link brings a burst of brand-new accounts too, so the yardstick is not the song's loyal rate
    but how many of the accounts born in the span came back every day for one song, against the same
    share among the other newcomers who started voting on the same day (they had as many days to come
    back): fans of a shared link return now and then, like everyone else; a paid crowd returns daily.
    """
    by_day = {day: sorted(times) for day, times in newcomers.items()}
    loyal_by_day: defaultdict[int, list[float]] = defaultdict(list)
    for accounts in loyal.values():
        for birth, _ in accounts:
            loyal_by_day[_day_of(birth, by_day)].append(birth)
    for times in loyal_by_day.values():
        times.sort()
    found: list[_Found] = []
    for song, accounts in loyal.items():
        accounts.sort()
        for _ in range(settings.max_cohorts):
            if len(accounts) < settings.min_accounts:
                break
            times = [birth for birth, _ in accounts]
            start, end = _densest_span(times, width)
            count = end - start
            if count < settings.min_accounts:
                break
            low, high = times[start], times[end - 1]
            day = _day_of(low, by_day)
            births, loyal_any = by_day.get(day, []), loyal_by_day.get(day, [])
            born_then = bisect_right(births, high) - bisect_left(births, low)
            loyal_then = bisect_right(loyal_any, high) - bisect_left(loyal_any, low)
            if len(births) - born_then < _MIN_NEWCOMERS:
                break  # no yardstick: too few other newcomers to say how often newcomers come back
            rate = (len(loyal_any) - loyal_then) / (len(births) - born_then)
            expected = born_then * rate
            lift = count / max(expected, 1.0)
            if lift < settings.fresh_min_lift:
                break
            found.append((song, [voter for _, voter in accounts[start:end]], expected, lift, True))
            del accounts[start:end]
    return found


def _day_of(birth: float, by_day: dict[int, list[float]]) -> int:
    """The first-vote day of newcomers born at this moment (they vote within the hour: nearly always the
    birth day; a birth just before midnight counts on the next day when that day has newcomers)."""
    day = int(birth // _DAY)
    return day if day in by_day or day + 1 not in by_day else day + 1


def _materialise(
    edges: Sequence[VoteEdge],
    found: Sequence[_Found],
    created: dict[int, float],
    first_vote: dict[int, float],
    pair_days: dict[tuple[int, int], set[int]],
    settings: CohortConfig,
) -> list[CoordinatedGroup]:
    if not found:
        return []
    owner = {voter: position for position, entry in enumerate(found) for voter in entry[1]}
    votes: list[list[int]] = [[] for _ in found]
    for edge in edges:
        position = owner.get(edge.voter_id)
        if position is not None:
            votes[position].append(edge.vote_id)
    groups = []
    for (song, members, expected, lift, fresh), vote_ids in zip(found, votes, strict=True):
        births = [created[voter] for voter in members]
        first, last = datetime.fromtimestamp(min(births), UTC), datetime.fromtimestamp(max(births), UTC)
        idle = median([(first_vote[voter] - created[voter]) / _DAY for voter in members])
        days = sorted(len(pair_days[(voter, song)]) for voter in members)
        day_text = f"{days[0]}" if days[0] == days[-1] else f"{days[0]}-{days[-1]}"
        span_minutes = (max(births) - min(births)) / 60
        created_text = (
            f"{len(members)} accounts created within {span_minutes:.0f} min of each other "
            f"({first:%Y-%m-%d %H:%M}-{last:%H:%M} UTC)"
        )
        floor_text = ", a prediction under 1 counted as 1" if expected < 1 else ""
        if fresh:
            evidence = (
                f"{created_text} voted within {idle * 1440:.0f} min of signing up (median) and came "
                f"back for song {song} and little else, each on {day_text} different days "
                f"({len(vote_ids)} votes); if newcomers of those hours came back like the contest's other "
                f"newcomers, {expected:.1f} would have ({lift:.1f}x{floor_text})"
            )
        else:
            evidence = (
                f"{created_text} and idle for {idle:.0f} days (median) voted for "
                f"song {song} and little else, each on {day_text} different days ({len(vote_ids)} votes); "
                f"accounts created then would number {expected:.1f} if they voted like the rest of the "
                f"contest ({lift:.0f}x{floor_text})"
            )
        reason = Reason(
            code=REASON_CODE,
            points=settings.points,
            evidence=evidence,
            data={
                "accounts": len(members),
                "song_id": song,
                "created_from": first.isoformat(),
                "created_to": last.isoformat(),
                "expected": round(expected, 2),
                "lift": round(lift, 2),
                "votes": len(vote_ids),
                "voted_at_signup": fresh,
            },
        )
        groups.append(
            CoordinatedGroup(
                accounts=tuple(sorted(members)),
                songs=(song,),
                windows=((first, last),),
                density=0.0,
                lift=lift,
                lockstep=0.0,
                vote_ids=tuple(vote_ids),
                reason=reason,
                kind="signup_cohort",
            )
        )
    return groups
