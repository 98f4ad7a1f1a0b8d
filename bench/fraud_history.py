"""Fill in what the platform knows of each account's past on every vote (VoteEvent.previous_vote_at,
known_network, known_device), from the accounts' votes before the contest and their earlier votes in it.

The worker computes the same from the votes table (core/services/scoring.py); the benchmark needs it on
plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bench.fraud_common import LabelledVote
from bench.fraud_honest import Prior


def with_account_history(votes: list[LabelledVote], prior: Mapping[int, Prior]) -> list[LabelledVote]:
    """The votes (in time order) with each account's past filled in."""
    last: dict[int, datetime] = {}
    networks: dict[int, set[object]] = {}
    devices: dict[int, set[str]] = {}
    for voter, known in prior.items():
        last[voter] = known.last_vote
        networks[voter] = set(known.asns)
        devices[voter] = set(known.devices)
    annotated = []
    for vote in sorted(votes, key=lambda v: v.event.cast_at):
        e = vote.event
        seen_networks = networks.setdefault(e.voter_id, set())
        seen_devices = devices.setdefault(e.voter_id, set())
        network: object = e.asn if e.asn is not None else e.prefix
        keys = {key for key in (e.fingerprint, e.device_cookie) if key}
        event = replace(
            e,
            previous_vote_at=last.get(e.voter_id),
            known_network=network in seen_networks,
            known_device=bool(keys & seen_devices),
        )
        annotated.append(LabelledVote(event, vote.attack, vote.scenario))
        last[e.voter_id] = e.cast_at
        seen_networks.add(network)
        seen_devices.update(keys)
    return annotated
