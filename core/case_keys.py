"""What links suspicious votes into one case: ``group:<id>``, ``device:<id>`` or ``prefix:<cidr>``.

Pure: the scoring, the group pass and moderation all name cases through these functions.
"""

from __future__ import annotations

from fraud import Verdict, VoteEvent

# Reasons that point at one device: their votes are reviewed per device, the others per network prefix.
DEVICE_REASONS = frozenset(
    {"shared_device_accounts", "device_fingerprint_velocity", "device_cookie_velocity"}
)


def vote_case_key(verdict: Verdict, event: VoteEvent) -> str | None:
    """The case of a vote that its own signals made suspicious (None when it is not suspicious)."""
    if not verdict.suspicious:
        return None
    codes = {reason.code for reason in verdict.reasons}
    device = event.device_cookie or event.fingerprint
    if device and codes & DEVICE_REASONS:
        return f"device:{device}"
    return f"prefix:{event.prefix}"


def group_case_key(group_id: int) -> str:
    """The case of every vote a detected coordinated group holds."""
    return f"group:{group_id}"


def case_kind(key: str) -> str:
    """``group``, ``device`` or ``prefix``."""
    return key.split(":", 1)[0]


def held_by_own_signals(suspicious: bool, key: str | None) -> bool:
    """Held because of the vote's own signals, not because an earlier group pass put it in a group."""
    return suspicious and (key is None or case_kind(key) != "group")
