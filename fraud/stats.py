"""Small statistics helpers over plain lists (no numpy needed at these sizes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; 0.0 for an empty sequence."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return float(ordered[rank])


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def peak_window_count(times: Sequence[float], window: float) -> int:
    """Largest number of timestamps (sorted) inside any half-open window of this length."""
    if not times or times[-1] - times[0] < window:
        return len(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def gap_variation(times: Sequence[float]) -> float | None:
    """Coefficient of variation of the gaps between sorted timestamps (None if under 2 gaps or no spread).

    Humans acting independently give Poisson-like gaps (about 1.0); a loop with a sleep gives
    values near 0, even with a random jitter of a few seconds.
    """
    if len(times) < 3:
        return None
    gaps = [later - earlier for earlier, later in pairwise(times)]
    mean = sum(gaps) / len(gaps)
    if mean <= 0:
        return 0.0
    variance = sum((gap - mean) ** 2 for gap in gaps) / len(gaps)
    return math.sqrt(variance) / mean
