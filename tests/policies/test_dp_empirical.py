"""Empirical differential-privacy checks: the mechanisms' output ratios against e^epsilon.

Seeded, with tolerances stated from the sampling error; together under 10 s.
"""

import math

import numpy as np
import pytest

from policies import parse_policy
from policies.aggregates import compute_aggregates
from policies.noise import randomized_response
from publisher.core import Ratings, Scale


@pytest.mark.parametrize(("k", "epsilon"), [(5, 1.0), (10, 0.5), (2, 2.0)])
def test_randomized_response_worst_output_ratio_is_e_to_the_epsilon(k, epsilon):
    """For neighbouring inputs 0 and 1, max over outputs of P(out | 0) / P(out | 1).

    4M draws per input: the ratio's relative standard error is at most 0.15%, so a 0.6%
    tolerance is 4 standard errors; randomized response at epsilon x 1.02 (a 2% larger
    ratio) fails it.
    """
    n = 4_000_000
    rng = np.random.default_rng(2026)
    out0 = randomized_response(np.zeros(n, np.int8), k, epsilon, rng)
    out1 = randomized_response(np.ones(n, np.int8), k, epsilon, rng)
    p0 = np.bincount(out0, minlength=k) / n
    p1 = np.bincount(out1, minlength=k) / n
    worst = max(np.max(p0 / p1), np.max(p1 / p0))
    assert worst == pytest.approx(math.exp(epsilon), rel=0.006)


def counts_table(count: int, n_items: int, per_user: int) -> Ratings:
    """``n_items`` items each rated by ``count`` users, every user rating ``per_user`` items."""
    rows = [
        (f"u{k}-{slot}", item, 3)
        for k in range(count)
        for slot in range(n_items // per_user)
        for item in range(slot * per_user, (slot + 1) * per_user)
    ]
    users, items, values = zip(*rows, strict=True)
    return Ratings.from_columns(list(users), list(items), list(values), scale=Scale(1, 5, 1))


@pytest.mark.slow
def test_item_count_privacy_loss_on_neighbouring_counts():
    """Counts 3 and 5 differ by L = 2 (one customer's contribution at most): the output
    distributions must differ by a factor e^epsilon, not more.

    The geometric mechanism with sensitivity L gives P(o | 3) / P(o | 5) = e^epsilon for
    every o <= 3, so the pooled event {o <= 3} estimates it from 3 x 20,000 items: relative
    standard error about 1%, tolerance 4%. With sensitivity 1 instead of L the ratio would
    be e^(2 epsilon).
    """
    epsilon, bound, n_items = 1.0, 2, 20_000
    config = parse_policy(
        "name: p\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 2, statistics: [item_count],"
        " domain: {items: {range: [0, 19999]}}}"
    ).aggregates
    low, high = counts_table(3, n_items, bound), counts_table(5, n_items, bound)
    below = {"low": 0, "high": 0}
    for run in range(3):
        for name, table in (("low", low), ("high", high)):
            rng = np.random.default_rng([run, name == "high"])
            noisy = compute_aggregates(table, config, rng, seeded=True)["item_count"]["count"]
            below[name] += int((noisy.to_numpy() <= 3).sum())
    assert below["low"] / below["high"] == pytest.approx(math.exp(epsilon), rel=0.04)


def mean_table(n_items: int, per_item: int, high: int) -> Ratings:
    """``per_item`` ratings of each item, each user rating 2 items: all 3 stars except
    ``high`` ratings of 5 per item."""
    rows = []
    for slot in range(per_item):
        value = 5 if slot < high else 3
        for first in range(0, n_items, 2):
            user = f"u{slot}-{first}"
            rows += [(user, first, value), (user, first + 1, value)]
    users, items, values = zip(*rows, strict=True)
    return Ratings.from_columns(list(users), list(items), list(values), scale=Scale(1, 5, 1))


@pytest.mark.slow
def test_item_mean_sum_privacy_loss_is_half_its_epsilon():
    """item_mean spends epsilon / 2 on a Laplace sum with sensitivity L (max - min) / 2.

    Two tables with the same counts whose per-item sums (centred on 3) differ by
    exactly that sensitivity, 2 x 2 = 4 (two ratings of 5 instead of 3, L = 2). The sum is
    recovered from the published mean and noisy count (no clipping at 50 ratings per
    item). For the Laplace tail event {sum > 4}, P(. | high) / P(. | low) = e^(epsilon / 2)
    exactly. 2,000 items x 30 runs: relative standard error about 0.8%, tolerance 3%.
    A sensitivity of (max - min) / 2 without L, or the whole epsilon on the sum, gives
    e^epsilon = 2.72 instead of 1.65.
    """
    epsilon = 1.0
    config = parse_policy(
        "name: p\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 2, statistics: [item_mean],"
        " domain: {items: {range: [0, 1999]}}}"
    ).aggregates
    low, high = mean_table(2000, 50, 0), mean_table(2000, 50, 2)
    above = {"low": 0, "high": 0}
    for run in range(30):
        for name, table in (("low", low), ("high", high)):
            rng = np.random.default_rng([run, name == "high", 7])
            means = compute_aggregates(table, config, rng, seeded=True)["item_mean"]
            sums = (means["mean"].to_numpy() - 3) * means["noisy_count"].to_numpy()
            above[name] += int((sums > 4).sum())
    assert above["high"] / above["low"] == pytest.approx(math.exp(epsilon / 2), rel=0.03)
