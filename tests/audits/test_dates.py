"""Date recovery: the three estimators by hand, and the attack on both jitter designs."""

import numpy as np
import pytest

from audits.dates import ESTIMATORS, _estimate, date_recovery
from policies.noise import uniform_offsets
from policies.steps import JitterDates
from publisher.core.ratings import Ratings, Scale

from tests.conftest import shared


def test_estimators_by_hand():
    seen = np.array([10, 12, 20, 40])
    got = _estimate(np.array([10, 20, 40]), seen, window=10)
    # day 10: window {10, 12, 20}: mean 14, midpoint 15; day 20: {10, 12, 20}: same;
    # day 40: {40} alone
    assert got.tolist() == [[10, 20, 40], [14, 14, 40], [15, 15, 40]]
    assert _estimate(np.array([10]), seen, window=0).tolist() == [[10], [10], [10]]


def dense_estimate(days, seen, window):
    """Every pair compared: the definition, O(n x m) (what the audit did before issue 24)."""
    near = np.abs(days[:, None] - seen[None, :]) <= window
    mean = (near * seen[None, :]).sum(axis=1) / near.sum(axis=1)
    low = np.where(near, seen[None, :], np.iinfo(np.int64).max).min(axis=1)
    high = np.where(near, seen[None, :], -np.iinfo(np.int64).max).max(axis=1)
    return np.stack([days.astype(float), np.rint(mean), np.rint((low + high) / 2)])


@pytest.mark.parametrize("window", [0, 1, 30, 500])
def test_the_sorted_windows_give_the_pairwise_definition(window):
    rng = np.random.default_rng(window)
    seen = rng.integers(10_000, 10_400, size=1300)
    days = rng.choice(seen, size=700)
    assert (_estimate(days, seen, window) == dense_estimate(days, seen, window)).all()


def test_one_heavy_rater_takes_memory_of_the_order_of_its_ratings():
    # Issue 24.13: 512 x n int64 matrices per block, about 2 GiB per temporary for one
    # customer of 500,000 ratings (a MemoryError under a 5 GB limit); now O(n).
    import tracemalloc

    rng = np.random.default_rng(1)
    seen = rng.integers(10_000, 14_000, size=500_000)
    tracemalloc.start()
    _estimate(seen, seen, 60)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100 * 2**20  # measured about 36 MB; the pairwise blocks took 2 GiB


def table(users, items, days):
    n = len(users)
    return Ratings.from_columns(
        np.array(users), np.array(items), np.full(n, 3.0), np.array(days), scale=Scale(1, 5, 1)
    )


def test_recovery_on_a_hand_built_release():
    # two customers, each two ratings on one day; the release moves customer a's day by
    # 5 (both ratings) and customer b's ratings by -4 and +4 (independent per rating)
    original = table(["a", "a", "b", "b"], [1, 2, 1, 2], [100, 100, 200, 200])
    released = table(["a", "a", "b", "b"], [1, 2, 1, 2], [105, 105, 196, 204])
    (result,) = date_recovery(
        original, released, tolerances=[1], window_days=10, n_targets=10,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert result.targets == 2
    assert result.original.recovered == 1.0
    assert result.original.estimator == "as released"
    # as released: a misses by 5, b by 4: nothing; midpoint: b's (196 + 204) / 2 = 200
    # is exact, a's 105 is not: half the targets' dates
    assert result.released.by_estimator == {
        "as released": 0.0,
        "window mean": 0.5,
        "window midpoint": 0.5,
    }
    assert result.released.estimator == "window mean"  # the first of the best
    assert result.released.recovered == 0.5
    low, high = result.released.recovered_ci
    assert 0.0 <= low <= 0.5 <= high <= 1.0


def test_decoys_and_removed_ratings_are_not_targets_of_estimation():
    original = table(["a", "a", "b"], [1, 2, 1], [100, 100, 50])
    # b's rating was removed; a got a decoy (item 3) on a far day
    released = table(["a", "a", "a"], [1, 2, 3], [100, 100, 300])
    (result,) = date_recovery(
        original, released, tolerances=[0], window_days=0, n_targets=10,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert result.targets == 1
    assert result.released.recovered == 1.0


def test_no_dates_or_no_tolerance_gives_no_figure():
    dated = table(["a"], [1], [100])
    undated = dated.with_frame(dated.frame.drop(columns=["date"]))
    rng = np.random.default_rng(0)
    kwargs = {"window_days": 0, "n_targets": 5, "rng": rng}
    assert date_recovery(dated, undated, tolerances=[3], **kwargs) == []
    assert date_recovery(dated, dated, tolerances=[], **kwargs) == []


def test_coarsened_dates_are_estimated_at_the_middle_of_the_period():
    original = table(["a", "b"], [1, 1], [14, 20])
    released = table(["a", "b"], [1, 1], [0, 0])  # both in the month starting on day 0
    (result,) = date_recovery(
        original, released, tolerances=[2], window_days=0, offset_days=15, n_targets=5,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert result.offset_days == 15
    assert result.released.by_estimator["as released"] == 0.5  # 15 is within 2 of 14 only


@pytest.mark.slow
def test_jitter_per_customer_day_holds_against_averaging_on_movielens_100k():
    """The issue's measurement, as a test: MovieLens 100K, jitter of 30 days.

    Independent per-rating jitter: the midpoint recovers one-day customers' dates within a
    day (measured 70.6% of a target's dates on 1,000 targets). One shift per customer and
    day: about the 3/61 = 4.9% of guessing, measured 5.9% [4.6%, 7.4%]. Tolerances: the
    bootstrap intervals above, widened to 5 points.
    """
    from publisher.readers import read_ratings

    ratings = read_ratings(shared("movielens-100k/u.data"))
    frame = ratings.frame
    per_rating = ratings.with_frame(
        frame.assign(
            date=(
                frame["date"].to_numpy() + uniform_offsets(30, len(frame), np.random.default_rng(1))
            ).astype(np.int32)
        )
    )
    per_day = JitterDates(max_days=30).transform(ratings, np.random.default_rng(1))
    results = {}
    for name, release in [("per rating", per_rating), ("per day", per_day)]:
        (results[name],) = date_recovery(
            ratings, release, tolerances=[1], window_days=60, n_targets=1000,
            rng=np.random.default_rng(0),
        )  # fmt: skip
    assert results["per rating"].released.recovered > 0.65
    assert results["per rating"].released.estimator in ESTIMATORS[1:]
    assert results["per day"].released.recovered < 0.049 + 0.05
