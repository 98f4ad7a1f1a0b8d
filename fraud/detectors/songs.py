"""A song receiving votes far faster than its own recent rate."""

from __future__ import annotations

import math

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import ContestIndex
from fraud.types import Reason, VoteEvent


class SongBurst(Detector):
    """Weak on purpose: flash crowds after a share look the same. It only adds to other evidence."""

    name = "song_burst"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        at = vote.cast_at.timestamp()
        last_hour = index.count_in_window("song", vote.song_id, at, 3600.0)
        if last_hour < settings.option("floor"):
            return None
        day = index.count_in_window("song", vote.song_id, at, 86400.0)
        # The song's mean hourly rate outside the last hour; at least 1 so a new song is not divided by 0.
        usual = max(1.0, (day - last_hour) / 23.0)
        limit = max(settings.option("floor"), math.ceil(settings.threshold * usual))
        if last_hour < limit:
            return None
        return self.reason(
            settings,
            f"song {vote.song_id} got {last_hour} votes in the last hour, {last_hour / usual:.0f}x its usual "
            f"{usual:.1f}/h",
            {"song_id": vote.song_id, "last_hour": last_hour, "usual_per_hour": round(usual, 2)},
        )
