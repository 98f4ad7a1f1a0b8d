"""All per-vote detectors, in the order their reasons are listed."""

from __future__ import annotations

from fraud.detectors.accounts import DisposableEmail, NewAccount, SequentialEmail, UnverifiedEmail
from fraud.detectors.base import Detector
from fraud.detectors.client import DeviceCookieMissing, FingerprintMissing, ScriptedUserAgent
from fraud.detectors.devices import SharedDeviceAccounts
from fraud.detectors.geo import GeoMismatch, IneligibleCountry
from fraud.detectors.networks import AccountsPerNetwork, DatacenterBurst, HostingAsn, NetworkLockstep
from fraud.detectors.ranges import Ipv6RangeRotation
from fraud.detectors.songs import SongBurst
from fraud.detectors.surge import FreshAccountSurge
from fraud.detectors.takeover import DormantAccountSwitch
from fraud.detectors.timing import RoboticTiming, VoteAfterSignup
from fraud.detectors.velocity import VELOCITY_DETECTORS

ALL_DETECTORS: tuple[Detector, ...] = (
    *VELOCITY_DETECTORS,
    SharedDeviceAccounts(),
    AccountsPerNetwork(),
    HostingAsn(),
    NetworkLockstep(),
    DatacenterBurst(),
    Ipv6RangeRotation(),
    ScriptedUserAgent(),
    FingerprintMissing(),
    DeviceCookieMissing(),
    NewAccount(),
    UnverifiedEmail(),
    DisposableEmail(),
    SequentialEmail(),
    IneligibleCountry(),
    GeoMismatch(),
    RoboticTiming(),
    VoteAfterSignup(),
    SongBurst(),
    FreshAccountSurge(),
    DormantAccountSwitch(),
)

__all__ = ["ALL_DETECTORS", "Detector"]
