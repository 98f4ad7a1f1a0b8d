"""One device (fingerprint or server cookie) used by many accounts."""

from __future__ import annotations

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import KEY_FUNCS, ContestIndex
from fraud.types import Reason, VoteEvent


class SharedDeviceAccounts(Detector):
    """Families share a tablet (2-4 accounts); farms cycle dozens of accounts through one phone."""

    name = "shared_device_accounts"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        worst: tuple[int, str, str] | None = None
        for kind in ("fingerprint", "cookie"):
            key = KEY_FUNCS[kind](vote)
            if key is None:
                continue
            accounts = index.distinct_voters(kind, key)
            if accounts >= settings.threshold and (worst is None or accounts > worst[0]):
                worst = (accounts, kind, str(key))
        if worst is None:
            return None
        accounts, kind, key = worst
        label = "fingerprint" if kind == "fingerprint" else "cookie"
        return self.reason(
            settings,
            f"device {label} {key[:12]} voted for {accounts} accounts in the last 24 h "
            f"(limit {settings.threshold:g})",
            {"key_kind": kind, "key": key, "accounts": accounts, "limit": settings.threshold},
        )
