"""Coordinated voting: dense voter x song blocks that vote in lockstep.

Run periodically per contest over the whole voter x song graph.

1. Peeling (FRAUDAR, Hooi et al. 2016). Edges are weighted 1/log(song degree + 5), so a vote for a
   popular song is cheap and camouflage votes a ring adds for popular songs cannot dilute it. The
   greedy peel removes the node of lowest weighted degree until nothing is left and keeps the
   snapshot of highest average weighted degree (the densest block).
2. Confirmation. A dense block is not evidence on its own (fans of two songs by the same artist
   co-vote). A block becomes a group only if its core (accounts that voted for most of the block's
   songs) is large enough, their co-voting is far above what the songs' popularity predicts (lift),
   and, unless the lift is overwhelming, their votes cluster in the same time windows (lockstep, the
   CopyCatch / SynchroTrap idea: same targets, same windows).
3. The block's accounts leave the graph and the next block is examined (up to ``max_blocks``).

A flash crowd votes for one song, so it never forms a multi-song block; the honest popular-song
majority is diluted by the 1/log weights and has low lift.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fraud.cohorts import find_signup_cohorts
from fraud.config import CohortConfig, FraudConfig, GroupConfig
from fraud.types import CoordinatedGroup, GroupScan, Reason, VoteEdge, VoteEvent

REASON_CODE = "coordinated_group"
_MAX_LIFT_SONGS = 8  # a group is described by (at most) its 8 most over-represented songs
_MIN_SONG_OVER_REPRESENTATION = 3.0  # block share / contest share for a song to belong to the group
_RELATIVE_OVER_REPRESENTATION = 0.3  # ... and at least this fraction of the most over-represented song's


def edges_from_events(
    events: Iterable[VoteEvent], held_votes: Collection[int] = frozenset()
) -> list[VoteEdge]:
    return [
        VoteEdge(
            e.vote_id,
            e.voter_id,
            e.song_id,
            e.cast_at.timestamp(),
            e.account_created_at.timestamp(),
            e.vote_id in held_votes,
        )
        for e in events
    ]


@dataclass(slots=True)
class _Graph:
    voter_songs: dict[int, set[int]]
    song_voters: dict[int, set[int]]
    # Expectations (song popularity, how many accounts there are) come from the honest-looking accounts
    # only: fewer than half of their votes held by the per-vote scoring. A farm's thousands of one-song
    # accounts would otherwise shrink every other song's popularity and make real fans look coordinated.
    trusted: set[int]
    song_trusted: dict[int, int]  # trusted voters per song
    voter_count: int  # trusted voters
    # The graph that is peeled: voter -> (song, time window) targets, as SynchroTrap pairs them.
    voter_targets: dict[int, set[int]]
    target_weight: dict[int, float]
    target_song: dict[int, int]


def _build_graph(edges: Sequence[VoteEdge], bucket: float) -> _Graph:
    voter_songs: defaultdict[int, set[int]] = defaultdict(set)
    song_voters: defaultdict[int, set[int]] = defaultdict(set)
    voter_targets: defaultdict[int, set[int]] = defaultdict(set)
    target_ids: dict[tuple[int, int], int] = {}
    target_voters: defaultdict[int, set[int]] = defaultdict(set)
    votes: Counter[int] = Counter()
    held: Counter[int] = Counter()
    for edge in edges:
        voter_songs[edge.voter_id].add(edge.song_id)
        song_voters[edge.song_id].add(edge.voter_id)
        votes[edge.voter_id] += 1
        held[edge.voter_id] += edge.held
        key = (edge.song_id, int(edge.cast_at // bucket))
        target = target_ids.get(key)
        if target is None:
            target = target_ids[key] = len(target_ids)
        voter_targets[edge.voter_id].add(target)
        target_voters[target].add(edge.voter_id)
    # FRAUDAR column weighting: a vote for a crowded target is cheap evidence of anything.
    weight = {target: 1.0 / math.log(len(voters) + 5) for target, voters in target_voters.items()}
    target_song = {target: song for (song, _), target in target_ids.items()}
    trusted = {voter for voter, count in votes.items() if held[voter] * 2 < count}
    if len(trusted) == len(votes):
        song_trusted = {song: len(voters) for song, voters in song_voters.items()}
    else:
        song_trusted = {song: len(voters & trusted) for song, voters in song_voters.items()}
    return _Graph(
        dict(voter_songs),
        dict(song_voters),
        trusted,
        song_trusted,
        len(trusted),
        dict(voter_targets),
        weight,
        target_song,
    )


def _peel(voters: Sequence[int], graph: _Graph) -> tuple[set[int], set[int], float]:
    """Greedy FRAUDAR peel over the given voters; returns the densest (voters, targets, density)."""
    voter_targets, weight = graph.voter_targets, graph.target_weight
    target_nodes = sorted({target for voter in voters for target in voter_targets[voter]})
    offset = len(voters)
    target_index = {target: offset + i for i, target in enumerate(target_nodes)}
    adjacency: list[list[int]] = [[target_index[t] for t in voter_targets[v]] for v in voters]
    adjacency.extend([] for _ in target_nodes)
    node_weight = [0.0] * offset + [weight[target] for target in target_nodes]
    priority = [0.0] * (offset + len(target_nodes))
    for v_node, targets in enumerate(adjacency[:offset]):
        for t_node in targets:
            adjacency[t_node].append(v_node)
            w = node_weight[t_node]
            priority[v_node] += w
            priority[t_node] += w
    total = sum(priority[:offset])
    alive = [True] * len(priority)
    remaining = len(priority)
    heap = [(p, node) for node, p in enumerate(priority)]
    heapq.heapify(heap)
    best_density, best_step, order = total / max(remaining, 1), 0, []
    while heap:
        p, node = heapq.heappop(heap)
        if not alive[node] or p != priority[node]:
            continue  # stale heap entry
        alive[node] = False
        order.append(node)
        total -= priority[node]
        remaining -= 1
        is_voter = node < offset
        for neighbour in adjacency[node]:
            if alive[neighbour]:
                priority[neighbour] -= node_weight[neighbour] if is_voter else node_weight[node]
                heapq.heappush(heap, (priority[neighbour], neighbour))
        if remaining and total / remaining > best_density:
            best_density, best_step = total / remaining, len(order)
    kept = set(order[best_step:])
    block_voters = {voters[node] for node in kept if node < offset}
    block_targets = {target_nodes[node - offset] for node in kept if node >= offset}
    return block_voters, block_targets, best_density


def _expected_covering(probabilities: Sequence[float], needed: int, voters: int) -> float:
    """Voters expected to vote for at least ``needed`` of these songs if everyone chose independently."""
    at_least = [1.0] + [0.0] * len(probabilities)  # at_least[k]: P(exactly k so far), built by DP
    for p in probabilities:
        for k in range(len(at_least) - 1, 0, -1):
            at_least[k] = at_least[k] * (1 - p) + at_least[k - 1] * p
        at_least[0] *= 1 - p
    return voters * sum(at_least[needed:])


def _lift(songs: Sequence[int], needed: int, graph: _Graph) -> tuple[float, set[int]]:
    """Observed / expected accounts voting for ``needed`` of the songs, and those accounts (whole contest)."""
    hits: Counter[int] = Counter()
    for song in songs:
        hits.update(graph.song_voters[song])
    covering = {voter for voter, count in hits.items() if count >= needed}
    voters = max(graph.voter_count, 1)
    expected = _expected_covering([graph.song_trusted[s] / voters for s in songs], needed, voters)
    observed = len(covering & graph.trusted) if len(graph.trusted) < len(graph.voter_songs) else len(covering)
    return observed / max(expected, 1.0), covering


def _share_inside(times: Sequence[float], windows: Sequence[tuple[float, float]]) -> float:
    inside = sum(1 for moment in times if any(start <= moment < end for start, end in windows))
    return inside / len(times) if times else 0.0


def _focus_songs(block_voters: set[int], block_songs: set[int], graph: _Graph) -> list[int]:
    """The block's songs that most of its voters chose, far more often than the contest at large.

    Camouflage picks are either spread thin (random) or popular anyway (biased), so they drop out.
    """
    coverage = Counter(
        song for voter in block_voters for song in graph.voter_songs[voter] if song in block_songs
    )
    voters = max(graph.voter_count, 1)
    over_represented = {
        song: (count / len(block_voters)) / (max(graph.song_trusted[song], 1) / voters)
        for song, count in coverage.items()
        if count >= 0.5 * len(block_voters)
    }
    if not over_represented:
        return []
    # Camouflage picks of popular songs can be over-represented too, but far less than the ring's own.
    cut = max(_MIN_SONG_OVER_REPRESENTATION, _RELATIVE_OVER_REPRESENTATION * max(over_represented.values()))
    chosen = [song for song, ratio in over_represented.items() if ratio >= cut]
    return sorted(chosen, key=lambda song: -over_represented[song])[:_MAX_LIFT_SONGS]


def _time_profile(times: Iterable[float], bucket: float) -> Counter[int]:
    return Counter(int(t // bucket) for t in times)


def _lockstep(
    group_times: Sequence[float], contest_profile: Counter[int], contest_total: int, bucket: float
) -> float:
    """Total-variation distance between the group's and the contest's vote-time histograms (0..1)."""
    if not group_times or not contest_total:
        return 0.0
    group_profile = _time_profile(group_times, bucket)
    size = len(group_times)
    buckets = set(group_profile) | set(contest_profile)
    return 0.5 * sum(abs(group_profile[b] / size - contest_profile[b] / contest_total) for b in buckets)


def _windows(group_times: Sequence[float], bucket: float, coverage: float = 0.8) -> list[tuple[float, float]]:
    """The fewest buckets holding ``coverage`` of the group's votes, merged into contiguous ranges."""
    profile = _time_profile(group_times, bucket)
    chosen: list[int] = []
    covered = 0
    for key, count in profile.most_common():
        chosen.append(key)
        covered += count
        if covered >= coverage * len(group_times):
            break
    ranges: list[tuple[float, float]] = []
    for key in sorted(chosen):
        start, end = key * bucket, (key + 1) * bucket
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def find_coordinated_groups(
    edges: Sequence[VoteEdge], config: FraudConfig | GroupConfig | None = None
) -> GroupScan:
    """Coordinated groups, then signup cohorts among the accounts no group claimed (fraud/cohorts.py)."""
    settings = config.groups if isinstance(config, FraudConfig) else (config or GroupConfig())
    cohort_settings = config.cohorts if isinstance(config, FraudConfig) else CohortConfig()
    scan = _find_groups(edges, settings)
    claimed = {account for group in scan.groups for account in group.accounts}
    cohorts = find_signup_cohorts(edges, cohort_settings, claimed) if edges else []
    return GroupScan((*scan.groups, *cohorts), scan.blocks_examined, scan.rejected)


