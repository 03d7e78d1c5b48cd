import math

import numpy as np
import pytest

from audits._index import IndexedTable
from audits._kernels import exp_nonpositive
from audits.linkage import (
    AuxiliaryInformation,
    draw_auxiliary,
    eligible_items,
    eligible_users,
)
from audits.scoreboard import attack
from publisher.core import Adversary
from publisher.core.ratings import Ratings, Scale

from tests.audits.test_linkage import ROWS, aux_for_a


def test_exp_nonpositive_matches_numpy():
    x = -np.linspace(0.0, 40.0, 200_001)
    approx = np.array([exp_nonpositive(v) for v in x[::97]])
    exact = np.exp(x[::97])
    assert np.max(np.abs(approx / exact - 1)) < 5e-11  # the documented bound
    assert exp_nonpositive(0.0) == pytest.approx(1.0, rel=1e-15)
    assert exp_nonpositive(-1000.0) == pytest.approx(math.exp(-40.0), rel=5e-11)  # clamped


@pytest.mark.parametrize("use_dates", [True, False])
def test_dense_and_sparse_scoring_agree_on_the_hand_computed_case(use_dates):
    users, items, ratings, days = zip(*ROWS, strict=True)
    five = IndexedTable(Ratings.from_columns(users, items, ratings, days, scale=Scale(1, 5, 1)))
    dense = attack(five, aux_for_a(use_dates), np.array([0]), 1.5, dense_share=0.0)
    sparse = attack(five, aux_for_a(use_dates), np.array([0]), 1.5, dense_share=math.inf)
    for name in ("correct", "eccentricity", "top1_credit", "true_probability", "entropy_bits"):
        np.testing.assert_allclose(getattr(dense, name), getattr(sparse, name), rtol=1e-9)


def _attack_both_ways(table, adversary, n_targets, seed):
    rng = np.random.default_rng(seed)
    eligible = eligible_items(table, adversary)
    targets = np.sort(rng.choice(eligible_users(table, adversary, eligible), n_targets, False))
    aux = draw_auxiliary(table, adversary, targets, eligible, rng)
    true = table.records.of_code[targets]
    return (
        attack(table, aux, true, 1.5, dense_share=0.0),
        attack(table, aux, true, 1.5, dense_share=math.inf),
    )


@pytest.mark.parametrize(
    "adversary",
    [
        Adversary(known_items=8, wrong_items=2, rating_tolerance=1, date_tolerance_days=14),
        Adversary(known_items=2),  # no dates: many exact ties
    ],
)
def test_dense_and_sparse_scoring_agree_on_real_data(ml100k, adversary):
    dense, sparse = _attack_both_ways(IndexedTable(ml100k), adversary, 300, seed=3)
    # the best record and its ties come from identical float32 sums: exactly equal
    np.testing.assert_array_equal(dense.correct, sparse.correct)
    np.testing.assert_array_equal(dense.top1_credit, sparse.top1_credit)
    # sums over records are taken in another order: equal to float rounding
    np.testing.assert_allclose(dense.eccentricity, sparse.eccentricity, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dense.true_probability, sparse.true_probability, rtol=1e-8)
    np.testing.assert_allclose(dense.entropy_bits, sparse.entropy_bits, rtol=1e-8)


def test_a_target_sharing_no_item_with_anyone_ties_with_everyone():
    # item 2 exists (say a suppressed item) but nobody in this table rated it
    table = IndexedTable(
        Ratings.from_codes([0, 1, 2], ["a", "b", "c"], [0, 1, 1], [10, 11, 12], [5, 4, 3])
    )
    aux = AuxiliaryInformation(
        targets=np.array([1]),
        items=np.array([[2]], np.int32),
        rating=np.array([[4]]),
        day=np.array([[0]]),
        length=np.array([1]),
        use_dates=False,
    )
    for share in (0.0, math.inf):
        outcome = attack(table, aux, np.array([1]), 1.5, dense_share=share)
        assert outcome.eccentricity.tolist() == [0.0]
        assert outcome.top1_credit.tolist() == [0.0]
        assert outcome.true_probability[0] == pytest.approx(1 / 3)
        assert outcome.entropy_bits[0] == pytest.approx(math.log2(3))
