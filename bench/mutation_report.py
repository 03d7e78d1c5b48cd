"""Mutation score per module from a mutmut 3 run (mutants/), and the surviving mutants.

Reads the ``.meta`` files mutmut writes beside each mutated module. A mutant counts as
killed when a test failed (exit 1 or 3) or it timed out; as surviving when every test
passed (0) or no test ran it (33). Mutants listed in ``bench/equivalent_mutants.txt``
(``name: why it is equivalent``) are left out of the score and listed apart.

    python bench/mutation_report.py [--survivors]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {1, 3, 36, 24, -24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


def equivalent() -> dict[str, str]:
    path = ROOT / "bench" / "equivalent_mutants.txt"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(":")
            out[name.strip()] = why.strip()
    return out


def results() -> dict[str, dict[str, int | None]]:
    """Exit code per mutant, by module path."""
    by_module: dict[str, dict[str, int | None]] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        module = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
        data = json.loads(meta.read_text(encoding="utf-8"))
        by_module[module] = data.get("exit_code_by_key", {})
    return by_module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="list every survivor")
    args = parser.parse_args()
    same = equivalent()
    table = []
    survivors: dict[str, list[str]] = defaultdict(list)
    totals = defaultdict(int)
    for module, codes in results().items():
        counts = defaultdict(int)
        for name, code in codes.items():
            if name in same:
                counts["equivalent"] += 1
            elif code in KILLED:
                counts["killed"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
                survivors[module].append(name)
            elif code in NO_TESTS:
                counts["no tests"] += 1
                survivors[module].append(name)
            elif code is None:
                counts["not run"] += 1
            else:
                counts["other"] += 1
        for key, value in counts.items():
            totals[key] += value
        table.append((module, counts))
    print(f"{'module':<40} {'score':>6} {'killed':>7} {'survived':>9} {'no tests':>9} "
          f"{'equiv':>6} {'not run':>8}")  # fmt: skip
    for module, counts in [*table, ("TOTAL", totals)]:
        judged = counts["killed"] + counts["survived"] + counts["no tests"]
        score = f"{100 * counts['killed'] / judged:.1f}%" if judged else "-"
        print(
            f"{module:<40} {score:>6} {counts['killed']:>7} {counts['survived']:>9} "
            f"{counts['no tests']:>9} {counts['equivalent']:>6} {counts['not run']:>8}"
        )
    if args.survivors:
        for module, names in survivors.items():
            print(f"\n{module}")
            for name in names:
                print(f"  {name}")


if __name__ == "__main__":
    main()
