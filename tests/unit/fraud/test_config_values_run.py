"""Every value the config validator accepts must score and scan without an error.

For each numeric key (top level, every detector's weight, threshold and options, the groups and cohorts
sections) the test tries the edges of what a contest may store: zero, tiny and fractional values, one, and
huge numbers. A value the validator rejects is fine (it names the key); an accepted one must run.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import fields
from datetime import timedelta

import pytest

from fraud import FraudConfig, VoteEdge, VoteEvent, find_coordinated_groups, score_batch
from fraud.config import DEFAULT_DETECTORS, CohortConfig, GroupConfig
from tests.unit.fraud.factories import CONTEXT, T0, honest_background, vote

EDGE_VALUES = (0, 1e-9, 0.25, 0.5, 1, 2, 7, 1e6, 1e12, 1e300)
_TOP_LEVEL = (
    "review_threshold",
    "uncorroborated_network_factor",
    "uncorroborated_weak_cap",
    "corroboration_min_points",
)


def _paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = [(key,) for key in _TOP_LEVEL]
    for name, settings in DEFAULT_DETECTORS.items():
        paths += [("detectors", name, "weight"), ("detectors", name, "threshold")]
        paths += [("detectors", name, "options", option) for option in settings.options]
    for section, config in (("groups", GroupConfig()), ("cohorts", CohortConfig())):
        paths += [(section, f.name) for f in fields(config) if f.name != "enabled"]
    return paths


def _nested(path: tuple[str, ...], value: float) -> dict[str, object]:
    result: object = value
    for key in reversed(path):
        result = {key: result}
    assert isinstance(result, dict)
    return result


def _batch_and_history() -> tuple[list[VoteEvent], list[VoteEvent]]:
    background = honest_background(120, hours=23)
    rng = random.Random(3)
    farm = [
        vote(
            voter=900_000 + i,
            song=4,
            ip=f"2001:db8:{rng.randrange(4):x}:{i:x}::1",
            account_created_at=T0 - timedelta(minutes=3),
            fingerprint="undefined",
            at=T0 - timedelta(seconds=40 * i),
        )
        for i in range(40)
    ]
    return sorted(farm, key=lambda e: e.cast_at)[-25:], background + farm


def _edges() -> list[VoteEdge]:
    rng = random.Random(5)
    ids = itertools.count(1)
    start = T0.timestamp()
    edges = []
    for voter in range(1, 400):
        created = start - rng.uniform(0, 90) * 86400
        for song in rng.sample(range(1, 15), rng.randint(1, 4)):
            for day in range(rng.randint(1, 3)):
                edges.append(
                    VoteEdge(next(ids), voter, song, start + day * 86400 + rng.uniform(0, 86400), created)
                )
    for member in range(1000, 1030):  # a ring and a cohort, so the confirm steps run too
        created = start - 30 * 86400 + member
        for day in range(3):
            for song in (11, 12, 13):
                edges.append(VoteEdge(next(ids), member, song, start + day * 86400 + 3600 + member, created))
    return edges


BATCH, HISTORY = _batch_and_history()
EDGES = _edges()


@pytest.mark.parametrize("path", _paths(), ids=".".join)
def test_every_accepted_value_runs(path: tuple[str, ...]) -> None:
    accepted = 0
    for value in EDGE_VALUES:
        try:
            config = FraudConfig.from_dict(_nested(path, value))
        except ValueError as error:
            refused = str(error)
            assert path[-1] in refused, refused
            continue
        accepted += 1
        if path[0] in ("groups", "cohorts"):
            find_coordinated_groups(EDGES, config)  # the scan raises nothing, whatever it finds
            continue
        result = score_batch(BATCH, HISTORY, CONTEXT, config, now=T0)
        assert result.detector_failures == {}, (value, result.detector_failures)
        assert all(0 <= verdict.score <= 100 for verdict in result.verdicts)
    assert accepted, "the validator should accept some value of every key"


def test_the_zero_window_that_used_to_divide_by_zero_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"groups\.window_minutes"):
        FraudConfig.from_dict({"groups": {"window_minutes": 0}})
