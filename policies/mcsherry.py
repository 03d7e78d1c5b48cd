"""The McSherry-Mironov statistics: what a DP recommender release computes and noises.

Three phases, each with its share of the model's epsilon (:class:`ModelConfig`), each
statistic with Laplace noise (or Gaussian, for the covariance phase, when delta > 0)
calibrated to the sensitivity of :meth:`ModelConfig.sensitivity`:

1. **global**: the sum of centred ratings ``r - mid`` (mid: the scale's midpoint) and
   their count; the global average ``G = mid + GSum / GCnt``.
2. **items**: per declared item, the sum of centred ratings and the count; the
   stabilised average ``MAvg_i = mid + (MSum_i + beta_m (G - mid)) / (MCnt_i + beta_m)``
   (the paper's formula in centred coordinates), clipped to the scale.
3. **covariance**: each customer centres their ratings on the released item averages
   and on their own average ``(sum_i (r_ui - MAvg_i)) / (c_u + beta_p)`` (never
   released), clamps them to ``[-B, B]`` and contributes ``w_u r_u r_u^T`` to Cov and
   ``w_u e_u e_u^T`` to Wgt (e_u: which items they rated).

With ``unit: customer`` each customer's ratings weigh ``1/c_u`` in phases 1 and 2, so
that all of a customer's ratings together move a sum by at most alpha/2 and a count by
1; phase 3 uses the weight of :class:`~policies.model.Sensitivity`. Each phase reads
only the previous phases' *released* values, so the phases compose sequentially:
the model is (epsilon, delta)-DP for the unit (delta is spent by the covariance phase).

Rows and columns come from the declared item domain, never from the data. Noise is
drawn with numpy from the release's generator (keyed when seeded, operating-system
entropy otherwise); the distributions are tested against diffprivlib's mechanisms.
Not covered: floating-point attacks on the Laplace sampler (Mironov 2012), and
anything about the held-out ratings beyond their absence from the statistics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from policies.cleaning import clean
from policies.model import ModelConfig, Sensitivity
from policies.steps._base import group_rank
from publisher.core.jit import njit
from publisher.core.model import ItemModel
from publisher.core.ratings import ITEM, RATING, USER, Ratings, Scale

__all__ = [
    "ModelStatistics",
    "Noise",
    "build_model",
    "centred_residuals",
    "compute_statistics",
    "covariance_terms",
    "item_terms",
    "model_ratings",
]

logger = logging.getLogger(__name__)

#: The non-private reference's shrinkage, in units of an item's average weight.
REFERENCE_SHRINK = 0.2


@dataclass(frozen=True)
class Noise:
    """The noise of one release: a generator and the model's calibration."""

    rng: np.random.Generator

    def laplace(self, values: np.ndarray, sensitivity: float, epsilon: float) -> np.ndarray:
        """``values`` plus Laplace(sensitivity / epsilon) noise, entry by entry."""
        return values + self.rng.laplace(0.0, sensitivity / epsilon, size=np.shape(values))

    def gaussian(
        self, values: np.ndarray, sensitivity: float, epsilon: float, delta: float
    ) -> np.ndarray:
        """``values`` plus the analytic Gaussian mechanism's noise (Balle and Wang 2018)."""
        sigma = gaussian_sigma(sensitivity, epsilon, delta)
        return values + self.rng.normal(0.0, sigma, size=np.shape(values))

    def add(
        self, values: np.ndarray, sensitivity: float, epsilon: float, delta: float = 0.0
    ) -> np.ndarray:
        """Gaussian noise when ``delta > 0``, Laplace otherwise (L2 or L1 sensitivity)."""
        if delta > 0:
            return self.gaussian(values, sensitivity, epsilon, delta)
        return self.laplace(values, sensitivity, epsilon)

    def symmetric(
        self, matrix: np.ndarray, sensitivity: float, epsilon: float, delta: float = 0.0
    ) -> np.ndarray:
        """Noise on the upper triangle (diagonal included), mirrored: one draw per free entry.

        The sensitivities bound the change over the whole matrix, which is at least the
        change over its upper triangle: calibrating the triangle's noise to them is safe.
        """
        noise = self.add(np.zeros_like(matrix), sensitivity, epsilon, delta)
        upper = np.triu(noise)
        upper += np.triu(noise, 1).T
        upper += matrix
        return upper


