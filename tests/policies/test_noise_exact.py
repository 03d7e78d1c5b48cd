"""Exact tests of the noise: replay the seeded draws and check every rating, and check
the parameters each DP mechanism is built with (no statistical tolerance)."""

import math
from typing import ClassVar

import numpy as np
import pytest

from policies import aggregates as aggregates_module
from policies import parse_policy
from policies.aggregates import compute_aggregates
from policies.noise import keep_probability, randomized_response
from policies.steps import PerturbRatings
from publisher.core.ratings import Ratings, Scale


def replayed(values, k, epsilon, seed):
    """Randomized response written out from its definition, on the same draws."""
    rng = np.random.default_rng(seed)
    keep = math.exp(epsilon) / (math.exp(epsilon) + k - 1)  # not keep_probability()
    uniforms = rng.random(len(values))
    shifts = rng.integers(1, k, size=len(values))
    return np.where(uniforms >= keep, (values + shifts) % k, values), uniforms < keep


@pytest.mark.parametrize(("k", "epsilon"), [(2, 0.5), (5, 1.0), (10, 2.0), (5, 8.0)])
def test_randomized_response_keeps_exactly_the_replayed_ratings(k, epsilon):
    values = np.random.default_rng(1).integers(0, k, size=5000)
    expected, kept = replayed(values, k, epsilon, seed=42)
    out = randomized_response(values, k, epsilon, np.random.default_rng(42))
    np.testing.assert_array_equal(out, expected)
    # a replaced value is never the true one, a kept value always is
    assert (out[kept] == values[kept]).all()
    assert (out[~kept] != values[~kept]).all()


def test_keep_probability_is_the_formula():
    for k in (2, 5, 10):
        for epsilon in (0.1, 1.0, 3.0, 50.0):
            assert keep_probability(epsilon, k) == pytest.approx(
                math.exp(epsilon) / (math.exp(epsilon) + k - 1), rel=1e-12
            )


def test_the_step_applies_randomized_response_to_scale_positions():
    """On half stars (k = 10) the step maps each rating to its position, applies RR with
    the step's epsilon to the positions, and maps back: replayed rating by rating."""
    scale = Scale(0.5, 5.0, 0.5)
    rng = np.random.default_rng(3)
    n = 3000
    table = Ratings.from_columns(
        np.arange(n), np.zeros(n, int), rng.integers(1, 11, size=n) / 2, scale=scale
    )
    out = PerturbRatings(epsilon=1.5).transform(table, np.random.default_rng(9))
    positions = scale.to_index(table.frame["rating"].to_numpy()).astype(np.int64)
    expected, _ = replayed(positions, scale.k, 1.5, seed=9)
    np.testing.assert_array_equal(scale.to_index(out.frame["rating"].to_numpy()), expected)


class Recorder:
    """Stands in for a diffprivlib mechanism: records how it was built, adds no noise."""

    built: ClassVar[list[dict]] = []

    def __init__(self, **kwargs):
        Recorder.built.append({k: kwargs[k] for k in ("epsilon", "sensitivity")})

    def randomise(self, value):
        return value


@pytest.mark.parametrize(("bound", "scale"), [(1, Scale(1, 5, 1)), (3, Scale(0.5, 5, 0.5))])
def test_mechanisms_get_the_stated_sensitivity_and_epsilon(monkeypatch, bound, scale):
    Recorder.built = []
    monkeypatch.setattr(aggregates_module, "Geometric", Recorder)
    monkeypatch.setattr(aggregates_module, "Laplace", Recorder)
    config = parse_policy(
        "name: s\naggregates:\n  epsilon: 1.5\n"
        f"  max_ratings_per_user: {bound}\n"
        "  statistics: [{item_count: {epsilon: 0.5}}, {item_mean: {epsilon: 0.6}}, "
        "{rating_histogram: {epsilon: 0.4}}]\n"
        f"  domain: {{items: {{range: [1, 3]}}, scale: '{scale}'}}\n"
    ).aggregates
    table = Ratings.from_columns(["a", "a", "b"], [1, 2, 1], [1, 5, 3], scale=scale)
    tables = compute_aggregates(table, config, np.random.default_rng(0), seeded=True)
    half_range = (scale.maximum - scale.minimum) / 2
    assert Recorder.built == [
        {"epsilon": 0.5, "sensitivity": bound},  # item_count
        {"epsilon": 0.3, "sensitivity": bound},  # item_mean's count: half its epsilon
        {"epsilon": 0.3, "sensitivity": bound * half_range},  # item_mean's sum
        {"epsilon": 0.4, "sensitivity": bound},  # rating_histogram
    ]
    # without noise the tables are the exact counts of the (bounded) ratings
    if bound == 3:
        assert tables["item_count"]["count"].tolist() == [2, 1, 0]
        assert tables["rating_histogram"]["count"].sum() == 3


@pytest.mark.parametrize(("max_abs", "nonzero"), [(1, False), (1, True), (3, False), (3, True)])
def test_uniform_offsets_cover_the_range_uniformly(max_abs, nonzero):
    from scipy.stats import chisquare

    from policies.noise import uniform_offsets

    out = uniform_offsets(max_abs, 60_000, np.random.default_rng(2), nonzero=nonzero)
    assert out.dtype == np.int32  # added to int32 day columns of 100M rows
    support = [v for v in range(-max_abs, max_abs + 1) if v or not nonzero]
    values, counts = np.unique(out, return_counts=True)
    assert values.tolist() == support
    assert chisquare(counts).pvalue > 0.001  # uniform over the support


def test_uniform_offsets_of_zero_days_are_zero():
    from policies.noise import uniform_offsets

    out = uniform_offsets(0, 5, np.random.default_rng(0))
    assert out.tolist() == [0] * 5
    assert out.dtype == np.int32


def test_perturb_ratings_states_its_guarantee():
    guarantee = PerturbRatings(epsilon=1.5).guarantee(
        Scale(0.5, 5, 0.5), "steps[3].perturb_ratings"
    )
    assert guarantee.component == "steps[3].perturb_ratings"
    assert guarantee.mechanism == "10-ary randomized response"
    assert guarantee.epsilon == 1.5
    assert guarantee.scope == "each rating value, locally"
    assert guarantee.covers == (
        "each released rating value is 1.5-locally differentially private; which items a "
        "customer rated, when and how many are not covered"
    )
    assert guarantee.details == {"keep_probability": math.exp(1.5) / (math.exp(1.5) + 9)}
