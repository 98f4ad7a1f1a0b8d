"""The detector contract: look at one vote in the contest index, return a Reason or None."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from fraud.config import DetectorConfig
from fraud.features import ContestIndex
from fraud.types import JsonValue, Reason, VoteEvent


class Detector(ABC):
    """``name`` is both the config key and the reason code."""

    name: str

    @abstractmethod
    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None: ...

    def reason(
        self, settings: DetectorConfig, evidence: str, data: Mapping[str, JsonValue], scale: float = 1.0
    ) -> Reason:
        return Reason(code=self.name, points=round(settings.weight * scale, 1), evidence=evidence, data=data)


def duration_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
