"""Network signals: accounts born on one network, hosting ASNs, lockstep traffic from one network."""

from __future__ import annotations

from collections import Counter

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector, duration_text
from fraud.features import KEY_FUNCS, ContestIndex
from fraud.stats import gap_variation
from fraud.types import Reason, VoteEvent

_MAX_LOCKSTEP_EVENTS = 300  # the most recent votes of a key are enough to judge its rhythm


class AccountsPerNetwork(Detector):
    """Many new accounts whose earliest vote came from one IP or prefix.

    The vote record has no signup IP, so the network of an account's earliest vote in the last 24 h
    stands in for it. Carrier NAT and campuses trip this too: it is a network signal, discounted
    unless something stronger corroborates it.
    """

    name = "accounts_per_network"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        hours = settings.option("new_account_hours")
        checks = (
            ("ip", vote.ip, settings.threshold),
            ("prefix", vote.prefix, settings.option("prefix_threshold")),
        )
        for kind, key, limit in checks:
            accounts = index.new_accounts_first_seen(kind, key, hours)
            if accounts >= limit:
                where = f"IP {key}" if kind == "ip" else key
                return self.reason(
                    settings,
                    f"{accounts} accounts created in the last {hours:g} h first voted from {where} "
                    f"(limit {limit:g})",
                    {"key_kind": kind, "key": key, "accounts": accounts, "limit": limit},
                )
        return None


class HostingAsn(Detector):
    name = "hosting_asn"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        if not index.is_hosting(vote):
            return None
        return self.reason(
            settings,
            f"IP {vote.ip} is on hosting/datacenter network AS{vote.asn} {vote.asn_org or ''}".rstrip(),
            {"asn": vote.asn, "asn_org": vote.asn_org},
        )


class NetworkLockstep(Detector):
    """Votes from one IP or prefix that arrive like a metronome, by several accounts, for one song.

    A crowd behind a NAT arrives at random (gap variation near 1); a script loops with a sleep.
    """

    name = "network_lockstep"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        at = vote.cast_at.timestamp()
        window = settings.option("window_minutes") * 60.0
        min_votes = int(settings.option("min_votes"))
        for kind in ("ip", "prefix"):
            key = KEY_FUNCS[kind](vote)
            if index.count_in_window(kind, key, at, window) < min_votes:
                continue
            events = index.events_in_window(kind, key, at, window)[-_MAX_LOCKSTEP_EVENTS:]
            songs = Counter(event.song_id for event in events)
            top_song, top_count = songs.most_common(1)[0]
            share = top_count / len(events)
            accounts = len({event.voter_id for event in events})
            if top_song != vote.song_id or share < settings.option("min_song_share") or accounts < 3:
                continue
            variation = gap_variation([event.cast_at.timestamp() for event in events])
            if variation is None or variation >= settings.threshold:
                continue
            where = f"IP {key}" if kind == "ip" else str(key)
            return self.reason(
                settings,
                f"{len(events)} votes by {accounts} accounts from {where} in {duration_text(window)}, "
                f"{share:.0%} for this song, evenly spaced "
                f"(gap variation {variation:.2f} < {settings.threshold:g})",
                {
                    "key_kind": kind,
                    "key": str(key),
                    "votes": len(events),
                    "accounts": accounts,
                    "song_share": round(share, 3),
                    "gap_variation": round(variation, 3),
                },
            )
        return None


class DatacenterBurst(Detector):
    """A hosting IP or prefix sending many accounts' votes, nearly all for one song, within an hour.

    Honest VPN exits carry few voters per hour with mixed choices; a bot fleet on cloud VMs does not.
    """

    name = "datacenter_burst"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        if not index.is_hosting(vote):
            return None
        at = vote.cast_at.timestamp()
        for kind in ("ip", "prefix"):
            key = KEY_FUNCS[kind](vote)
            if index.count_in_window(kind, key, at, 3600.0) < settings.threshold:
                continue
            events = index.events_in_window(kind, key, at, 3600.0)[-_MAX_LOCKSTEP_EVENTS:]
            same_song = sum(1 for event in events if event.song_id == vote.song_id)
            share = same_song / len(events)
            accounts = len({event.voter_id for event in events})
            if share < settings.option("min_song_share") or accounts < settings.option("min_accounts"):
                continue
            where = f"IP {key}" if kind == "ip" else str(key)
            return self.reason(
                settings,
                f"{len(events)} votes by {accounts} accounts from hosting network {where} in the last hour, "
                f"{share:.0%} for this song",
                {
                    "key_kind": kind,
                    "key": str(key),
                    "votes": len(events),
                    "accounts": accounts,
                    "song_share": round(share, 3),
                },
            )
        return None
