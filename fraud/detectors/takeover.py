"""Old accounts waking up somewhere else, together, for one song: accounts taken over or bought aged.

An aged account with an honest history is the best cover a farm can buy: old, verified, a clean email.
Taken over, it votes after a long silence from a network and a device it never used. One such vote is a
person with a new phone back after months; what a takeover cannot hide is that many old accounts do it at
once, for the same song. Per scoring call, over the 24 h index:

- a *switched* vote: its account is at least ``account_days`` old, its previous vote (any contest) was at
  least ``silence_days`` earlier or never, and it comes from a network (ASN) and a device the account never
  voted from (``VoteEvent.known_network`` / ``known_device`` both False; None, unknown, never counts);
- for each song, expected switched votes = the other songs' switched votes x the song's share of the
  non-switched votes (what its popularity predicts);
- the song's switched voters get the reason when observed >= ``threshold`` x expected and observed -
  expected >= ``min_excess``; from ``hold_ratio`` x expected on it is worth ``hold_weight``.

Honest returning fans (last season's finalist is back) keep their ISP or their phone more often than not,
so few of their votes are switched, and those few spread over the songs in proportion to popularity.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import ContestIndex
from fraud.types import Reason, VoteEvent

_DAY = 86400.0


def switched(vote: VoteEvent, account_days: float, silence_days: float) -> bool:
    if vote.known_network is not False or vote.known_device is not False:
        return False
    at = vote.cast_at.timestamp()
    if at - vote.account_created_at.timestamp() < account_days * _DAY:
        return False
    previous = vote.previous_vote_at
    return previous is None or at - previous.timestamp() >= silence_days * _DAY


@dataclass(frozen=True, slots=True)
class SwitchSurge:
    observed: int
    expected: float

    @property
    def ratio(self) -> float:
        return self.observed / max(self.expected, 1.0)


def switch_surges(index: ContestIndex, settings: DetectorConfig) -> dict[int, SwitchSurge]:
    account_days, silence_days = settings.option("account_days"), settings.option("silence_days")
    flags = [switched(event, account_days, silence_days) for event in index.events]
    total = sum(flags)
    if not total:
        return {}
    switched_by_song: Counter[int] = Counter()
    other_by_song: Counter[int] = Counter()
    for event, flag in zip(index.events, flags, strict=True):
        (switched_by_song if flag else other_by_song)[event.song_id] += 1
    others_total = sum(other_by_song.values())
    surges = {}
    for song, observed in switched_by_song.items():
        rest = others_total - other_by_song[song]
        expected = (total - observed) * other_by_song[song] / rest if rest > 0 else 0.0
        surges[song] = SwitchSurge(observed, expected)
    return surges


class DormantAccountSwitch(Detector):
    name = "dormant_account_switch"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        if not switched(vote, settings.option("account_days"), settings.option("silence_days")):
            return None
        surge = index.memo(self.name, lambda: switch_surges(index, settings)).get(vote.song_id)
        if surge is None or surge.ratio < settings.threshold:
            return None
        if surge.observed - surge.expected < settings.option("min_excess"):
            return None
        hold = surge.ratio >= settings.option("hold_ratio")
        age_days = (vote.cast_at - vote.account_created_at).total_seconds() / _DAY
        silence = (
            "its first vote ever"
            if vote.previous_vote_at is None
            else f"its first vote in {(vote.cast_at - vote.previous_vote_at).total_seconds() / _DAY:.0f} days"
        )
        return self.reason(
            settings,
            f"a {age_days:.0f}-day-old account, {silence}, from a network and a device it never voted from; "
            f"song {vote.song_id} got {surge.observed} such votes in the last day where its popularity "
            f"predicts {surge.expected:.1f} ({surge.ratio:.1f}x{', held: overwhelming' if hold else ''})",
            {
                "song_id": vote.song_id,
                "account_age_days": round(age_days, 1),
                "switched_votes": surge.observed,
                "expected": round(surge.expected, 1),
                "ratio": round(surge.ratio, 2),
                "held": hold,
            },
            scale=settings.option("hold_weight") / settings.weight if hold and settings.weight else 1.0,
        )
