"""The coordinated-group detector on a contest of a million votes (edges only, generated directly)."""

from __future__ import annotations

import itertools
import random
import time

from bench.fraud_common import START
from fraud import FraudConfig, VoteEdge, find_coordinated_groups

SONGS = 80
GENRES = 6


def million_vote_edges(size: int, seed: int) -> tuple[list[VoteEdge], set[int]]:
    """Honest multi-song voters with genre taste, a flash crowd, and a camouflaged ring (2% of votes).

    Every edge carries its account's creation time, so the signup-cohort passes (dormant and fresh) run
    too: honest accounts created over two years, a quarter of them minutes before their first vote.
    """
    rng = random.Random(seed)
    start = START.timestamp()
    days = 5
    popularity = [1.0 / (rank + 1) ** 0.95 for rank in range(SONGS)]
    genre = [rng.randrange(GENRES) for _ in range(SONGS)]
    cumulative = [
        list(itertools.accumulate(p * (3.0 if genre[s] == g else 1.0) for s, p in enumerate(popularity)))
        for g in range(GENRES)
    ]
    edges: list[VoteEdge] = []
    vote_id = voter = 0
    ring_budget = int(size * 0.02)
    honest_budget = size - ring_budget
    songs = range(1, SONGS + 1)
    while len(edges) < honest_budget:
        voter += 1
        fresh = rng.random() < 0.25
        favourite = rng.randrange(GENRES)
        count = 1
        while rng.random() < 0.45 and count < 8:
            count += 1
        picks = set(rng.choices(songs, cum_weights=cumulative[favourite], k=count))
        created: float | None = None
        for day in range(days):
            if day and rng.random() > 0.3:
                continue
            at = start + day * 86400 + rng.uniform(6, 23) * 3600
            if not day or created is None:
                created = at - rng.uniform(20, 600) if fresh else start - rng.uniform(1, 730) * 86400
            for song in picks:
                vote_id += 1
                edges.append(VoteEdge(vote_id, voter, song, at, created))
                at += 5 + rng.expovariate(1 / 15)
    # Flash crowd: 3% of the votes, one song, within two hours.
    for _ in range(int(size * 0.03)):
        voter += 1
        vote_id += 1
        at = start + 2 * 86400 + 60000 + rng.expovariate(1 / 2400)
        edges.append(VoteEdge(vote_id, voter, 40, at, at - rng.uniform(20, 600)))
    ring_songs = [55, 61, 68, 74]
    members = ring_budget // (days * len(ring_songs) * 3)
    ring_accounts = set()
    ring_created = {}
    for _ in range(members):
        voter += 1
        ring_accounts.add(voter)
        ring_created[voter] = start - rng.uniform(30, 700) * 86400
    for day in range(days):
        call = start + day * 86400 + rng.uniform(17, 19) * 3600
        for member in ring_accounts:
            picks = set(ring_songs)
            while len(picks) < 3 * len(ring_songs):  # 2:1 camouflage, biased to popular songs
                picks.add(rng.choices(songs, cum_weights=cumulative[0])[0])
            at = call + rng.expovariate(1 / 720)
            for song in picks:
                vote_id += 1
                edges.append(VoteEdge(vote_id, member, song, at, ring_created[member]))
                at += 5 + rng.expovariate(1 / 15)
    return edges, ring_accounts


def time_group_detector_at_scale(size: int, seed: int, config: FraudConfig) -> str:
    edges, ring = million_vote_edges(size, seed)
    started = time.perf_counter()
    scan = find_coordinated_groups(edges, config)
    seconds = time.perf_counter() - started
    flagged = {account for group in scan.groups for account in group.accounts}
    voters = len({edge.voter_id for edge in edges})
    return (
        f"group detector on {len(edges):,} votes ({voters:,} voters, "
        f"camouflaged ring of {len(ring)} accounts): {seconds:.1f} s, {len(scan.groups)} group(s), "
        f"ring accounts found {len(flagged & ring)}/{len(ring)}, "
        f"honest accounts flagged {len(flagged - ring)}"
    )
