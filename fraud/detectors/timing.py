"""Timing signals: an account voting like a metronome; votes seconds after signup."""

from __future__ import annotations

from bisect import bisect_right

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import ContestIndex
from fraud.stats import gap_variation
from fraud.types import Reason, VoteEvent


class RoboticTiming(Detector):
    name = "robotic_timing"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        times = index.key_times("account", vote.voter_id)
        upto = bisect_right(times, vote.cast_at.timestamp())
        min_votes = int(settings.option("min_votes"))
        if upto < min_votes:
            return None
        recent = times[max(0, upto - 50) : upto]
        variation = gap_variation(recent)
        if variation is None or variation >= settings.threshold:
            return None
        mean_gap = (recent[-1] - recent[0]) / (len(recent) - 1)
        return self.reason(
            settings,
            f"account's last {len(recent)} votes are evenly spaced (every {mean_gap:.0f} s, gap variation "
            f"{variation:.2f} < {settings.threshold:g})",
            {
                "votes": len(recent),
                "mean_gap_seconds": round(mean_gap, 1),
                "gap_variation": round(variation, 3),
            },
        )


class VoteAfterSignup(Detector):
    name = "vote_after_signup"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        delay = (vote.cast_at - vote.account_created_at).total_seconds()
        if not 0 <= delay <= settings.threshold:
            return None
        return self.reason(
            settings,
            f"vote cast {delay:.0f} s after the account was created (limit {settings.threshold:g} s)",
            {"seconds_after_signup": round(delay, 1)},
        )
