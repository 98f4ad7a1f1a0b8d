"""Velocity per IP, prefix, device and account, judged against the contest's own baseline."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Hashable

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector, duration_text
from fraud.features import KEY_FUNCS, WINDOWS, ContestIndex
from fraud.types import Reason, VoteEvent


class VelocityDetector(Detector):
    """Fires when a key's count in a 5 min / 1 h / 24 h window ending at this vote exceeds both the
    absolute floor for that window and ``threshold`` x the contest baseline for that key kind."""

    def __init__(self, name: str, kinds: tuple[str, ...], describe: Callable[[str, Hashable], str]) -> None:
        self.name = name
        self.kinds = kinds
        self.describe = describe

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        at = vote.cast_at.timestamp()
        floors = [settings.options[f"floor_{name}"] for name, _ in WINDOWS]
        smallest_floor = min(floors)
        worst: tuple[float, str, Hashable, str, float, int, float, float] | None = None
        for kind in self.kinds:
            key = KEY_FUNCS[kind](vote)
            if key is None:
                continue
            times = index.key_times(kind, key)
            upto = bisect_right(times, at)
            if upto < smallest_floor:
                continue  # the common case: a key with a handful of votes in the whole day
            for (window_name, window), floor in zip(WINDOWS, floors, strict=True):
                count = upto - bisect_right(times, at - window, 0, upto)
                if count < floor:
                    continue
                baseline = index.baseline(kind, window_name, window, settings.options["percentile"])
                # At least one vote: a contest may set a floor and threshold of 0 (quiet networks).
                limit = max(floor, math.ceil(settings.threshold * baseline), 1)
                if count < limit:
                    continue
                ratio = count / limit
                if worst is None or ratio > worst[0]:
                    worst = (ratio, kind, key, window_name, window, count, baseline, limit)
        if worst is None:
            return None
        _, kind, key, window_name, window, count, baseline, limit = worst
        evidence = (
            f"{count} votes from {self.describe(kind, key)} in {duration_text(window)}, "
            f"contest baseline {baseline:g} (limit {limit})"
        )
        return self.reason(
            settings,
            evidence,
            {
                "key_kind": kind,
                "key": str(key),
                "window": window_name,
                "count": count,
                "baseline": baseline,
                "limit": limit,
            },
        )


def _network(kind: str, key: Hashable) -> str:
    return f"{key}" if kind != "ip" else f"IP {key}"


def _device(kind: str, key: Hashable) -> str:
    text = str(key)
    short = text if len(text) <= 12 else text[:12] + "..."
    return f"device {'fingerprint' if kind == 'fingerprint' else 'cookie'} {short}"


def _account(kind: str, key: Hashable) -> str:
    return f"account {key}"


VELOCITY_DETECTORS: tuple[VelocityDetector, ...] = (
    VelocityDetector("ip_velocity", ("ip",), _network),
    VelocityDetector("ip_prefix_velocity", ("prefix", "prefix56", "prefix48"), _network),
    VelocityDetector("device_fingerprint_velocity", ("fingerprint",), _device),
    VelocityDetector("device_cookie_velocity", ("cookie",), _device),
    VelocityDetector("account_velocity", ("account",), _account),
)
