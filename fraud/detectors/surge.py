"""A song drawing far more votes from brand-new accounts than its share predicts, for hours on end.

Residential-proxy farms sign up a fresh account (new IP, new fingerprint) for every vote, so each vote
looks like an honest newcomer. What they cannot hide is the aggregate: the target song's votes from new
accounts run far above what its popularity among established accounts predicts, and they keep doing so
around the clock. An honest flash crowd (a contestant shares the link) also brings a wave of new accounts
to one song, but within hours: each song's busiest hours are left out of the comparison, so a burst alone
never fires.

Per-batch figures (once per scoring call, over the 24 h history + batch):

- ``fresh`` votes: cast by an account younger than ``account_hours`` at the vote;
- for each song, its fresh votes outside its own ``burst_hours`` busiest (clock) hours of fresh votes;
- expected = the other songs' fresh votes (each outside its own busiest hours) x the song's votes from
  established accounts / the other songs' votes from established accounts: the song's share of the
  attention of accounts that are not new, applied to the newcomers;
- the song surges when observed >= ``threshold`` x expected and observed - expected >= ``min_excess``.

The reason goes only to a fresh account whose every vote (it is under ``account_hours`` old, so the index
holds its whole life) is for the surging song: multi-song newcomers behave like people. Honest newcomers
to that song get it too (the song-level figure cannot tell them apart), so its default weight keeps it
below the review threshold together with ``new_account``: a vote is flagged only when one more signal
agrees (unverified email, timezone and languages contradicting the IP, a shared network, a disposable
address...).
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import ContestIndex
from fraud.types import Reason, VoteEvent


@dataclass(frozen=True, slots=True)
class SongSurge:
    song_id: int
    observed: int  # fresh votes outside the song's busiest hours
    expected: float
    hours: int  # distinct clock hours holding those votes
    dropped_hours: int

    @property
    def ratio(self) -> float:
        return self.observed / max(self.expected, 1.0)


def song_surges(index: ContestIndex, settings: DetectorConfig) -> dict[int, SongSurge]:
    """The songs surging with fresh-account votes in the index (history + batch)."""
    max_age = settings.option("account_hours") * 3600.0
    burst_hours = int(settings.option("burst_hours"))
    events, times = index.events, index.times
    fresh_by_song_hour: Counter[tuple[int, int]] = Counter()
    established: Counter[int] = Counter()
    for event, moment in zip(events, times, strict=True):
        if moment - event.account_created_at.timestamp() < max_age:
            hour = int(moment // 3600)
            fresh_by_song_hour[(event.song_id, hour)] += 1
        else:
            established[event.song_id] += 1
    per_song: dict[int, dict[int, int]] = {}
    for (song, hour), count in fresh_by_song_hour.items():
        per_song.setdefault(song, {})[hour] = count
    # Each song's fresh votes outside its own busiest hours: a flash crowd on one song inflates neither its
    # own figure nor the rate the other songs are compared with.
    trimmed: dict[int, tuple[int, int, int]] = {}  # song -> (fresh votes kept, hours kept, hours dropped)
    for song, hours in per_song.items():
        busiest = set(heapq.nlargest(burst_hours, hours, key=hours.__getitem__)) if burst_hours else set()
        kept = [count for hour, count in hours.items() if hour not in busiest]
        trimmed[song] = (sum(kept), len(kept), len(busiest))
    fresh_total = sum(kept for kept, _, _ in trimmed.values())
    established_total = sum(established.values())
    surges: dict[int, SongSurge] = {}
    for song, (observed, kept_hours, dropped) in trimmed.items():
        others_established = established_total - established[song]
        if observed == 0 or others_established <= 0:
            continue
        # The song's share of the established accounts' votes, applied to the other songs' fresh votes.
        expected = (fresh_total - observed) * established[song] / others_established
        surges[song] = SongSurge(song, observed, expected, kept_hours, dropped)
    return surges


class FreshAccountSurge(Detector):
    name = "fresh_account_surge"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        age = vote.cast_at.timestamp() - vote.account_created_at.timestamp()
        if age >= settings.option("account_hours") * 3600.0:
            return None
        surge = index.memo(self.name, lambda: song_surges(index, settings)).get(vote.song_id)
        if surge is None or surge.ratio < settings.threshold:
            return None
        if surge.observed - surge.expected < settings.option("min_excess"):
            return None
        column = index.column("song")
        positions = index.positions("account", vote.voter_id)
        if any(column[position] != vote.song_id for position in positions):
            return None  # this newcomer also voted for other songs
        hours = settings.option("account_hours")
        return self.reason(
            settings,
            f"song {vote.song_id} got {surge.observed} votes from accounts under {hours:g} h old over "
            f"{surge.hours} different hours of the last day (its {surge.dropped_hours} busiest hours "
            f"left out); its share of the other votes predicts {surge.expected:.0f} "
            f"({surge.ratio:.1f}x). This account is {age / 60:.0f} min old and voted for nothing else",
            {
                "song_id": vote.song_id,
                "fresh_votes": surge.observed,
                "expected": round(surge.expected, 1),
                "ratio": round(surge.ratio, 2),
                "hours": surge.hours,
                "account_age_seconds": round(age, 1),
            },
        )