def _find_groups(edges: Sequence[VoteEdge], settings: GroupConfig) -> GroupScan:
    if not settings.enabled or not edges:
        return GroupScan((), 0, ())
    bucket = settings.window_minutes * 60.0
    graph = _build_graph(edges, bucket)
    # The contest's timing from honest-looking votes: a farm must not become "when everyone votes".
    contest_times = [edge.cast_at for edge in edges if not edge.held] or [edge.cast_at for edge in edges]
    contest_profile = _time_profile(contest_times, bucket)
    # Only multi-song voters can be part of a multi-song block; single votes still count in song degrees.
    candidates = {voter for voter, songs in graph.voter_songs.items() if len(songs) >= settings.min_songs}
    accepted: list[tuple[set[int], list[int], float, float, float, list[tuple[float, float]]]] = []
    rejected: list[str] = []
    claimed: set[int] = set()
    examined = 0
    while examined < settings.max_blocks and len(candidates) >= settings.min_accounts:
        examined += 1
        block_voters, block_targets, density = _peel(sorted(candidates), graph)
        block_songs = {graph.target_song[target] for target in block_targets}
        if not block_voters:
            break
        candidates -= block_voters
        songs = _focus_songs(block_voters, block_songs, graph)
        needed = max(settings.min_songs, math.ceil(settings.core_song_fraction * len(songs)))
        core = {
            voter for voter in block_voters if len(graph.voter_songs[voter].intersection(songs)) >= needed
        }
        summary = (
            f"block of {len(block_voters)} accounts x {len(block_targets)} song-windows "
            f"on {len(block_songs)} songs (density {density:.2f})"
        )
        if len(songs) < settings.min_songs or len(core) < settings.min_accounts:
            rejected.append(f"{summary}: core of {len(core)} accounts on {len(songs)} songs is too small")
            continue
        # The peel keeps the densest part only; every account covering the group's songs is a member.
        lift, covering = _lift(songs, needed, graph)
        candidates -= covering
        covering -= claimed  # an account belongs to the first group that claimed it
        song_set = set(songs)
        member_times: defaultdict[int, list[float]] = defaultdict(list)
        for edge in edges:
            if edge.song_id in song_set and edge.voter_id in covering:
                member_times[edge.voter_id].append(edge.cast_at)
        group_times = [moment for times in member_times.values() for moment in times]
        lockstep = _lockstep(group_times, contest_profile, len(contest_times), bucket)
        in_lockstep = lift >= settings.min_lift and lockstep >= settings.min_lockstep
        if lift < settings.strong_lift and not in_lockstep:
            rejected.append(f"{summary}: lift {lift:.1f}, lockstep {lockstep:.2f} below the limits")
            continue
        windows = _windows(group_times, bucket, coverage=0.9)
        members = covering
        if in_lockstep:
            # Accounts that merely share the taste but voted at other times are not part of the ring.
            members = {voter for voter, times in member_times.items() if _share_inside(times, windows) >= 0.5}
        if len(members) < settings.min_accounts:
            rejected.append(f"{summary}: only {len(members)} accounts voted inside the group's windows")
            continue
        accepted.append((members, songs, density, lift, lockstep, windows))
        claimed |= members
    groups = _materialise(edges, accepted, settings)
    return GroupScan(tuple(groups), examined, tuple(rejected))


