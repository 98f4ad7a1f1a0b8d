"""Why votes were (not) flagged: reason-code combinations for honest false positives and missed attacks.

.venv/bin/python -m bench.fraud_explain [--scenario NAME] [--rate 0.05] [--quick]
"""

from __future__ import annotations

import argparse
import random
import zlib
from collections import Counter

from bench.fraud_attacks import SCENARIOS
from bench.fraud_common import CONTEST_ID, ELIGIBLE
from bench.fraud_honest import generate_honest
from bench.fraud_synthetic import BATCH_MINUTES, HISTORY, number_votes
from fraud import ContestContext, FraudConfig, score_batch
from fraud.types import Verdict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=20260501)
    args = parser.parse_args()
    days, per_day = (2, 3500) if args.quick else (3, 25000)
    honest = generate_honest(random.Random(args.seed), days, per_day)
    injected = []
    if args.scenario:
        count = round(args.rate / (1 - args.rate) * len(honest.votes))
        rng = random.Random(args.seed * 1000 + zlib.crc32(args.scenario.encode()) + int(args.rate * 100))
        injected = SCENARIOS[args.scenario](rng, honest, count)
    votes = number_votes(list(honest.votes) + injected)
    events = [vote.event for vote in votes]
    context = ContestContext(contest_id=CONTEST_ID, eligible_countries=ELIGIBLE)
    verdicts: dict[int, Verdict] = {}
    from bisect import bisect_left
    from datetime import timedelta

    times = [event.cast_at for event in events]
    slot = times[0].replace(minute=0, second=0, microsecond=0)
    while slot <= times[-1]:
        end = slot + timedelta(minutes=BATCH_MINUTES)
        low, high = bisect_left(times, slot), bisect_left(times, end)
        if high > low:
            result = score_batch(
                events[low:high],
                events[bisect_left(times, end - HISTORY) : low],
                context,
                FraudConfig.default(),
                now=end,
            )
            verdicts.update(result.by_vote_id())
        slot = end
    false_pos: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for vote in votes:
        verdict = verdicts[vote.event.vote_id]
        combo = " + ".join(f"{r.code}:{r.points:g}" for r in verdict.reasons) or "(none)"
        if verdict.suspicious and not vote.attack:
            false_pos[combo] += 1
            examples.setdefault(combo, " | ".join(r.evidence for r in verdict.reasons))
        elif vote.attack and not verdict.suspicious:
            missed[combo] += 1
    print(f"honest flagged: {sum(false_pos.values())} of {sum(1 for v in votes if not v.attack)}")
    for combo, count in false_pos.most_common(15):
        print(f"  {count:5}  {combo}\n         e.g. {examples[combo][:400]}")
    print(f"attack votes missed: {sum(missed.values())} of {sum(1 for v in votes if v.attack)}")
    for combo, count in missed.most_common(10):
        print(f"  {count:5}  {combo}")


if __name__ == "__main__":
    main()