def gaussian_sigma(sensitivity: float, epsilon: float, delta: float) -> float:
    """The analytic Gaussian mechanism's sigma, as diffprivlib calibrates it."""
    from diffprivlib.mechanisms import GaussianAnalytic  # here: importing policies stays light

    return float(GaussianAnalytic(epsilon=epsilon, delta=delta, sensitivity=sensitivity)._scale)


def noise_std(sensitivity: float, epsilon: float, delta: float = 0.0) -> float:
    """The standard deviation of :meth:`Noise.add`'s noise on one entry."""
    if delta > 0:
        return gaussian_sigma(sensitivity, epsilon, delta)
    return float(np.sqrt(2) * sensitivity / epsilon)


@dataclass(frozen=True)
class ModelStatistics:
    """The released statistics (noisy) or their exact values (the non-private reference).

    Attributes
    ----------
    global_sum, global_count : float
        Of centred ratings (``r - mid``), weighted per the unit.
    global_average : float
    item_sum, item_count, item_average : numpy.ndarray
        Per declared item.
    cov, wgt : numpy.ndarray
        Item x item, symmetric.
    wgt_std : float
        Standard deviation of the noise on one Wgt entry (0 for exact statistics).
    """

    scale: Scale
    global_sum: float
    global_count: float
    global_average: float
    item_sum: np.ndarray
    item_count: np.ndarray
    item_average: np.ndarray
    cov: np.ndarray
    wgt: np.ndarray
    wgt_std: float


