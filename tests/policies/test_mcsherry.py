"""The model's noise: its distributions, and the privacy loss it allows on neighbours."""

import numpy as np
from scipy import stats

from policies.mcsherry import Noise, gaussian_sigma, item_terms
from policies.model import ModelConfig
from publisher.core.ratings import Scale

SCALE = Scale(1, 5, 1)
CONFIG = ModelConfig.from_config(
    {"kind": "mcsherry-mironov", "epsilon": 1, "domain": {"items": {"range": [1, 3]}}},
    "model",
)


def test_laplace_noise_has_diffprivlibs_distribution():
    """KS test at the 0.1% level (seeded): numpy's draws against diffprivlib's Laplace."""
    from diffprivlib.mechanisms import Laplace

    ours = Noise(np.random.default_rng(0)).laplace(np.zeros(20_000), 2.0, 0.5)
    mechanism = Laplace(epsilon=0.5, sensitivity=2.0, random_state=np.random.RandomState(1))
    theirs = np.array([mechanism.randomise(0.0) for _ in range(20_000)])
    assert stats.ks_2samp(ours, theirs).pvalue > 0.001


def test_gaussian_noise_is_the_analytic_mechanisms():
    sigma = gaussian_sigma(1.0, 0.5, 1e-6)
    draws = Noise(np.random.default_rng(0)).gaussian(np.zeros(50_000), 1.0, 0.5, 1e-6)
    assert abs(draws.std() / sigma - 1) < 0.02  # 50,000 draws: std within 2%
    assert 5 < sigma < 15  # the classical bound at eps 0.5, delta 1e-6 is about 10.6


def test_the_empirical_privacy_loss_of_an_item_count_stays_within_its_epsilon():
    """One customer added moves a noisy per-item count by at most its sensitivity.

    Estimated loss: the largest log ratio of the two output histograms over bins with
    enough mass (200,000 draws each, seeded); tolerance 0.15 for the sampling error.
    """
    users = np.array([0, 0, 1, 2, 2, 2])
    items = np.array([0, 1, 0, 0, 1, 2])
    values = np.array([5.0, 1.0, 3.0, 4.0, 4.0, 2.0])
    plus = (np.r_[users, 3], np.r_[items, 0], np.r_[values, 5.0])
    _, _, _, small = item_terms(users, items, values, 3, SCALE, "customer")
    _, _, _, big = item_terms(*plus, 3, SCALE, "customer")
    sens = CONFIG.sensitivity(SCALE)
    epsilon = CONFIG.phase_epsilon("items") / 2
    assert abs(big[0] - small[0]) <= sens.count
    rng = np.random.default_rng(0)
    a = Noise(rng).laplace(np.full(200_000, small[0]), sens.count, epsilon)
    b = Noise(rng).laplace(np.full(200_000, big[0]), sens.count, epsilon)
    edges = np.linspace(-15, 15, 31)
    pa, _ = np.histogram(a, edges)
    pb, _ = np.histogram(b, edges)
    enough = (pa > 2_000) & (pb > 2_000)
    loss = np.max(np.abs(np.log(pa[enough] / pb[enough])))
    assert loss <= epsilon + 0.15
    assert loss >= epsilon / 3  # the noise is not far larger than it needs to be


def test_the_released_matrices_are_symmetric_with_the_stated_noise_on_every_entry():
    """200 items: 20,100 free entries; their noise's std within 3% of sqrt(2) b (Laplace)."""
    from policies.mcsherry import compute_statistics

    config = ModelConfig.from_config(
        {"kind": "mcsherry-mironov", "epsilon": 1, "domain": {"items": {"range": [1, 200]}}},
        "model",
    )
    users, items, values = np.array([0, 0, 1]), np.array([3, 7, 3]), np.array([5.0, 1.0, 2.0])
    exact = compute_statistics(users, items, values, 200, SCALE, config, None)
    noisy = compute_statistics(
        users, items, values, 200, SCALE, config, Noise(np.random.default_rng(0))
    )
    for name, sensitivity in (("cov", 1.0), ("wgt", 1.0)):
        released, truth = getattr(noisy, name), getattr(exact, name)
        np.testing.assert_array_equal(released, released.T)
        noise = (released - truth)[np.triu_indices(200)]
        expected = np.sqrt(2) * sensitivity / (config.phase_epsilon("covariance") / 2)
        assert abs(noise.std() / expected - 1) < 0.03
    assert noisy.wgt_std == expected
