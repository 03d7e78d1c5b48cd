"""Exact tests of the noise: replay the seeded draws and check every rating, and check
the parameters each DP mechanism is built with (no statistical tolerance)."""

import math
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

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
    # the aggregates import their mechanisms when they run (importing policies stays light)
    monkeypatch.setattr("diffprivlib.mechanisms.Geometric", Recorder)
    monkeypatch.setattr("diffprivlib.mechanisms.Laplace", Recorder)
    config = parse_policy(
        "name: s\ngate: none\naggregates:\n  epsilon: 1.5\n"
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
        # means: the sums are centred on the scale's midpoint and added back
        means = tables["item_mean"]
        assert means["mean"].tolist()[:2] == [2.0, 5.0]  # item 1: (1 + 3) / 2; item 2: 5
        assert np.isnan(means["mean"].iloc[2])  # item 3: no rating, noisy count 0
    assert {name: list(t.columns) for name, t in tables.items()} == {
        "item_count": ["item", "count"],
        "item_mean": ["item", "noisy_count", "mean"],
        "rating_histogram": ["rating", "count"],
    }


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


def test_seeded_aggregates_repeat_exactly_and_draw_full_entropy():
    from policies.aggregates import _state

    config = parse_policy(
        "name: s\ngate: none\naggregates:\n  epsilon: 3\n  max_ratings_per_user: 2\n"
        "  statistics: [item_count, item_mean, item_histogram, rating_histogram, "
        "{ratings_per_period: {period: year}}]\n"
        "  domain: {items: {range: [1, 40]}, dates: {from: 2000-01-01, to: 2003-12-31}}\n"
    ).aggregates
    rng = np.random.default_rng(0)
    n = 400
    table = Ratings.from_columns(
        rng.integers(0, 60, n).astype(str) + "-" + np.arange(n).astype(str),
        rng.integers(1, 41, n),
        rng.integers(1, 6, n),
        rng.integers(10957, 12000, n),
        scale=Scale(1, 5, 1),
    )
    first = compute_aggregates(table, config, np.random.default_rng(7), seeded=True)
    again = compute_aggregates(table, config, np.random.default_rng(7), seeded=True)
    assert list(first) == list(again)
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name])
    # diffprivlib's generator is seeded with four full 63-bit draws: a 2^252 state space
    ours, replay = np.random.default_rng(3), np.random.default_rng(3)
    state = _state(ours, True).get_state()[1]
    entropy = replay.integers(0, 2**63, size=4, dtype=np.uint64).tolist()
    expected = np.random.RandomState(np.random.MT19937(np.random.SeedSequence(entropy)))
    np.testing.assert_array_equal(state, expected.get_state()[1])
    assert _state(np.random.default_rng(3), False) is None  # unseeded: its secure generator


def test_a_period_table_on_dateless_data_is_skipped_and_the_rest_computed(caplog):
    config = parse_policy(
        "name: s\ngate: none\naggregates:\n  epsilon: 1\n  max_ratings_per_user: 2\n"
        "  statistics: [ratings_per_period, item_count]\n"
        "  domain: {items: {range: [1, 2]}, dates: {from: 2000-01-01, to: 2000-12-31}}\n"
    ).aggregates
    table = Ratings.from_columns(["a", "b"], [1, 2], [3, 4], scale=Scale(1, 5, 1))
    with caplog.at_level("WARNING"):
        tables = compute_aggregates(table, config, np.random.default_rng(0), seeded=True)
    assert list(tables) == ["item_count"]
    assert [r.getMessage() for r in caplog.records] == [
        "ratings_per_period: the data has no dates; statistic skipped"
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"name": "item_sum", "epsilon": 1},
            "The 'name' parameter of Statistic must be one of "
            "item_count, item_mean, item_histogram, rating_histogram, ratings_per_period. Got "
            "'item_sum' instead.",
        ),
        (
            {"name": "item_count", "epsilon": 0},
            "The 'epsilon' parameter of Statistic must be a number >= 0.0001. Got 0 instead.",
        ),
        (
            {"name": "item_count", "epsilon": 1, "period": "hour"},
            "The 'period' parameter of "
            "Statistic must be one of day, week, month, quarter, year. Got 'hour' instead.",
        ),
    ],
)
def test_a_statistic_names_what_it_refuses(kwargs, message):
    from policies.aggregates import Statistic
    from publisher.core.validation import ParameterError

    with pytest.raises(ParameterError) as caught:
        Statistic(**kwargs)
    assert str(caught.value) == message


def test_randomized_response_keeps_the_dtype_and_shape_of_narrow_codes():
    from policies.noise import randomized_response

    codes = np.arange(10, dtype=np.int8).reshape(2, 5) % 5
    out = randomized_response(codes, 5, 0.1, np.random.default_rng(0))
    assert out.dtype == np.int8
    assert out.shape == (2, 5)
    assert ((out >= 0) & (out < 5)).all()
    assert (out != codes).any()  # at epsilon 0.1 most codes move
