"""Hand-built linkage results (the gate's, the report's and the simulation's tests), and
random tables with drawn knowledge (the kernels' tests)."""

from __future__ import annotations

import numpy as np

from audits.linkage import (
    Attack,
    KnowledgeStats,
    LinkageResult,
    draw_auxiliary,
    eligible_items,
    eligible_users,
)
from publisher.core.ratings import Ratings, Scale


def linkage_result(adversary, released, original, control=None, baseline=0.001, attacks=()):
    """One adversary: Scoreboard-RH with original knowledge, plus any ``attacks`` given.

    ``attacks`` lists (knowledge, scorer, released, original, simulated) tuples.
    """
    built = [Attack("original", "scoreboard-rh", released, original, None, control)]
    for knowledge, scorer, rel, orig, sim in attacks:
        if (knowledge, scorer) == ("original", "scoreboard-rh"):
            built[0] = Attack(knowledge, scorer, rel, orig, sim, control)
        else:
            built.append(Attack(knowledge, scorer, rel, orig, sim))
    models = dict.fromkeys(a.knowledge for a in built)
    stats = [KnowledgeStats(m, released.n, released.n, 2.0, 0) for m in models]
    return LinkageResult(adversary, built, stats, baseline)


def random_table(seed, n_users=60, n_items=25):
    rng = np.random.default_rng(seed)
    rows = {}
    for u in range(n_users):
        # a few heavy raters among light ones: what the centring is for
        count = int(rng.integers(20, n_items)) if u % 10 == 0 else int(rng.integers(3, 8))
        for i in rng.choice(n_items, size=count, replace=False):
            rows[(u, int(i))] = (int(rng.integers(1, 6)), int(rng.integers(10_000, 10_200)))
    keys = list(rows)
    return Ratings.from_columns(
        [u for u, _ in keys], [i for _, i in keys], [rows[k][0] for k in keys],
        np.array([rows[k][1] for k in keys]), scale=Scale(1, 5, 1),
    )  # fmt: skip


def drawn_knowledge(table, adversary, n_targets, seed):
    """Up to ``n_targets`` eligible targets of ``table`` and their drawn knowledge, as the
    audit draws them (one generator seeded with ``seed``); (aux, true records as int64)."""
    rng = np.random.default_rng(seed)
    eligible = eligible_items(table, adversary)
    users = eligible_users(table, adversary, eligible)
    targets = np.sort(rng.choice(users, size=min(n_targets, len(users)), replace=False))
    aux = draw_auxiliary(table, adversary, targets, eligible, rng)
    return aux, table.records.of_code[targets].astype(np.int64)
