"""Narayanan and Shmatikov's measure: knowledge that fits the target's record alone.

How often the auxiliary information matches the target's record and no other (issue
17, item 5).

Their headline figures ("99% of records can be uniquely identified with 8 ratings, 2 of
them wrong, and dates within 14 days; 68% with 2 ratings and dates within 3 days") count
the records CONSISTENT with what the adversary knows: a record matches when at least
``known - wrong`` of the known items are in it with the rating and date within the
tolerances. A target is uniquely identified when its own record is the only match.
That is a property of the data, not the output of a scoring attack: Scoreboard-RH's
claim rule (eccentricity >= phi) is stricter, so its figures are lower.

This script draws targets and knowledge exactly as the linkage audit does
(:func:`audits.linkage.draw_auxiliary`), counts the consistent records, and runs both
scorers of the portfolio on the same targets for comparison::

    python bench/ns_uniqueness.py /tmp/bench/netflix-1/ratings.parquet [targets]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from audits._index import IndexedTable
from audits.centered import attack_centered
from audits.linkage import draw_auxiliary, eligible_items, eligible_users
from audits.scoreboard import attack
from audits.stats import wilson_interval
from publisher.core import Adversary
from publisher.core.adversary import DEFAULT_PHI
from publisher.core.ratings import Scale
from publisher.readers import read_ratings

#: The two adversaries whose published figures issue 17 quotes.
ADVERSARIES = (
    Adversary(known_items=8, wrong_items=2, rating_tolerance=1, date_tolerance_days=14),
    Adversary(known_items=2, rating_tolerance=0, date_tolerance_days=3),
)


def unique_share(table: IndexedTable, adversary: Adversary, n_targets: int, seed: int) -> tuple:
    """Share of targets whose own record is the only one consistent with their knowledge.

    Returns the share, its Wilson interval, the number of targets, and the scorers'
    outcomes on the same targets (name -> AttackOutcome).
    """
    rng = np.random.default_rng(seed)
    eligible = eligible_items(table, adversary)
    users = eligible_users(table, adversary, eligible)
    targets = np.sort(rng.choice(users, size=min(n_targets, len(users)), replace=False))
    aux = draw_auxiliary(table, adversary, targets, eligible, rng)
    truth = table.records.of_code[targets]
    index = table.by_item
    step = table.ratings.scale.step
    rating_tol = adversary.rating_tolerance / step + 1e-9  # in scale positions
    day_tol = adversary.date_tolerance_days
    need = adversary.known_items - adversary.wrong_items
    hits = np.zeros(table.records.n, np.int32)
    unique = 0
    for t in range(len(targets)):
        touched = []
        for j in range(aux.length[t]):
            item = aux.items[t, j]
            lo, hi = index.ptr[item], index.ptr[item + 1]
            ok = np.abs(index.rating[lo:hi].astype(np.int64) - aux.rating[t, j]) <= rating_tol
            if day_tol is not None:
                ok &= np.abs(index.day[lo:hi].astype(np.int64) - aux.day[t, j]) <= day_tol
            records = index.other[lo:hi][ok]
            hits[records] += 1
            touched.append(records)
        matching = [r for r in np.unique(np.concatenate(touched)) if hits[r] >= need]
        unique += matching == [truth[t]]
        for records in touched:
            hits[records] = 0
    low, high = wilson_interval(unique, len(targets))
    scorers = {
        "Scoreboard-RH": attack(table, aux, truth, DEFAULT_PHI),
        "centred": attack_centered(table, aux, truth, DEFAULT_PHI),
    }
    return unique / len(targets), low, high, len(targets), scorers


def main(path: str, n_targets: int = 1000) -> None:
    started = time.perf_counter()
    table = IndexedTable(read_ratings(path, scale=Scale(1, 5, 1)))
    print(f"{path}: {table.records.n:,} records, read and indexed in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    for adversary in ADVERSARIES:
        share, low, high, n, scorers = unique_share(table, adversary, n_targets, seed=3)
        print(f"{adversary.describe()}: uniquely identified {100 * share:.1f}% "
              f"[{100 * low:.1f}, {100 * high:.1f}] of {n} targets")  # fmt: skip
        for name, outcome in scorers.items():
            risk = outcome.risk()
            print(f"  {name} claims {100 * risk.value:.1f}% [{100 * risk.ci[0]:.1f}, "
                  f"{100 * risk.ci[1]:.1f}], best match right "
                  f"{100 * outcome.correct.mean():.1f}%")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
