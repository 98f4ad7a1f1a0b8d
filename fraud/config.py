"""Scoring configuration: safe defaults, per-contest overrides from plain dicts, strict validation.

A contest stores its overrides as JSON, for example::

    {"review_threshold": 60,
     "detectors": {"ip_velocity": {"weight": 20, "threshold": 4, "options": {"floor_5m": 10}},
                   "new_account": {"enabled": false}},
     "extra_hosting_asns": [64500],
     "groups": {"min_accounts": 15},
     "cohorts": {"window_hours": 3}}

``FraudConfig.default().with_overrides(that_dict)`` returns a new config or raises ``ValueError`` naming
the first bad key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Literal, TypeVar

from fraud.hosting import DEFAULT_HOSTING_ASNS, DEFAULT_HOSTING_ORG_KEYWORDS

# network: explained by shared networks alone, counted fully only when corroborated.
# strong: honest voters rarely produce it, corroborates network signals.
# weak: common among honest voters (new accounts...), adds points but corroborates nothing.
Kind = Literal["network", "strong", "weak"]


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    kind: Kind
    weight: float
    threshold: float
    enabled: bool = True
    options: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def option(self, name: str) -> float:
        return self.options[name]


def _detector(kind: Kind, weight: float, threshold: float, **options: float) -> DetectorConfig:
    return DetectorConfig(kind=kind, weight=weight, threshold=threshold, options=MappingProxyType(options))


_VELOCITY_DEVICE_FLOORS = {"floor_5m": 6.0, "floor_1h": 15.0, "floor_24h": 45.0}

# One entry per detector; the key is also the reason code the detector emits.
DEFAULT_DETECTORS: Mapping[str, DetectorConfig] = MappingProxyType(
    {
        # threshold: multiple of the contest baseline (a high percentile of per-key peak counts)
        "ip_velocity": _detector("network", 30, 3.0, floor_5m=8, floor_1h=25, floor_24h=80, percentile=0.99),
        "ip_prefix_velocity": _detector(
            "network", 20, 3.0, floor_5m=15, floor_1h=50, floor_24h=200, percentile=0.99
        ),
        "device_fingerprint_velocity": _detector(
            "strong", 25, 3.0, percentile=0.99, **_VELOCITY_DEVICE_FLOORS
        ),
        "device_cookie_velocity": _detector("strong", 25, 3.0, percentile=0.99, **_VELOCITY_DEVICE_FLOORS),
        "account_velocity": _detector(
            "strong", 20, 3.0, floor_5m=8, floor_1h=20, floor_24h=45, percentile=0.99
        ),
        # threshold: distinct accounts on one fingerprint or cookie (families share a tablet: 2-4)
        "shared_device_accounts": _detector("strong", 35, 6),
        # threshold: new accounts first seen on one IP; prefix_threshold: on one /24, /64...
        "accounts_per_network": _detector("network", 20, 10, prefix_threshold=25, new_account_hours=24),
        # threshold: account age in hours
        "new_account": _detector("weak", 8, 24),
        "unverified_email": _detector("weak", 8, 0),
        "disposable_email": _detector("weak", 30, 0),  # honest privacy-minded people use them too
        # threshold: accounts in one numbered run (user001, user002, ...); created within creation_span_hours
        "sequential_email": _detector("strong", 30, 4, max_gap=3, creation_span_hours=48),
        "hosting_asn": _detector("network", 20, 0),
        "ineligible_country": _detector("strong", 25, 0),
        "geo_mismatch": _detector("strong", 20, 0),
        "scripted_user_agent": _detector("strong", 45, 0),
        "fingerprint_missing": _detector("weak", 10, 0),
        "device_cookie_missing": _detector("weak", 8, 0),
        # threshold: coefficient of variation of an account's gaps between votes
        "robotic_timing": _detector("strong", 30, 0.12, min_votes=5),
        # threshold: coefficient of variation of the gaps between votes from one IP or prefix
        "network_lockstep": _detector("strong", 25, 0.4, min_votes=10, window_minutes=60, min_song_share=0.8),
        # threshold: votes in the last hour from one hosting IP or prefix, nearly all for one song
        "datacenter_burst": _detector("strong", 30, 15, min_accounts=5, min_song_share=0.8),
        # threshold: distinct /64s of one IPv6 /48 or /56 in 24 h, as a multiple of the contest's percentile
        "ipv6_range_rotation": _detector(
            "strong", 30, 3.0, floor=12, percentile=0.99, min_song_share=0.8, min_accounts=5
        ),
        # threshold: seconds between account creation and its first vote
        "vote_after_signup": _detector("weak", 10, 30),
        # threshold: multiple of the song's own mean hourly rate over the last 24 h
        "song_burst": _detector("weak", 10, 6.0, floor=30),
        # threshold: a song's votes from accounts under account_hours old, outside its burst_hours busiest
        # hours, over what its share of the other votes predicts; min_excess: votes above the prediction;
        # from hold_ratio x the prediction on, the reason is worth hold_weight (enough with new_account)
        "fresh_account_surge": _detector(
            "strong", 35, 3.0, account_hours=24, burst_hours=3, min_excess=20, hold_ratio=10, hold_weight=42
        ),
        # threshold: a song's votes from old accounts back after a silence on a new network and device, over
        # what its popularity predicts (see fraud/detectors/takeover.py)
        "dormant_account_switch": _detector(
            "strong", 35, 3.0, account_days=60, silence_days=30, min_excess=10, hold_ratio=6, hold_weight=50
        ),
    }
)


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """Settings of the coordinated-voting (dense block) detector."""

    enabled: bool = True
    points: float = 60  # points given to every vote of a confirmed group's accounts
    window_minutes: float = 60  # time bucket for the lockstep figure
    min_accounts: int = 10
    min_songs: int = 2
    core_song_fraction: float = 0.6  # an account is in the core when it voted this share of the block songs
    min_lift: float = 6.0  # co-vote lift over independence required with lockstep
    strong_lift: float = 25.0  # co-vote lift that confirms a group without lockstep
    min_lockstep: float = 0.35
    max_blocks: int = 4  # dense blocks examined per run


@dataclass(frozen=True, slots=True)
class CohortConfig:
    """Settings of the signup-cohort detector (fraud/cohorts.py): accounts created together, one song."""

    enabled: bool = True
    points: float = 60  # points given to every vote of a confirmed cohort's accounts
    window_hours: float = 6  # accounts created within this span form a cohort
    min_accounts: int = 10
    min_lift: float = 10.0  # loyal accounts in the window / what the rest of the contest predicts
    min_days: int = 2  # days (UTC) an account voted for its song to count as loyal
    min_song_share: float = 0.8  # share of the account's votes that went to that song
    dormant_hours: float = 24  # the account existed this long before its first vote of the contest
    max_cohorts: int = 4  # cohorts examined per song
    # Cohorts that vote at once (recruited people): first vote within fresh_minutes of signup, judged by
    # how many of the span's newcomers come back loyal against the contest's other newcomers.
    fresh_minutes: float = 60
    fresh_min_lift: float = 5.0


@dataclass(frozen=True, slots=True)
class FraudConfig:
    review_threshold: float = 50
    uncorroborated_network_factor: float = 0.3  # network points kept when nothing strong corroborates
    uncorroborated_weak_cap: float = 20  # most points weak signals may add when nothing strong corroborates
    corroboration_min_points: float = 15  # strong points needed to count network and weak points fully
    detectors: Mapping[str, DetectorConfig] = field(default_factory=lambda: DEFAULT_DETECTORS)
    hosting_asns: frozenset[int] = DEFAULT_HOSTING_ASNS
    hosting_org_keywords: tuple[str, ...] = DEFAULT_HOSTING_ORG_KEYWORDS
    groups: GroupConfig = GroupConfig()
    cohorts: CohortConfig = CohortConfig()

    @classmethod
    def default(cls) -> FraudConfig:
        return cls()

    @classmethod
    def from_dict(cls, overrides: Mapping[str, object] | None) -> FraudConfig:
        return cls().with_overrides(overrides or {})

    def detector(self, name: str) -> DetectorConfig:
        return self.detectors[name]

    def with_overrides(self, overrides: Mapping[str, object]) -> FraudConfig:
        _require_mapping(overrides, "fraud config")
        changes: dict[str, object] = {}
        hosting_asns = self.hosting_asns
        for key, value in overrides.items():
            if key in (
                "review_threshold",
                "uncorroborated_network_factor",
                "uncorroborated_weak_cap",
                "corroboration_min_points",
            ):
                number = _number(value, key)
                if key == "review_threshold" and not 0 < number <= 100:
                    raise ValueError(f"fraud config key 'review_threshold' must be in (0, 100], got {number}")
                if key == "uncorroborated_network_factor" and not 0 <= number <= 1:
                    raise ValueError(f"fraud config key '{key}' must be in [0, 1], got {number}")
                changes[key] = number
            elif key == "detectors":
                changes[key] = _detector_overrides(self.detectors, value)
            elif key == "hosting_asns":
                hosting_asns = frozenset(_int_list(value, key))
            elif key == "extra_hosting_asns":
                hosting_asns = hosting_asns | frozenset(_int_list(value, key))
            elif key == "hosting_org_keywords":
                changes[key] = tuple(keyword.lower() for keyword in _str_list(value, key))
            elif key == "groups":
                changes[key] = _section_overrides(self.groups, value, key, _GROUP_INTEGERS)
            elif key == "cohorts":
                changes[key] = _section_overrides(self.cohorts, value, key, _COHORT_INTEGERS)
            else:
                raise ValueError(f"unknown fraud config key '{key}'")
        changes["hosting_asns"] = hosting_asns
        return replace(self, **changes)  # type: ignore[arg-type]


def _require_mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be an object, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"{where} has a non-string key {key!r}")
    return value


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"fraud config key '{key}' must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"fraud config key '{key}' must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"fraud config key '{key}' must not be negative, got {value!r}")
    return float(value)


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"fraud config key '{key}' must be true or false, got {value!r}")
    return value


def _int_list(value: object, key: str) -> list[int]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise ValueError(f"fraud config key '{key}' must be a list of integers")
    return list(value)


def _str_list(value: object, key: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"fraud config key '{key}' must be a list of non-empty strings")
    return list(value)


def _detector_overrides(current: Mapping[str, DetectorConfig], value: object) -> Mapping[str, DetectorConfig]:
    per_detector = _require_mapping(value, "fraud config key 'detectors'")
    merged = dict(current)
    for name, settings_value in per_detector.items():
        if name not in current:
            raise ValueError(f"unknown fraud config key 'detectors.{name}'")
        settings = _require_mapping(settings_value, f"fraud config key 'detectors.{name}'")
        detector = current[name]
        for field_name, field_value in settings.items():
            key = f"detectors.{name}.{field_name}"
            if field_name == "enabled":
                detector = replace(detector, enabled=_bool(field_value, key))
            elif field_name == "weight":
                detector = replace(detector, weight=_number(field_value, key))
            elif field_name == "threshold":
                detector = replace(detector, threshold=_number(field_value, key))
            elif field_name == "options":
                options = dict(detector.options)
                for option, option_value in _require_mapping(
                    field_value, f"fraud config key '{key}'"
                ).items():
                    if option not in options:
                        raise ValueError(f"unknown fraud config key '{key}.{option}'")
                    options[option] = _number(option_value, f"{key}.{option}")
                detector = replace(detector, options=MappingProxyType(options))
            else:
                raise ValueError(f"unknown fraud config key '{key}'")
        merged[name] = detector
    return MappingProxyType(merged)


_GROUP_INTEGERS = frozenset({"min_accounts", "min_songs", "max_blocks"})
# Lengths that divide: a zero-length time window would make every group scan fail.
_POSITIVE = frozenset({"groups.window_minutes"})
_COHORT_INTEGERS = frozenset({"min_accounts", "min_days", "max_cohorts"})
Section = TypeVar("Section", GroupConfig, CohortConfig)


def _section_overrides(current: Section, value: object, section: str, integers: frozenset[str]) -> Section:
    settings = _require_mapping(value, f"fraud config key '{section}'")
    known = {f.name: f for f in fields(current)}
    changes: dict[str, object] = {}
    for name, field_value in settings.items():
        key = f"{section}.{name}"
        if name not in known:
            raise ValueError(f"unknown fraud config key '{key}'")
        if name == "enabled":
            changes[name] = _bool(field_value, key)
        elif name in integers:
            number = _number(field_value, key)
            if number != int(number) or number < 1:
                raise ValueError(f"fraud config key '{key}' must be a positive integer, got {field_value!r}")
            changes[name] = int(number)
        else:
            number = _number(field_value, key)
            if key in _POSITIVE and number <= 0:
                raise ValueError(f"fraud config key '{key}' must be greater than 0, got {field_value!r}")
            changes[name] = number
    return replace(current, **changes)  # type: ignore[arg-type]
