"""Ovation fraud detection: explainable per-vote scoring, coordinated-group and signup-cohort detection.

A pure library over plain data (no database, HTTP or Celery). The worker calls::

    result = score_batch(batch, history, context, config, now)
    scan = find_coordinated_groups(edges_from_events(all_contest_votes), config)
"""

from fraud.config import CohortConfig, DetectorConfig, FraudConfig, GroupConfig
from fraud.groups import edges_from_events, find_coordinated_groups
from fraud.net import prefix_for
from fraud.scoring import score_batch, with_group_reasons
from fraud.types import (
    ContestContext,
    CoordinatedGroup,
    GroupScan,
    Reason,
    ScoringResult,
    Verdict,
    VoteEdge,
    VoteEvent,
)

__all__ = [
    "CohortConfig",
    "ContestContext",
    "CoordinatedGroup",
    "DetectorConfig",
    "FraudConfig",
    "GroupConfig",
    "GroupScan",
    "Reason",
    "ScoringResult",
    "Verdict",
    "VoteEdge",
    "VoteEvent",
    "edges_from_events",
    "find_coordinated_groups",
    "prefix_for",
    "score_batch",
    "with_group_reasons",
]
