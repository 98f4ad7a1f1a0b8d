"""Client signals: scripted or headless user agents, missing or malformed device identifiers."""

from __future__ import annotations

import re
from functools import lru_cache

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import ContestIndex, valid_fingerprint
from fraud.types import Reason, VoteEvent

# Automation frameworks and HTTP libraries that announce themselves; real browsers never send these.
SCRIPTED_AGENT_RE = re.compile(
    r"headlesschrome|phantomjs|selenium|webdriver|puppeteer|playwright|slimerjs|htmlunit|"
    r"python-requests|python-urllib|python-httpx|aiohttp|httpx/|curl/|wget/|go-http-client|"
    r"java/\d|okhttp|apache-httpclient|libwww-perl|scrapy|node-fetch|axios/|postmanruntime|"
    r"insomnia|guzzlehttp|ruby|powershell|\bbot\b|spider|crawler",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def automation_marker(user_agent: str) -> str | None:
    """The automation tool a User-Agent names, if any (cached: a contest sees few distinct agents)."""
    match = SCRIPTED_AGENT_RE.search(user_agent)
    return None if match is None else match.group(0)


class ScriptedUserAgent(Detector):
    name = "scripted_user_agent"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        agent = (vote.user_agent or "").strip()
        if not agent:
            return self.reason(settings, "the request had no User-Agent header", {"user_agent": None})
        marker = automation_marker(agent)
        if marker is None:
            return None
        return self.reason(
            settings,
            f"User-Agent names an automation tool ('{marker}'): {agent[:80]}",
            {"user_agent": agent[:200], "matched": marker},
        )


class FingerprintMissing(Detector):
    """Scripts that skip the page's JavaScript send no fingerprint; privacy tools do too, so it is weak."""

    name = "fingerprint_missing"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        if valid_fingerprint(vote.fingerprint):
            return None
        state = "missing" if not vote.fingerprint else "malformed"
        return self.reason(
            settings,
            f"device fingerprint {state}" + (f" ({vote.fingerprint[:24]!r})" if vote.fingerprint else ""),
            {"fingerprint_state": state},
        )


class DeviceCookieMissing(Detector):
    name = "device_cookie_missing"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        if vote.device_cookie:
            return None
        return self.reason(settings, "the client sent no device cookie", {"device_cookie": None})
