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
- expected = the song's votes from established accounts x the typical song's newcomer rate (the other
  songs' fresh votes per established vote, pooled over the songs left after dropping the tenth with the
  highest and the tenth with the lowest rate): what the song's popularity among accounts that are not
  new predicts for its newcomers, counted in the hours the song kept;
- the song surges when observed >= ``threshold`` x expected and observed - expected >= ``min_excess``.

The reason goes only to a fresh account whose every vote (it is under ``account_hours`` old, so the index
holds its whole life) is for the surging song: multi-song newcomers behave like people. Honest newcomers
to that song get it too (the song-level figure cannot tell them apart), so its default weight keeps it
below the review threshold together with ``new_account``: a vote is flagged only when one more signal
agrees (unverified email, timezone and languages contradicting the IP, a shared network, a disposable
address...). Past ``hold_ratio`` x the prediction (by default 10x: nine in ten of the song's newcomer votes
are beyond what its share explains), the reason is worth ``hold_weight`` instead, which with ``new_account``
reaches the review threshold: every single-song newcomer vote for that song is held for a moderator, the
few honest ones included, rather than letting most of a large farm count.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from itertools import compress
from typing import cast

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import ContestIndex
from fraud.types import Reason, VoteEvent

_MIN_ESTABLISHED = 10  # established votes a song needs for its newcomer rate to count in the median
_MIN_SONGS = 3  # songs with such a rate needed for a yardstick


@dataclass(frozen=True, slots=True)
class SongSurge:
    song_id: int
    observed: int  # fresh votes outside the song's busiest hours
    expected: float
    hours: int  # distinct clock hours holding those votes
    dropped_hours: int
    established: int  # the song's votes from accounts older than account_hours

    @property
    def ratio(self) -> float:
        return self.observed / max(self.expected, 1.0)


def _creation_times(index: ContestIndex) -> list[float]:
    """Account creation time of every indexed vote, aligned with ``index.events``.

    Converted once per account (at its earliest indexed vote), not once per vote: the datetime conversion
    is most of this detector's cost.
    """
    events = index.events
    stamps = {
        voter: events[position].account_created_at.timestamp()
        for voter, position in index.first_vote_position().items()
    }
    return [stamps[cast(int, voter)] for voter in index.column("account")]


def song_surges(index: ContestIndex, settings: DetectorConfig) -> dict[int, SongSurge]:
    """The songs surging with fresh-account votes in the index (history + batch)."""
    max_age = settings.option("account_hours") * 3600.0
    burst_hours = int(settings.option("burst_hours"))
    times = index.times
    songs = index.column("song")
    created = _creation_times(index)
    fresh = [moment - birth < max_age for moment, birth in zip(times, created, strict=True)]
    established: Counter[Hashable] = Counter(compress(songs, [not flag for flag in fresh]))
    fresh_by_song_hour: Counter[tuple[Hashable, int]] = Counter(
        zip(compress(songs, fresh), [int(moment // 3600) for moment in compress(times, fresh)], strict=True)
    )
    per_song: dict[int, dict[int, int]] = {}
    for (song, hour), count in fresh_by_song_hour.items():
        per_song.setdefault(cast(int, song), {})[hour] = count
    # Each song's fresh votes outside its own busiest hours: a flash crowd on one song inflates neither its
    # own figure nor the rate the other songs are compared with.
    trimmed: dict[int, tuple[int, int, int]] = {}  # song -> (fresh votes kept, hours kept, hours dropped)
    busiest_hours: dict[int, list[int]] = {}
    for song, hours in per_song.items():
        busiest = heapq.nlargest(burst_hours, hours, key=hours.__getitem__) if burst_hours else []
        kept = [count for hour, count in hours.items() if hour not in busiest]
        trimmed[song] = (sum(kept), len(kept), len(busiest))
        busiest_hours[song] = busiest
    # The typical song's newcomer rate: fresh votes (all hours) per vote from established accounts, pooled
    # over the songs with enough established votes after dropping the tenth with the highest and the tenth
    # with the lowest rate. Neither the attacked song or a flash crowd's song (highest) nor a drip of aged
    # accounts swelling one song's established votes (lowest; on equal rates the larger song goes first)
    # moves the yardstick of the others, and pooling keeps the chance spread of small songs out of it.
    # The rate is measured on all hours (trimming each song's busiest hours would empty the sparse songs
    # early on); each song is then compared with the middle songs' fresh votes in the hours it kept.
    fresh_all = {song: sum(hours.values()) for song, hours in per_song.items()}
    rated = sorted(
        (fresh_all.get(cast(int, song), 0) / count, -count, cast(int, song))
        for song, count in established.items()
        if count >= _MIN_ESTABLISHED
    )
    surges: dict[int, SongSurge] = {}
    if len(rated) < _MIN_SONGS:
        return surges
    cut = max(1, len(rated) // 10) if len(rated) >= _MIN_SONGS + 2 else 0
    middle = rated[cut : len(rated) - cut]
    middle_fresh = sum(fresh_all.get(song, 0) for _, _, song in middle)
    middle_established = sum(-negative for _, negative, _ in middle)
    middle_songs = {song for _, _, song in middle}
    middle_by_hour: Counter[int] = Counter()
    for song in middle_songs:
        middle_by_hour.update(per_song.get(song, {}))
    for song, (observed, kept_hours, dropped) in trimmed.items():
        count = established[song]
        own_hours = per_song[song]
        busiest = busiest_hours[song]
        # the middle songs' fresh votes in the hours this song kept, and their established votes
        fresh_others = middle_fresh - sum(middle_by_hour[hour] for hour in busiest)
        established_others = middle_established
        if song in middle_songs:  # compare the song with the others only
            fresh_others -= fresh_all[song] - sum(own_hours[hour] for hour in busiest)
            established_others -= count
        expected = count * fresh_others / established_others if established_others > 0 else 0.0
        surges[song] = SongSurge(song, observed, expected, kept_hours, dropped, count)
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
        hold = surge.ratio >= settings.option("hold_ratio")
        return self.reason(
            settings,
            f"song {vote.song_id} got {surge.observed} votes from accounts under {hours:g} h old over "
            f"{surge.hours} different hours of the last day (its {surge.dropped_hours} busiest hours "
            f"left out); its {surge.established} votes from older accounts predict {surge.expected:.0f} at "
            f"the typical song's newcomer rate ({surge.ratio:.1f}x{', held: overwhelming' if hold else ''}). "
            f"This account is {age / 60:.0f} min old and voted for nothing else",
            {
                "song_id": vote.song_id,
                "fresh_votes": surge.observed,
                "expected": round(surge.expected, 1),
                "ratio": round(surge.ratio, 2),
                "hours": surge.hours,
                "account_age_seconds": round(age, 1),
                "held": hold,
            },
            scale=settings.option("hold_weight") / settings.weight if hold and settings.weight else 1.0,
        )
