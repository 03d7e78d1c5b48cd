"""The second phase: predictions from a model match a dense numpy reference."""

import numpy as np

from audits.recommend import predict
from policies.cleaning import clean
from publisher.core.model import ItemModel
from publisher.core.ratings import Scale


def toy_model(rng, n_items=6, k=2):
    factors = rng.normal(0, 0.4, (n_items, k))
    return ItemModel(
        scale=Scale(1, 5, 1),
        item_ids=np.arange(1, n_items + 1),
        global_average=3.5,
        item_average=rng.uniform(2.5, 4.5, n_items),
        item_count=np.full(n_items, 10.0),
        item_sum=np.zeros(n_items),
        factors=factors,
        variance=np.full(n_items, 0.6),
        uniqueness=rng.uniform(0.3, 0.6, n_items),
        beta_p=2.0,
        clamp=1.0,
    )


def reference(model, items, values, target, chosen=None):
    """E[r_j | r_I] under F F^T + Psi, written out densely, plus the baseline."""
    residual = values - model.item_average[items]
    offset = residual.sum() / (len(items) + model.beta_p)
    centred = np.clip(residual - offset, -model.clamp, model.clamp)
    if chosen is not None:
        items, centred = items[chosen], centred[chosen]
    f = model.factors
    sigma = f[items] @ f[items].T + np.diag(model.uniqueness[items])
    gain = f[target] @ f[items].T @ np.linalg.solve(sigma, centred)
    return np.clip(model.item_average[target] + offset + gain, 1, 5)


def test_svd_predictions_are_the_factor_models_conditional_mean():
    rng = np.random.default_rng(0)
    model = toy_model(rng)
    items, values = np.array([0, 2, 3]), np.array([5.0, 2.0, 4.0])
    known = (np.zeros(3, int), items, values)
    got = predict(model, known, (np.zeros(3, int), np.array([1, 4, 5])))
    expected = [reference(model, items, values, j) for j in (1, 4, 5)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_knn_with_every_item_a_neighbour_is_the_same_predictor():
    rng = np.random.default_rng(1)
    model = toy_model(rng)
    items, values = np.array([0, 1, 5]), np.array([1.0, 4.0, 3.0])
    known = (np.zeros(3, int), items, values)
    pairs = (np.zeros(2, int), np.array([2, 3]))
    np.testing.assert_allclose(
        predict(model, known, pairs, method="knn", neighbours=10), predict(model, known, pairs)
    )


def test_users_without_ratings_and_unknown_items_fall_back_to_averages():
    model = toy_model(np.random.default_rng(2))
    known = (np.array([0]), np.array([0]), np.array([5.0]))
    got = predict(model, known, (np.array([7, 0]), np.array([3, -1])))
    assert got[0] == model.item_average[3]  # no known ratings: the item's average
    offset = (5.0 - model.item_average[0]) / (1 + model.beta_p)
    assert got[1] == np.clip(model.global_average + offset, 1, 5)  # unknown item


def test_cleaning_recovers_a_low_rank_covariance_from_exact_statistics():
    """Post-processing only: clean() takes released matrices and constants, no ratings."""
    rng = np.random.default_rng(3)
    f = rng.normal(0, 0.5, (40, 3))
    weight = np.full((40, 40), 50.0)
    cov = (f @ f.T + np.diag(np.full(40, 0.3))) * weight
    cleaned = clean(
        cov, weight, np.full(40, 50.0), rank=3, beta_diagonal=0, beta_off=0, iterations=20
    )
    off = ~np.eye(40, dtype=bool)
    np.testing.assert_allclose(
        (cleaned.factors @ cleaned.factors.T)[off], (f @ f.T)[off], atol=0.02
    )
    np.testing.assert_allclose(cleaned.uniqueness, 0.3, atol=0.05)