def model_ratings(
    ratings: Ratings, config: ModelConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ratings the model counts: (user codes, item positions, values).

    Inside the declared domain (items and scale), at most ``max_ratings_per_user`` per
    customer (a uniformly random subset). Sorted by customer.
    """
    frame = ratings.frame
    scale = config.scale(ratings)
    values = frame[RATING].to_numpy(np.float64)
    assert config.domain.items is not None  # checked at load
    items = config.domain.items.positions(ratings.item_ids)[frame[ITEM].to_numpy()]
    keep = scale.on_scale(values) & (items >= 0)
    users = frame[USER].to_numpy()
    if config.max_ratings_per_user is not None:
        keep &= group_rank(users, rng) < config.max_ratings_per_user
    users, items, values = users[keep], items[keep].astype(np.int64), values[keep]
    order = np.lexsort((items, users))
    return users[order].astype(np.int64), items[order], values[order]


def _counts(users: np.ndarray) -> np.ndarray:
    """Each row's customer's number of ratings counted."""
    _, inverse, counts = np.unique(users, return_inverse=True, return_counts=True)
    return counts[inverse].astype(np.float64)


def item_terms(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    n_items: int,
    scale: Scale,
    unit: str,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Exact phase 1 and 2 statistics: (GSum, GCnt, MSum, MCnt), before noise."""
    mid = (scale.minimum + scale.maximum) / 2
    weight = 1.0 / _counts(users) if unit == "customer" else np.ones(len(users))
    centred = (values - mid) * weight
    return (
        float(centred.sum()),
        float(weight.sum()),
        np.bincount(items, weights=centred, minlength=n_items),
        np.bincount(items, weights=weight, minlength=n_items),
    )


def stabilised_averages(
    gsum: float, gcnt: float, msum: np.ndarray, mcnt: np.ndarray, scale: Scale, beta_m: float
) -> tuple[float, np.ndarray]:
    """G and MAvg from (noisy) sums and counts: post-processing, clipped to the scale."""
    mid = (scale.minimum + scale.maximum) / 2
    g = mid + gsum / gcnt if gcnt > 1e-9 else mid
    g = float(np.clip(g, scale.minimum, scale.maximum))
    count = np.maximum(mcnt, 0.0)
    denominator = count + beta_m
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = mid + (msum + beta_m * (g - mid)) / denominator
    avg = np.where(denominator > 1e-9, avg, g)
    return g, np.clip(avg, scale.minimum, scale.maximum)


def centred_residuals(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    item_average: np.ndarray,
    beta_p: float,
    clamp: float,
) -> np.ndarray:
    """Each rating centred on its item's average and its customer's own, clamped to [-B, B].

    The customer's average is ``sum_i (r_ui - MAvg_i) / (c_u + beta_p)`` (shrunk towards
    0); it is computed here and never released.
    """
    residual = values - item_average[items]
    _, inverse, counts = np.unique(users, return_inverse=True, return_counts=True)
    user_mean = np.bincount(inverse, weights=residual) / (counts + beta_p)
    return np.clip(residual - user_mean[inverse], -clamp, clamp)


def covariance_weights(users: np.ndarray, weight: str) -> np.ndarray:
    """Each row's customer's weight ``w_u`` (:attr:`Sensitivity.weight`)."""
    c = _counts(users)
    if weight == "1/c":
        return 1.0 / c
    if weight == "1/c^2":
        return 1.0 / (c * c)
    return 1.0 / np.sqrt(c)


def covariance_terms(
    users: np.ndarray,
    items: np.ndarray,
    residuals: np.ndarray,
    n_items: int,
    weight: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact phase 3 statistics ``Cov = sum_u w_u r_u r_u^T``, ``Wgt = sum_u w_u e_u e_u^T``.

    ``users`` sorted, items ascending within each customer (:func:`model_ratings`).
    """
    w = covariance_weights(users, weight)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if len(users) else np.zeros(0)
    bounds = np.r_[starts, len(users)].astype(np.int64)
    cov = np.zeros((n_items, n_items))
    wgt = np.zeros((n_items, n_items))
    _accumulate(bounds, items.astype(np.int64), residuals.astype(np.float64), w, cov, wgt)
    # the kernel filled the upper triangle: mirror it
    cov += np.triu(cov, 1).T
    wgt += np.triu(wgt, 1).T
    return cov, wgt


@njit
def _accumulate(bounds, items, residuals, w, cov, wgt):  # type: ignore[no-untyped-def]
    for u in range(len(bounds) - 1):
        lo, hi = bounds[u], bounds[u + 1]
        weight = w[lo]
        for a in range(lo, hi):
            ia = items[a]
            va = weight * residuals[a]
            for b in range(a, hi):
                ib = items[b]
                cov[ia, ib] += va * residuals[b]
                wgt[ia, ib] += weight


def compute_statistics(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    n_items: int,
    scale: Scale,
    config: ModelConfig,
    noise: Noise | None,
) -> ModelStatistics:
    """The three phases, noised (``noise``) or exact (``None``: the non-private reference).

    Parameters
    ----------
    users, items, values : numpy.ndarray
        From :func:`model_ratings` (sorted by customer, then item).
    n_items : int
        Size of the declared item domain.
    scale : Scale
    config : ModelConfig
    noise : Noise or None
    """
    sens: Sensitivity = config.sensitivity(scale)
    gsum, gcnt, msum, mcnt = item_terms(users, items, values, n_items, scale, config.unit)
    if noise is not None:
        half = config.phase_epsilon("global") / 2
        gsum = float(noise.laplace(np.array(gsum), sens.sum, half))
        gcnt = float(noise.laplace(np.array(gcnt), sens.count, half))
        half = config.phase_epsilon("items") / 2
        msum = noise.laplace(msum, sens.sum, half)
        mcnt = noise.laplace(mcnt, sens.count, half)
    g, avg = stabilised_averages(gsum, gcnt, msum, mcnt, scale, config.beta_m)
    residuals = centred_residuals(users, items, values, avg, config.beta_p, config.clamp)
    cov, wgt = covariance_terms(users, items, residuals, n_items, sens.weight)
    wgt_std = 0.0
    if noise is not None:
        # the phase's epsilon and delta split evenly between Cov and Wgt (delta 0: Laplace)
        half, delta = config.phase_epsilon("covariance") / 2, config.delta / 2
        cov = noise.symmetric(cov, sens.cov, half, delta)
        wgt = noise.symmetric(wgt, sens.wgt, half, delta)
        wgt_std = noise_std(sens.wgt, half, delta)
    return ModelStatistics(
        scale=scale,
        global_sum=gsum,
        global_count=gcnt,
        global_average=g,
        item_sum=msum,
        item_count=mcnt,
        item_average=avg,
        cov=cov,
        wgt=wgt,
        wgt_std=wgt_std,
    )


def build_model(
    ratings: Ratings,
    config: ModelConfig,
    rng: np.random.Generator,
    *,
    private: bool = True,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[ItemModel, ModelStatistics]:
    """Compute the statistics of ``ratings`` (noised unless ``private`` is False) and clean.

    Parameters
    ----------
    ratings : Ratings
        The ratings the model may see (the original minus the utility holdout).
    config : ModelConfig
    rng : numpy.random.Generator
        Draws the per-customer subsets and the noise (keyed by the release's seed).
    private : bool
        False computes the exact statistics: the non-private reference of the audit,
        never released.
    rows : (users, items, values), optional
        The ratings counted (:func:`model_ratings`), when the caller drew them: the
        reference then counts the very subset the released model counted.

    Returns
    -------
    model : ItemModel
        What the bundle's ``model/`` holds.
    statistics : ModelStatistics
        The released (or exact) statistics before cleaning.
    """
    scale = config.scale(ratings)
    assert config.domain.items is not None  # checked at load
    item_ids = config.domain.items.ids
    users, items, values = rows if rows is not None else model_ratings(ratings, config, rng)
    noise = Noise(rng) if private else None
    stats = compute_statistics(users, items, values, len(item_ids), scale, config, noise)
    if private:
        beta_diagonal = config.shrink.diagonal * stats.wgt_std
        beta_off = config.shrink.off_diagonal * stats.wgt_std
    else:
        # Exact statistics still carry sampling noise (a pair of items two customers
        # rated): the reference shrinks by a fifth of an item's average weight, which
        # measured best on MovieLens 100K (SVD 0.917 against 0.950 unshrunk).
        beta_diagonal = beta_off = REFERENCE_SHRINK * float(np.mean(np.diag(stats.wgt)))
    cleaned = clean(
        stats.cov,
        stats.wgt,
        stats.item_count,
        rank=config.rank,
        beta_diagonal=beta_diagonal,
        beta_off=beta_off,
        clamp=config.clamp,
    )
    meta = {
        "kind": config.kind,
        "unit": config.unit,
        "epsilon": config.epsilon if private else None,
        "delta": config.delta if private else None,
        "split": dict(config.split),
        "beta_m": config.beta_m,
        "shrink": {"diagonal": config.shrink.diagonal, "off_diagonal": config.shrink.off_diagonal},
    }
    model = ItemModel(
        scale=scale,
        item_ids=item_ids,
        global_average=stats.global_average,
        global_sum=stats.global_sum,
        global_count=stats.global_count,
        item_average=stats.item_average,
        item_count=stats.item_count,
        item_sum=stats.item_sum,
        factors=cleaned.factors,
        variance=cleaned.variance,
        uniqueness=cleaned.uniqueness,
        beta_p=config.beta_p,
        clamp=config.clamp,
        cov=stats.cov,
        wgt=stats.wgt,
        meta=meta,
    )
    logger.info(
        "model: %d ratings of %d customers over %d items, %s",
        len(values),
        len(np.unique(users)),
        len(item_ids),
        "noised" if private else "exact (reference)",
    )
    return model, stats
