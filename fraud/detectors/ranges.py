"""IPv6 rotation inside one provider range: many /64s of one /48 or /56, nearly all for one song.

A household holds one /64 (or a few inside its /56); a script with a routed /48 can give every vote a new
/64, so the per-/64 velocity never moves and the /48 count alone is what a carrier's pool looks like too.
What the range's /64s *do* separates them: a carrier's phones vote for every song, a rotating script for
one. The limit adapts to the contest: ``threshold`` x the percentile (``percentile``) of distinct /64s per
range over the contest's ranges, and at least ``floor`` /64s.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable
from functools import partial

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import KEY_FUNCS, ContestIndex
from fraud.stats import percentile
from fraud.types import Reason, VoteEvent

_MIN_RANGES = 50  # ranges needed before the contest's own percentile counts (else the floor decides)
_KINDS = (("prefix48", "/48"), ("prefix56", "/56"))


def _subnets_per_range(index: ContestIndex, kind: str) -> dict[Hashable, set[Hashable]]:
    ranges = index.column(kind)
    prefixes = index.column("prefix")
    found: dict[Hashable, set[Hashable]] = {}
    for key, prefix in zip(ranges, prefixes, strict=True):
        if key is not None:
            found.setdefault(key, set()).add(prefix)
    return found


def _ranges_and_baseline(
    index: ContestIndex, kind: str, fraction: float
) -> tuple[dict[Hashable, set[Hashable]], float]:
    subnets = _subnets_per_range(index, kind)
    if len(subnets) < _MIN_RANGES:
        return subnets, 0.0  # too few ranges to say what is normal here: the floor decides
    return subnets, percentile([float(len(found)) for found in subnets.values()], fraction)


class Ipv6RangeRotation(Detector):
    name = "ipv6_range_rotation"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        if ":" not in vote.prefix:
            return None
        for kind, label in _KINDS:
            key = KEY_FUNCS[kind](vote)
            if key is None:
                continue
            subnets, baseline = index.memo(
                f"{self.name}:{kind}",
                partial(_ranges_and_baseline, index, kind, settings.option("percentile")),
            )
            distinct = len(subnets.get(key, ()))
            if distinct < settings.option("floor"):
                continue
            limit = max(settings.option("floor"), math.ceil(settings.threshold * baseline), 1)
            if distinct < limit:
                continue
            positions = index.positions(kind, key)
            songs = Counter(index.column("song")[position] for position in positions)
            share = songs[vote.song_id] / len(positions)
            accounts = len({index.column("account")[position] for position in positions})
            if share < settings.option("min_song_share") or accounts < settings.option("min_accounts"):
                continue
            return self.reason(
                settings,
                f"{distinct} different /64 networks of {key} voted in the last 24 h (contest's ranges: "
                f"{baseline:g} at the {settings.option('percentile'):.0%} point, limit {limit:g}), "
                f"{share:.0%} of the range's {len(positions)} votes for this song, by {accounts} accounts",
                {
                    "range": str(key),
                    "range_size": label,
                    "subnets": distinct,
                    "baseline": baseline,
                    "limit": limit,
                    "song_share": round(share, 3),
                    "accounts": accounts,
                },
            )
        return None
