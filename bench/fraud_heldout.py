"""Held-out evaluation: attack families scored on seeds and parameters never used for tuning.

    .venv/bin/python -m bench.fraud_heldout [--quick] [--only FAMILY]

The honest contest holds the look-alike groups (viral link, returning fans, families, classrooms, carrier
NAT, privacy relay, a carrier's IPv6 pool). Each family of bench/fraud_families.py is injected at 1%, 5%
and 20% of the votes, with its tuning parameters on the tuning seed, then with each held-out parameter
set on each held-out seed. Scoring is the real code, as in bench/fraud_synthetic.py (30-minute
micro-batches against the last 24 h, then the group scan over the whole contest). Prints, per family and
rate, F1 on the tuning set and the mean and lowest F1 over the held-out grid, the honest false-positive
rate, whether the honest top 10 is restored, and each honest group's false-positive rate.
"""

from __future__ import annotations

import argparse
import random
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass

from bench.fraud_common import CONTEST_ID, ELIGIBLE, LabelledVote
from bench.fraud_families import FAMILIES, HELD_OUT, TUNING, Params
from bench.fraud_history import with_account_history
from bench.fraud_honest import HonestContest, Prior, generate_honest
from bench.fraud_metrics import confusion, ranking
from bench.fraud_synthetic import number_votes, score_in_micro_batches
from fraud import ContestContext, FraudConfig, edges_from_events, find_coordinated_groups

TUNING_SEEDS = (101,)
HELD_OUT_SEEDS = (202, 303)


@dataclass(frozen=True, slots=True)
class Outcome:
    f1: float
    recall: float
    honest_fpr: float
    top10_exact: bool
    group_flagged: Counter[str]  # honest group -> votes flagged
    group_total: Counter[str]
    votes_per_second: float


def evaluate(
    honest: HonestContest, injected: list[LabelledVote], prior: dict[int, Prior], config: FraudConfig
) -> Outcome:
    votes = number_votes(with_account_history(list(honest.votes) + injected, {**honest.prior, **prior}))
    events = [vote.event for vote in votes]
    context = ContestContext(contest_id=CONTEST_ID, eligible_countries=ELIGIBLE)
    flagged, seconds, scored, _ = score_in_micro_batches(events, context, config)
    scan = find_coordinated_groups(edges_from_events(events, held_votes=flagged), config)
    for group in scan.groups:
        flagged.update(group.vote_ids)
    labels = {vote.event.vote_id: vote.attack for vote in votes}
    matrix = confusion(labels, flagged)
    honest_counts = Counter(v.event.song_id for v in votes if not v.attack)
    kept = Counter(v.event.song_id for v in votes if v.event.vote_id not in flagged)
    group_total = Counter(v.scenario for v in votes if not v.attack)
    group_flagged = Counter(v.scenario for v in votes if not v.attack and v.event.vote_id in flagged)
    return Outcome(
        f1=matrix.f1 if injected else 1.0,
        recall=matrix.recall,
        honest_fpr=matrix.honest_fpr,
        top10_exact=ranking(honest_counts, honest.songs)[:10] == ranking(kept, honest.songs)[:10],
        group_flagged=group_flagged,
        group_total=group_total,
        votes_per_second=scored / seconds if seconds else 0.0,
    )


def inject(
    family: str, rate: float, honest: HonestContest, seed: int, params: Params
) -> tuple[list[LabelledVote], dict[int, Prior]]:
    count = round(rate / (1 - rate) * len(honest.votes))
    rng = random.Random(
        seed * 1000 + zlib.crc32(f"{family}{sorted(params.items())}".encode()) + int(rate * 100)
    )
    return FAMILIES[family](rng, honest, count, params)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller contest, one held-out seed")
    parser.add_argument("--only", action="append", choices=sorted(FAMILIES))
    parser.add_argument("--tuning-only", action="store_true", help="tuning seed and parameters only")
    args = parser.parse_args()
    config = FraudConfig.default()
    days, per_day = (3, 4000) if args.quick else (3, 8000)
    held_out_seeds = HELD_OUT_SEEDS[:1] if args.quick else HELD_OUT_SEEDS
    started = time.perf_counter()
    contests = {
        seed: generate_honest(random.Random(seed), days, per_day, lookalikes=True)
        for seed in (*TUNING_SEEDS, *held_out_seeds)
    }
    sizes = ", ".join(f"seed {seed}: {len(c.votes):,} honest votes" for seed, c in contests.items())
    print(f"# held-out fraud benchmark{' (quick)' if args.quick else ''}: {days} days, {sizes}\n")
    flagged_by_group: defaultdict[str, int] = defaultdict(int)
    total_by_group: defaultdict[str, int] = defaultdict(int)
    worst_by_group: defaultdict[str, float] = defaultdict(float)

    def account(outcome: Outcome) -> None:
        for group, total in outcome.group_total.items():
            flagged_by_group[group] += outcome.group_flagged[group]
            total_by_group[group] += total
            worst_by_group[group] = max(worst_by_group[group], outcome.group_flagged[group] / total)

    for contest in contests.values():
        account(evaluate(contest, [], {}, config))
    print(
        "| family | rate | tuning F1 | held-out F1 mean | held-out F1 min | held-out recall min "
        "| honest FPR max | top-10 restored | scoring votes/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for family in args.only or list(FAMILIES):
        for rate in (0.01, 0.05, 0.20):
            tuned = [
                evaluate(contests[s], *inject(family, rate, contests[s], s, TUNING[family]), config)
                for s in TUNING_SEEDS
            ]
            held: list[Outcome] = []
            if not args.tuning_only:
                for params in [TUNING[family], *HELD_OUT[family]]:
                    for seed in held_out_seeds:
                        held.append(
                            evaluate(
                                contests[seed], *inject(family, rate, contests[seed], seed, params), config
                            )
                        )
            for outcome in (*tuned, *held):
                account(outcome)
            everything = [*tuned, *held]
            held_f1 = [o.f1 for o in held] or [float("nan")]
            tuned_f1 = min(o.f1 for o in tuned)
            print(
                f"| {family} | {rate:.0%} | {tuned_f1:.3f} | {sum(held_f1) / len(held_f1):.3f} "
                f"| {min(held_f1):.3f} | {min((o.recall for o in held), default=float('nan')):.3f} "
                f"| {max(o.honest_fpr for o in everything):.3%} "
                f"| {sum(o.top10_exact for o in everything)}/{len(everything)} "
                f"| {min(o.votes_per_second for o in everything):,.0f} |",
                flush=True,
            )
    print("\n| honest group | votes (all runs) | flagged | FPR | worst run |")
    print("|---|---|---|---|---|")
    for group in sorted(total_by_group):
        total, hit = total_by_group[group], flagged_by_group[group]
        print(f"| {group} | {total:,} | {hit:,} | {hit / total:.3%} | {worst_by_group[group]:.3%} |")
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
