"""Who crowds out the target under Scoreboard-RH on synthetic data (issue 17, item 5).

For the first 12 targets of the 8-items-2-wrong adversary, every record's Scoreboard-RH
score is computed with plain numpy (the formula of audits/scoreboard.py); prints the
target's length, score and rank, and the length and score of the best and second-best
records, the standard deviation over all records and the eccentricity::

    python bench/crowding.py /tmp/bench/netflix-0.1/ratings.parquet
"""

from __future__ import annotations

import sys

import numpy as np

from audits._index import IndexedTable
from audits.linkage import draw_auxiliary, eligible_items, eligible_users
from audits.scoreboard import D0, RHO0
from publisher.core import Adversary
from publisher.core.ratings import Scale
from publisher.readers import read_ratings


def main(path: str, shown: int = 12) -> None:
    table = IndexedTable(read_ratings(path, scale=Scale(1, 5, 1)))
    lengths = table.by_record.support()
    index, weights = table.by_item, table.weights
    adversary = Adversary(known_items=8, wrong_items=2, rating_tolerance=1, date_tolerance_days=14)
    rng = np.random.default_rng(1)
    eligible = eligible_items(table, adversary)
    users = eligible_users(table, adversary, eligible)
    targets = np.sort(rng.choice(users, 30, replace=False))
    aux = draw_auxiliary(table, adversary, targets, eligible, rng)
    truth = table.records.of_code[targets]
    for k in range(shown):
        score = np.zeros(table.records.n)
        for j in range(aux.length[k]):
            item = aux.items[k, j]
            lo, hi = index.ptr[item], index.ptr[item + 1]
            rating_gap = np.abs(index.rating[lo:hi].astype(int) - aux.rating[k, j])
            day_gap = np.minimum(np.abs(index.day[lo:hi].astype(int) - aux.day[k, j]), 4095)
            similarity = np.exp(-rating_gap / RHO0) + np.exp(-day_gap / D0)
            score[index.other[lo:hi]] += weights[item] * similarity
        order = np.argsort(-score)
        target = truth[k]
        rank = int(np.flatnonzero(order == target)[0])
        best, second = order[0], order[1]
        sigma = score.std()
        print(
            f"target: {lengths[target]:5d} ratings, score {score[target]:.2f}, rank {rank:3d} | "
            f"best: {lengths[best]:5d} ratings, {score[best]:.2f} | second: "
            f"{lengths[second]:5d} ratings, {score[second]:.2f} | sigma {sigma:.3f}, "
            f"eccentricity {(score[best] - score[second]) / sigma:.2f}"
        )


if __name__ == "__main__":
    main(sys.argv[1])
