import numpy as np
import pytest

from audits.utility import UtilityAudit, fit_baseline, popularity_spearman, total_variation
from policies import parse_policy
from publisher.core.ratings import Ratings
from publisher.engine import apply_policy


def test_total_variation_by_hand():
    assert total_variation(np.array([2, 2]), np.array([1, 3])) == pytest.approx(0.25)
    assert total_variation(np.array([1, 0]), np.array([0, 1])) == 1.0


def test_baseline_biases_by_hand():
    # ratings 5, 3 (user 0 on items 0, 1) and 4 (user 1 on item 0); mean 4
    model = fit_baseline(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([5.0, 3.0, 4.0]), 2, 2)
    assert model.mean == 4.0
    assert model.item_bias.tolist() == pytest.approx([1 / 27, -1 / 26])
    # user 0 residuals: 5 - 4 - 1/27 and 3 - 4 + 1/26, over 10 + 2
    assert model.user_bias[0] == pytest.approx((1 - 1 / 27 - 1 + 1 / 26) / 12)


def test_spearman_counts_dropped_items_as_zero(tiny):
    dropped = tiny.with_frame(tiny.frame[tiny.frame["item"] != 0].reset_index(drop=True))
    assert popularity_spearman(tiny, tiny) == pytest.approx(1.0)
    assert popularity_spearman(tiny, dropped) < 1.0


def test_none_policy_costs_nothing(ml100k):
    result = UtilityAudit(ml100k, ml100k, rng=np.random.default_rng(0)).evaluate().results()
    assert result.mf_rmse_increase == 0.0
    assert result.baseline_rmse_increase == 0.0
    assert result.rating_histogram_tvd == 0.0
    assert 0.85 < result.original.baseline_rmse < 1.05  # ml-100k biases: about 0.94


def test_heavy_noise_is_clearly_worse(ml100k):
    policy = parse_policy("name: x\nsteps: [{perturb_ratings: {epsilon: 0.1}}]\ngate: none", "p")
    released, _ = apply_policy(ml100k, policy, key=None, seed=np.random.SeedSequence(0))
    result = UtilityAudit(ml100k, released, rng=np.random.default_rng(0)).evaluate().results()
    assert result.mf_rmse_increase > 0.2
    assert result.baseline_rmse_increase > 0.2
    assert result.rating_histogram_tvd > 0.1


def test_validation():
    table = Ratings.from_columns([1], [1], [3])
    with pytest.raises(ValueError, match="holdout_fraction"):
        UtilityAudit(table, table, holdout_fraction=1.0, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="call evaluate"):
        UtilityAudit(table, table, rng=np.random.default_rng(0)).results()


def test_result_to_dict_is_the_report_section(ml100k):
    result = UtilityAudit(ml100k, ml100k, rng=np.random.default_rng(0)).evaluate().results()
    section = result.to_dict()
    assert section["holdout"]["fraction"] == 0.1
    assert section["holdout"]["ratings"] == result.holdout_ratings > 0
    assert section["mf_rmse_increase"] == result.released.mf_rmse - result.original.mf_rmse
    assert section["kept"] == {"ratings": 1.0, "users": 1.0, "items": 1.0}
