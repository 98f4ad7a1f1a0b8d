"""score_batch: run every enabled detector on each vote of a micro-batch and combine the reasons.

Combination rule (why shared networks alone do not condemn anyone): points from *network* reasons
(IP/prefix velocity, accounts born on one network, hosting ASN) and *weak* reasons (new account,
unverified or disposable email, missing fingerprint...) count fully only when *strong* reasons
(device sharing, automation, numbered-email runs, lockstep timing, geo contradictions...) add up to
``corroboration_min_points``. Otherwise network points are multiplied by
``uncorroborated_network_factor`` and weak points are capped at ``uncorroborated_weak_cap``
(with the defaults, 0.3 x 90 + 20 = 47 < 50: no vote is flagged without a strong reason). A campus
/24 or a carrier NAT full of new accounts therefore stays below the review threshold however busy
it is, while a farm behind the same kind of network is caught as soon as its devices, accounts or
timing give it away.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from fraud.config import FraudConfig
from fraud.detectors import ALL_DETECTORS, Detector
from fraud.features import ContestIndex
from fraud.types import ContestContext, Reason, ScoringResult, Verdict, VoteEvent

logger = logging.getLogger("fraud.scoring")


def score_batch(
    batch: Sequence[VoteEvent],
    history: Sequence[VoteEvent],
    context: ContestContext,
    config: FraudConfig | None = None,
    now: datetime | None = None,
    detectors: Sequence[Detector] = ALL_DETECTORS,
) -> ScoringResult:
    """Score each vote of ``batch`` against the contest's recent ``history`` (the last 24 h).

    ``history`` may or may not contain the batch's votes; each vote is indexed once.
    A detector that raises is skipped for that vote, counted in ``detector_failures`` and logged.
    """
    config = config or FraudConfig.default()
    now = now or datetime.now(UTC)
    index = ContestIndex(batch, history, context, config, now)
    active = [
        (detector, config.detectors[detector.name])
        for detector in detectors
        if detector.name in config.detectors and config.detectors[detector.name].enabled
    ]
    failures: Counter[str] = Counter()
    first_errors: dict[str, BaseException] = {}
    verdicts: list[Verdict] = []
    for vote in batch:
        found: list[tuple[Reason, str]] = []
        for detector, settings in active:
            try:
                reason = detector.evaluate(vote, index, settings)
            except Exception as error:  # one broken detector must not stop the others
                failures[detector.name] += 1
                first_errors.setdefault(detector.name, error)
                continue
            if reason is not None:
                found.append((reason, settings.kind))
        verdicts.append(combine(vote.vote_id, found, config))
    for name, count in failures.items():
        logger.error(
            "fraud detector %s failed on %d of %d votes; they were scored without it",
            name,
            count,
            len(batch),
            exc_info=first_errors[name],
        )
    return ScoringResult(verdicts=tuple(verdicts), detector_failures=dict(failures))


def combine(vote_id: int, found: Iterable[tuple[Reason, str]], config: FraudConfig) -> Verdict:
    found = list(found)
    strong_points = sum(reason.points for reason, kind in found if kind == "strong")
    corroborated = strong_points >= config.corroboration_min_points
    reasons: list[Reason] = []
    weak_budget = config.uncorroborated_weak_cap
    for reason, kind in sorted(found, key=lambda item: -item[0].points):
        if kind == "network" and not corroborated:
            factor = config.uncorroborated_network_factor
            reason = replace(
                reason,
                points=round(reason.points * factor, 1),
                evidence=f"{reason.evidence}; counted at {factor:.0%}: a shared network alone proves nothing",
            )
        elif kind == "weak" and not corroborated:
            kept = min(reason.points, weak_budget)
            weak_budget -= kept
            if kept < reason.points:
                reason = replace(
                    reason,
                    points=round(kept, 1),
                    evidence=f"{reason.evidence}; weak signals add at most "
                    f"{config.uncorroborated_weak_cap:g} points without a strong one",
                )
        reasons.append(reason)
    reasons.sort(key=lambda reason: -reason.points)
    score = min(100, round(sum(reason.points for reason in reasons)))
    return Verdict(
        vote_id=vote_id,
        score=score,
        reasons=tuple(reasons),
        suspicious=score >= config.review_threshold,
    )


def with_group_reasons(
    result: ScoringResult, group_reasons: Mapping[int, Reason], config: FraudConfig | None = None
) -> ScoringResult:
    """Add coordinated-group reasons (from fraud.groups) to already scored votes.

    A vote's earlier reason with the same code is replaced, so a periodic group scan can run again and
    again over the same votes without counting its reason twice.
    """
    config = config or FraudConfig.default()
    verdicts = []
    for verdict in result.verdicts:
        extra = group_reasons.get(verdict.vote_id)
        if extra is None:
            verdicts.append(verdict)
            continue
        others = (reason for reason in verdict.reasons if reason.code != extra.code)
        reasons = tuple(sorted((*others, extra), key=lambda reason: -reason.points))
        score = min(100, round(sum(reason.points for reason in reasons)))
        verdicts.append(
            replace(verdict, score=score, reasons=reasons, suspicious=score >= config.review_threshold)
        )
    return replace(result, verdicts=tuple(verdicts))
