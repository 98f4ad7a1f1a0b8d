"""Vote-level and leaderboard metrics for the fraud benchmark."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Confusion:
    true_positives: int
    false_positives: int
    false_negatives: int
    honest_total: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        attacks = self.true_positives + self.false_negatives
        return self.true_positives / attacks if attacks else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def honest_fpr(self) -> float:
        return self.false_positives / self.honest_total if self.honest_total else 0.0


def confusion(labels: dict[int, bool], flagged: set[int]) -> Confusion:
    tp = sum(1 for vote_id in flagged if labels.get(vote_id))
    fp = len(flagged) - tp
    attacks = sum(1 for is_attack in labels.values() if is_attack)
    honest = len(labels) - attacks
    return Confusion(tp, fp, attacks - tp, honest)


def ranking(counts: Counter[int], songs: Iterable[int]) -> list[int]:
    return sorted(songs, key=lambda song: (-counts[song], song))


def kendall_tau(first: list[int], second: list[int]) -> float:
    """Kendall tau-a between two rankings of the same items."""
    position = {item: index for index, item in enumerate(second)}
    concordant = discordant = 0
    for i in range(len(first)):
        for j in range(i + 1, len(first)):
            if position[first[i]] < position[first[j]]:
                concordant += 1
            else:
                discordant += 1
    pairs = concordant + discordant
    return (concordant - discordant) / pairs if pairs else 1.0
