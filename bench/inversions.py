"""Is any release more re-identifiable than its original? Every preset, real data.

Issue 17: every policy step is a randomized function of the original, so an optimal
attacker does at least as well on the original as on the release. This runs every
preset (gate off) on MovieLens 100K and on the demo data and prints, per adversary,
the worst case over the scorer portfolio on both sides, and whether the release's
lower bound is above the unprotected upper bound (an inversion)::

    python bench/inversions.py [--seed 3] [--targets 1000]

MovieLens 100K is read from ../shared/data (licensed; skipped where absent).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from policies import Gate, load_policy
from publisher.demo import demo_data
from publisher.engine import evaluate

PRESETS = ("none", "netflix-2006", "balanced", "strict")


def percent(figures: dict) -> str:
    low, high = figures["reidentified_ci"]
    return f"{100 * figures['reidentified']:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--targets", type=int, default=1000)
    args = parser.parse_args()
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    inputs = {"demo (MovieLens latest small)": demo_data()}
    if (shared / "movielens-100k" / "u.data").exists():
        inputs["MovieLens 100K"] = shared / "movielens-100k" / "u.data"
    inversions = 0
    for label, path in inputs.items():
        print(f"\n## {label}\n")
        print("| preset | adversary | worst unprotected (scorer, table) | worst released (scorer) "
              "| inversion |")  # fmt: skip
        print("|---|---|---|---|---|")
        for name in PRESETS:
            policy = load_policy(name)
            audits = dataclasses.replace(policy.audits, targets=args.targets)
            policy = dataclasses.replace(policy, gate=Gate(), audits=audits)
            started = time.perf_counter()
            result = evaluate(path, policy, seed=args.seed)
            for entry in result.report["linkage"]:
                original, released = entry["original"], entry["released"]
                inverted = released["reidentified_ci"][0] > original["reidentified_ci"][1]
                inversions += inverted
                print(
                    f"| {name} | {entry['description']} | {percent(original)} "
                    f"({original['scorer']}, {original['attacked']}) | {percent(released)} "
                    f"({released['scorer']}) | {'YES' if inverted else 'no'} |"
                )
            print(f"<!-- {name}: {time.perf_counter() - started:.0f} s -->")
    print(f"\ninversions beyond the intervals: {inversions}")


if __name__ == "__main__":
    main()