def _materialise(
    edges: Sequence[VoteEdge],
    accepted: Sequence[tuple[set[int], list[int], float, float, float, list[tuple[float, float]]]],
    settings: GroupConfig,
) -> list[CoordinatedGroup]:
    if not accepted:
        return []
    owner = {voter: position for position, entry in enumerate(accepted) for voter in entry[0]}
    votes: list[list[int]] = [[] for _ in accepted]
    for edge in edges:
        position = owner.get(edge.voter_id)
        if position is not None:
            votes[position].append(edge.vote_id)
    groups = []
    for (core, songs, density, lift, lockstep, windows), vote_ids in zip(accepted, votes, strict=True):
        spans = tuple((datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)) for a, b in windows)
        window_text = ", ".join(f"{a:%m-%d %H:%M}-{b:%H:%M}" for a, b in spans[:3]) + (
            f" and {len(spans) - 3} more" if len(spans) > 3 else ""
        )
        evidence = (
            f"{len(core)} accounts voted together for songs {', '.join(map(str, songs[:8]))}: "
            f"{lift:.0f}x more co-votes than the songs' popularity predicts, "
            f"timing {lockstep:.0%} unlike the contest's (90% of their votes in {window_text} UTC)"
        )
        reason = Reason(
            code=REASON_CODE,
            points=settings.points,
            evidence=evidence,
            data={
                "accounts": len(core),
                "songs": len(songs),
                "density": round(density, 3),
                "lift": round(lift, 2),
                "lockstep": round(lockstep, 3),
                "votes": len(vote_ids),
            },
        )
        groups.append(
            CoordinatedGroup(
                accounts=tuple(sorted(core)),
                songs=tuple(songs),
                windows=spans,
                density=density,
                lift=lift,
                lockstep=lockstep,
                vote_ids=tuple(vote_ids),
                reason=reason,
            )
        )
    return groups
