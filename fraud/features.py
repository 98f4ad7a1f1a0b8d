"""Contest index: the last 24 h of votes (plus the batch), indexed once per scoring call.

Every lookup a detector needs is a dict access plus a bisect on a sorted timestamp list, so scoring
a vote costs O(log n) whatever the history size. Derived figures (baselines, per-key account sets)
are computed lazily and cached, so a detector that is disabled costs nothing.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from itertools import compress
from operator import attrgetter
from typing import TypeVar, cast

from fraud.config import FraudConfig
from fraud.hosting import is_hosting
from fraud.net import ipv6_supernets
from fraud.stats import peak_window_count, percentile
from fraud.types import ContestContext, VoteEvent

WINDOWS: tuple[tuple[str, float], ...] = (("5m", 300.0), ("1h", 3600.0), ("24h", 86400.0))

# Web-client fingerprints are opaque ids; anything else ("", "undefined", "null", "0") is garbage
# that many honest browsers would share, so it must never become a device key.
_FINGERPRINT_RE = re.compile(r"^[A-Za-z0-9_+/=-]{16,128}$")
_BASELINE_SAMPLE_KEYS = 600
_BASELINE_SLICE = 25_000
_MIN_BASELINE_KEYS = 50
_BASELINE_KINDS = frozenset({"ip", "prefix", "prefix56", "prefix48", "fingerprint", "cookie", "account"})
_CAST_AT = attrgetter("cast_at")

KeyFunc = Callable[[VoteEvent], Hashable]
T = TypeVar("T")


def valid_fingerprint(value: str | None) -> bool:
    return value is not None and _FINGERPRINT_RE.match(value) is not None


def _prefix56(event: VoteEvent) -> str | None:
    supernets = ipv6_supernets(event.prefix)
    return None if supernets is None else supernets[0]


def _prefix48(event: VoteEvent) -> str | None:
    supernets = ipv6_supernets(event.prefix)
    return None if supernets is None else supernets[1]


def _fingerprint(event: VoteEvent) -> str | None:
    return event.fingerprint if valid_fingerprint(event.fingerprint) else None


KEY_FUNCS: dict[str, KeyFunc] = {
    "ip": attrgetter("ip"),
    "prefix": attrgetter("prefix"),
    "prefix56": _prefix56,
    "prefix48": _prefix48,
    "fingerprint": _fingerprint,
    "cookie": attrgetter("device_cookie"),
    "account": attrgetter("voter_id"),
    "song": attrgetter("song_id"),
}


def _raw_column(events: list[VoteEvent], kind: str) -> list[Hashable]:
    """One key per vote. Plain comprehensions: measurably faster than map(attrgetter) on slots classes.

    Fingerprint validity is checked on the batch side (garbage keys in history are never asked for).
    """
    if kind == "ip":
        return [event.ip for event in events]
    if kind == "prefix":
        return [event.prefix for event in events]
    if kind == "fingerprint":
        return [event.fingerprint for event in events]
    if kind == "cookie":
        return [event.device_cookie for event in events]
    if kind == "account":
        return [event.voter_id for event in events]
    if kind == "song":
        return [event.song_id for event in events]
    raise KeyError(kind)


def merge_events(batch: Sequence[VoteEvent], history: Sequence[VoteEvent]) -> list[VoteEvent]:
    """History plus batch, each vote once, in time order (history usually arrives sorted already)."""
    batch_ids = {vote.vote_id for vote in batch}
    merged = [event for event in history if event.vote_id not in batch_ids]
    merged.extend(batch)
    merged.sort(key=_CAST_AT)
    return merged


class ContestIndex:
    def __init__(
        self,
        batch: Sequence[VoteEvent],
        history: Sequence[VoteEvent],
        context: ContestContext,
        config: FraudConfig,
        now: datetime,
    ) -> None:
        self.context = context
        self.config = config
        self.now = now.timestamp()  # the scoring moment, for detectors that look back from "now"
        self.batch = batch
        self.events = merge_events(batch, history)
        self.times: list[float] = [event.cast_at.timestamp() for event in self.events]
        self._columns: dict[str, list[Hashable]] = {}
        self._positions: dict[str, dict[Hashable, list[int]]] = {}
        self._times_cache: dict[tuple[str, Hashable], list[float]] = {}
        self._baselines: dict[tuple[str, str, float], float] = {}
        self._distinct_voters: dict[tuple[str, Hashable], int] = {}
        self._first_vote_position: dict[int, int] | None = None
        self._new_accounts_first_seen: dict[tuple[str, float], Counter[Hashable]] = {}
        self._hosting: dict[tuple[int | None, str | None], bool] = {}
        self._memo: dict[str, object] = {}
        self._samples: dict[str, list[Hashable]] = {}
        self._new_first_positions: dict[float, list[int]] = {}

    def memo(self, name: str, factory: Callable[[], T]) -> T:
        """Compute a per-call table once (for detectors that need their own index)."""
        if name not in self._memo:
            self._memo[name] = factory()
        return cast(T, self._memo[name])

    # -- raw per-key series ------------------------------------------------------------------------
    def positions(self, kind: str, key: Hashable) -> list[int]:
        """Positions (into self.events, time-ordered) of the votes sharing this key."""
        table = self._positions.get(kind)
        if table is None:
            table = self._build(kind)
        found = table.get(key)
        if found is None:
            # A key outside the batch and the baseline sample: scan once, then remember.
            found = [position for position, value in enumerate(self.column(kind)) if value == key]
            table[key] = found
        return found

    def column(self, kind: str) -> list[Hashable]:
        """The key of every indexed vote for this kind (None where the vote has none)."""
        column = self._columns.get(kind)
        if column is None:
            if kind in ("prefix56", "prefix48"):
                self._ipv6_supernet_columns()
                return self._columns[kind]
            else:
                column = _raw_column(self.events, kind)
            self._columns[kind] = column
        return column

    def _ipv6_supernet_columns(self) -> None:
        """The /56 and /48 columns together, from the distinct IPv6 /64s only (IPv4 votes get None)."""
        prefixes = self.column("prefix")
        by56: dict[Hashable, Hashable] = {}
        by48: dict[Hashable, Hashable] = {}
        for prefix in {prefix for prefix in set(prefixes) if isinstance(prefix, str) and ":" in prefix}:
            nets = ipv6_supernets(prefix)
            if nets is not None:
                by56[prefix], by48[prefix] = nets
        self._columns["prefix56"] = list(map(by56.get, prefixes))
        self._columns["prefix48"] = list(map(by48.get, prefixes))

    def _build(self, kind: str) -> dict[Hashable, list[int]]:
        """Group positions for the keys that will be asked for: the batch's keys and a baseline sample.

        Grouping only those (instead of every key of a 100k-vote history) is what keeps a scoring
        call cheap; any other key is still answered, by a scan, in positions().
        """
        column = self.column(kind)
        key_of = KEY_FUNCS[kind]
        wanted = {key for key in map(key_of, self.batch) if key is not None}
        if kind in _BASELINE_KINDS:
            # Distinct keys of the oldest part of the window: a volume-neutral sample that a burst
            # happening now cannot dominate, at a fraction of the cost of deduplicating everything.
            distinct = [key for key in dict.fromkeys(column[:_BASELINE_SLICE]) if key is not None]
            step = max(1, len(distinct) // _BASELINE_SAMPLE_KEYS)
            sample = distinct[::step]
            if kind == "fingerprint":
                sample = [key for key in sample if valid_fingerprint(cast(str, key))]
            self._samples[kind] = sample
            wanted.update(sample)
        grouped: defaultdict[Hashable, list[int]] = defaultdict(list)
        for position in compress(range(len(column)), map(wanted.__contains__, column)):
            grouped[column[position]].append(position)
        table = dict(grouped)
        for key in wanted:
            table.setdefault(key, [])
        self._positions[kind] = table
        return table

    def key_times(self, kind: str, key: Hashable) -> list[float]:
        cached = self._times_cache.get((kind, key))
        if cached is None:
            times = self.times
            cached = [times[position] for position in self.positions(kind, key)]
            self._times_cache[(kind, key)] = cached
        return cached

    def count_in_window(self, kind: str, key: Hashable, at: float, window: float) -> int:
        """Votes with this key in (at - window, at]."""
        times = self.key_times(kind, key)
        return bisect_right(times, at) - bisect_right(times, at - window)

    def events_in_window(self, kind: str, key: Hashable, at: float, window: float) -> list[VoteEvent]:
        times = self.key_times(kind, key)
        positions = self.positions(kind, key)
        low, high = bisect_right(times, at - window), bisect_right(times, at)
        return [self.events[position] for position in positions[low:high]]

    # -- contest baselines -------------------------------------------------------------------------
    def baseline(self, kind: str, window_name: str, window: float, fraction: float) -> float:
        """High percentile over distinct keys of their peak count in any window of this length.

        Counting each key once (not each vote) keeps one loud attacker key from raising the bar
        for itself; sampling keeps the cost bounded in big contests.
        """
        cache_key = (kind, window_name, fraction)
        cached = self._baselines.get(cache_key)
        if cached is not None:
            return cached
        if kind not in self._positions:
            self._build(kind)
        sample = self._samples[kind]
        if len(sample) < _MIN_BASELINE_KEYS:
            value = 0.0  # too few keys to say what is normal here: the absolute floors decide
        else:
            value = percentile(
                [float(peak_window_count(self.key_times(kind, key), window)) for key in sample], fraction
            )
        self._baselines[cache_key] = value
        return value

    # -- accounts behind a key ---------------------------------------------------------------------
    def distinct_voters(self, kind: str, key: Hashable) -> int:
        cached = self._distinct_voters.get((kind, key))
        if cached is None:
            events = self.events
            cached = len({events[position].voter_id for position in self.positions(kind, key)})
            self._distinct_voters[(kind, key)] = cached
        return cached

    def first_vote_position(self) -> dict[int, int]:
        """Each account's earliest vote in the index (proxy for its signup network)."""
        if self._first_vote_position is None:
            accounts = self.column("account")
            # Later dict entries win, so feeding positions newest-first leaves each account's earliest.
            self._first_vote_position = cast(
                dict[int, int], dict(zip(reversed(accounts), range(len(accounts) - 1, -1, -1), strict=True))
            )
        return self._first_vote_position

    def new_accounts_first_seen(self, kind: str, key: Hashable, new_account_hours: float) -> int:
        """Accounts created recently whose earliest vote in the index came from this network key."""
        counts = self._new_accounts_first_seen.get((kind, new_account_hours))
        if counts is None:
            # One pass over accounts (not over every network key): count each new account once, on
            # the network of its earliest vote.
            positions = self._new_account_first_positions(new_account_hours)
            counts = Counter(map(self.column(kind).__getitem__, positions))
            self._new_accounts_first_seen[(kind, new_account_hours)] = counts
        return counts[key]

    def _new_account_first_positions(self, new_account_hours: float) -> list[int]:
        """Earliest-vote positions of the accounts that were at most this old when they cast it."""
        cached = self._new_first_positions.get(new_account_hours)
        if cached is None:
            events, times = self.events, self.times
            max_age = new_account_hours * 3600.0
            cached = [
                position
                for position in self.first_vote_position().values()
                if times[position] - events[position].account_created_at.timestamp() <= max_age
            ]
            self._new_first_positions[new_account_hours] = cached
        return cached

    def is_hosting(self, event: VoteEvent) -> bool:
        cache_key = (event.asn, event.asn_org)
        cached = self._hosting.get(cache_key)
        if cached is None:
            cached = is_hosting(
                event.asn, event.asn_org, self.config.hosting_asns, self.config.hosting_org_keywords
            )
            self._hosting[cache_key] = cached
        return cached
