"""Which case a suspicious vote joins: the device when a device signal fired, else the network prefix."""

from __future__ import annotations

from core.case_keys import case_kind, group_case_key, held_by_own_signals, vote_case_key
from fraud import Reason, Verdict
from tests.unit.fraud.factories import vote


def _verdict(vote_id: int, *codes: str, suspicious: bool = True) -> Verdict:
    reasons = tuple(Reason(code, 30.0, f"{code} fired") for code in codes)
    return Verdict(vote_id=vote_id, score=80 if suspicious else 5, reasons=reasons, suspicious=suspicious)


def test_a_vote_that_is_not_suspicious_joins_no_case() -> None:
    event = vote(voter=1)
    assert vote_case_key(_verdict(event.vote_id, "shared_device_accounts", suspicious=False), event) is None


def test_a_device_signal_makes_the_device_the_case() -> None:
    event = vote(voter=2, device_cookie="dc_shared", fingerprint="f" * 32)
    assert vote_case_key(_verdict(event.vote_id, "shared_device_accounts"), event) == "device:dc_shared"


def test_without_a_device_cookie_the_fingerprint_names_the_device() -> None:
    event = vote(voter=3, device_cookie=None, fingerprint="a" * 32)
    key = vote_case_key(_verdict(event.vote_id, "device_fingerprint_velocity"), event)
    assert key == "device:" + "a" * 32


def test_other_signals_make_the_network_prefix_the_case() -> None:
    event = vote(voter=4, ip="203.0.113.9")
    assert vote_case_key(_verdict(event.vote_id, "datacenter_burst"), event) == "prefix:203.0.113.0/24"


def test_a_device_signal_without_any_device_id_falls_back_to_the_prefix() -> None:
    event = vote(voter=5, ip="198.51.100.7", device_cookie=None, fingerprint=None)
    key = vote_case_key(_verdict(event.vote_id, "shared_device_accounts"), event)
    assert key == "prefix:198.51.100.0/24"


def test_kinds_and_group_keys() -> None:
    assert group_case_key(17) == "group:17"
    assert [case_kind(k) for k in ("group:17", "device:dc_1", "prefix:2001:db8::/64")] == [
        "group",
        "device",
        "prefix",
    ]


def test_only_votes_held_by_their_own_signals_count_as_held_by_scoring() -> None:
    assert held_by_own_signals(True, "prefix:203.0.113.0/24")
    assert held_by_own_signals(True, "device:dc_1")
    assert held_by_own_signals(True, None)
    assert not held_by_own_signals(True, "group:3")  # an earlier group pass held it
    assert not held_by_own_signals(False, "prefix:203.0.113.0/24")
