"""Account signals: age, email verification, disposable domains, numbered account runs."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from itertools import compress
from typing import cast

from disposable_email_domains import blocklist

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector, duration_text
from fraud.features import ContestIndex
from fraud.types import Reason, VoteEvent

_DIGITS = "0123456789"


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def is_disposable(domain: str) -> bool:
    """The domain or any parent domain (mx.mailinator.com) is on the disposable list."""
    parts = domain.split(".")
    return any(".".join(parts[start:]) in blocklist for start in range(len(parts) - 1))


@lru_cache(maxsize=262144)
def numbered_stem(email: str) -> tuple[str, str, int] | None:
    """("user", "example.com", 7) for "user007@example.com"; None without a numeric suffix."""
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0]
    stem = local.rstrip(_DIGITS)
    digits = local[len(stem) :]
    if not digits or len(stem) < 2 or len(digits) > 9:
        return None
    return stem, domain, int(digits)


# email -> (stem, domain) or None. A plain dict (cleared when large) because it is read once per
# history vote on every call: an lru_cache's bookkeeping would cost more than the lookup.
_STEM_KEYS: dict[str, tuple[str, str] | None] = {}
_STEM_KEYS_MAX = 500_000


def stem_keys(emails: list[str]) -> list[tuple[str, str] | None]:
    cache = _STEM_KEYS
    if len(cache) > _STEM_KEYS_MAX:
        cache.clear()
    missing = [email for email in set(emails) if email not in cache]
    for email in missing:
        parsed = numbered_stem(email)
        cache[email] = None if parsed is None else parsed[:2]
    return [cache[email] for email in emails]


class NewAccount(Detector):
    name = "new_account"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        age = (vote.cast_at - vote.account_created_at).total_seconds()
        if age >= settings.threshold * 3600:
            return None
        return self.reason(
            settings,
            f"account created {duration_text(max(age, 0.0))} before this vote "
            f"(limit {settings.threshold:g} h)",
            {"account_age_seconds": round(age, 1), "limit_hours": settings.threshold},
        )


class UnverifiedEmail(Detector):
    name = "unverified_email"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        if vote.email_verified:
            return None
        return self.reason(settings, "the account's email address is not verified", {"email_verified": False})


class DisposableEmail(Detector):
    name = "disposable_email"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        domain = email_domain(vote.email)
        if not domain or not is_disposable(domain):
            return None
        return self.reason(
            settings, f"email domain {domain} is a disposable-mail service", {"domain": domain}
        )


# (stem, domain) -> [(number, voter_id, created_at timestamp)]
NumberedAccounts = dict[tuple[str, str], list[tuple[int, int, float]]]


def _numbered_accounts(index: ContestIndex) -> NumberedAccounts:
    """Numbered accounts in the index whose stem and domain also occur in the batch."""
    wanted = {key for key in stem_keys([vote.email for vote in index.batch]) if key is not None}
    if not wanted:
        return {}
    events = index.events
    # C-level passes (map over the cached parser, compress on set membership); Python only touches
    # the few votes whose stem is in the batch.
    keys = stem_keys([event.email for event in events])
    members: defaultdict[tuple[str, str], dict[int, tuple[int, int, float]]] = defaultdict(dict)
    for position in compress(range(len(keys)), map(wanted.__contains__, keys)):
        event = events[position]
        parsed = cast(tuple[str, str, int], numbered_stem(event.email))
        members[parsed[:2]][event.voter_id] = (
            parsed[2],
            event.voter_id,
            event.account_created_at.timestamp(),
        )
    return {key: sorted(accounts.values()) for key, accounts in members.items()}


class SequentialEmail(Detector):
    """Accounts whose emails form a numbered run (anna.k001, anna.k002, ...) created close together."""

    name = "sequential_email"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        parsed = numbered_stem(vote.email)
        if parsed is None:
            return None
        stem, domain, number = parsed
        span_hours = settings.option("creation_span_hours")
        members = index.memo(self.name, lambda: _numbered_accounts(index)).get((stem, domain), [])
        if len(members) < settings.threshold:
            return None
        created = vote.account_created_at.timestamp()
        span = span_hours * 3600
        numbers = sorted({member[0] for member in members if abs(member[2] - created) <= span})
        max_gap = settings.option("max_gap")
        # The run of numbers (consecutive gaps <= max_gap) that contains this account's number.
        run_start = run_end = numbers.index(number) if number in numbers else -1
        if run_start < 0:
            return None
        while run_start > 0 and numbers[run_start] - numbers[run_start - 1] <= max_gap:
            run_start -= 1
        while run_end < len(numbers) - 1 and numbers[run_end + 1] - numbers[run_end] <= max_gap:
            run_end += 1
        run_length = run_end - run_start + 1
        if run_length < settings.threshold:
            return None
        return self.reason(
            settings,
            f"{run_length} accounts {stem}{numbers[run_start]}..{stem}{numbers[run_end]}@{domain} "
            f"created within {settings.option('creation_span_hours'):g} h of each other voted",
            {
                "stem": stem,
                "domain": domain,
                "run_length": run_length,
                "first": numbers[run_start],
                "last": numbers[run_end],
            },
        )
