"""Utility audit: what the protection costs for the data's main use, prediction.

A sample of customers has 10% of their ORIGINAL ratings held out. Two predictors
are fitted twice, once on the original minus the holdout and once on the release
minus the holdout's (customer, item) pairs, and scored on the same holdout:

* baseline: global mean plus regularized item and user biases (Koren, "Factor in
  the neighbors", TKDD 2010, section 2.1: lambda_item = 25, lambda_user = 10);
* a small matrix factorization of the baseline's residuals by alternating least
  squares (rank 10, lambda 5, 10 sweeps; seeded).

Customers the release dropped are predicted from item biases alone. Also reported:
the total variation distance of the rating histograms, the Spearman correlation
of item popularity, and the fractions of customers, items and ratings kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numba import prange

from audits.evaluator import Evaluator
from publisher.core.ratings import ITEM, RATING, USER, Ratings, present_codes

__all__ = [
    "UtilityAudit",
    "UtilityResult",
    "fit_baseline",
    "popularity_spearman",
    "total_variation",
]

LAMBDA_ITEM, LAMBDA_USER = 25.0, 10.0
RANK, LAMBDA_MF, SWEEPS = 10, 5.0, 10


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance of two histograms (normalized first).

    Examples
    --------
    >>> total_variation(np.array([1, 1, 0]), np.array([0, 1, 1]))
    0.5
    """
    p = np.asarray(p, float) / max(np.sum(p), 1)
    q = np.asarray(q, float) / max(np.sum(q), 1)
    return float(0.5 * np.abs(p - q).sum())


def popularity_spearman(original: Ratings, released: Ratings) -> float | None:
    """Spearman correlation of ratings per item, over the items of the original.

    Items the release dropped count as 0 ratings. None where it is undefined (fewer
    than two items, or every item equally popular on one side).
    """
    n = len(original.item_ids)
    before = np.bincount(original.frame[ITEM].to_numpy(), minlength=n)
    after = np.bincount(released.frame[ITEM].to_numpy(), minlength=n)
    present = before > 0
    if present.sum() < 2 or np.ptp(before[present]) == 0 or np.ptp(after[present]) == 0:
        return None
    from scipy.stats import spearmanr  # scipy.stats takes 0.5 s to import: only when needed

    return float(spearmanr(before[present], after[present]).statistic)


@dataclass
class Baseline:
    """Global mean and biases; ``predict`` falls back to 0 bias for unseen keys."""

    mean: float
    item_bias: np.ndarray
    user_bias: np.ndarray

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings for (user code, item code) pairs."""
        return self.mean + self.item_bias[items] + self.user_bias[users]


def fit_baseline(
    users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_users: int, n_items: int
) -> Baseline:
    """Fit mu + b_i + b_u with Koren's regularized sums.

    Examples
    --------
    >>> b = fit_baseline(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([5., 3., 4.]), 2, 2)
    >>> round(b.mean, 4), round(float(b.item_bias[0]), 4)
    (4.0, 0.037)
    """
    mean = float(ratings.mean()) if len(ratings) else 0.0
    residual = ratings - mean
    item_bias = np.bincount(items, weights=residual, minlength=n_items) / (
        LAMBDA_ITEM + np.bincount(items, minlength=n_items)
    )
    residual = residual - item_bias[items]
    user_bias = np.bincount(users, weights=residual, minlength=n_users) / (
        LAMBDA_USER + np.bincount(users, minlength=n_users)
    )
    return Baseline(mean, item_bias, user_bias)


@numba.njit(parallel=True, cache=True)
def _als_half(
    ptr: np.ndarray,
    other: np.ndarray,
    residual: np.ndarray,
    fixed: np.ndarray,
    out: np.ndarray,
    lam: float,
) -> None:
    """Solve every row's ridge regression of its residuals on the fixed factors."""
    rank = fixed.shape[1]
    for row in prange(len(ptr) - 1):
        a = lam * np.eye(rank)
        b = np.zeros(rank)
        for p in range(ptr[row], ptr[row + 1]):
            v = fixed[other[p]]
            a += np.outer(v, v)
            b += residual[p] * v
        out[row] = np.linalg.solve(a, b)


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return order, ptr


@dataclass
class Factorization:
    """Baseline plus low-rank residual factors."""

    baseline: Baseline
    user_factors: np.ndarray
    item_factors: np.ndarray

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings for (user code, item code) pairs."""
        dot = np.einsum("ij,ij->i", self.user_factors[users], self.item_factors[items])
        return self.baseline.predict(users, items) + dot


def fit_factorization(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    rng: np.random.Generator,
) -> Factorization:
    """Fit the baseline, then ALS on its residuals (rank 10, lambda 5, 10 sweeps)."""
    baseline = fit_baseline(users, items, ratings, n_users, n_items)
    residual = ratings - baseline.predict(users, items)
    user_factors = np.zeros((n_users, RANK))
    item_factors = rng.normal(0, 0.1, size=(n_items, RANK))
    by_user, user_ptr = _csr(users, n_users)
    by_item, item_ptr = _csr(items, n_items)
    for _ in range(SWEEPS):
        _als_half(
            user_ptr, items[by_user], residual[by_user], item_factors, user_factors, LAMBDA_MF
        )
        _als_half(
            item_ptr, users[by_item], residual[by_item], user_factors, item_factors, LAMBDA_MF
        )
    return Factorization(baseline, user_factors, item_factors)


def _rmse(predicted: np.ndarray, truth: np.ndarray, lo: float, hi: float) -> float:
    return float(np.sqrt(np.mean((np.clip(predicted, lo, hi) - truth) ** 2)))


@dataclass(frozen=True)
class PredictionError:
    """RMSE of the two predictors on the holdout, trained on one table."""

    baseline_rmse: float
    mf_rmse: float

    def to_dict(self) -> dict[str, float]:
        """``{"baseline_rmse": ..., "mf_rmse": ...}``."""
        return {"baseline_rmse": self.baseline_rmse, "mf_rmse": self.mf_rmse}


@dataclass(frozen=True, kw_only=True)
class UtilityResult:
    """What the release costs for prediction and how far its distributions moved.

    Attributes
    ----------
    holdout_users, holdout_ratings : int
        Customers sampled and their ratings held out.
    holdout_fraction : float
        Share of each sampled customer's ratings held out.
    original, released : PredictionError
        Trained on the original minus the holdout, and on the release minus it.
    rating_histogram_tvd : float
        Total variation distance of the rating histograms.
    item_popularity_spearman : float or None
        Spearman correlation of item popularity (None when undefined).
    kept : dict
        Fractions of ``ratings``, ``users`` and ``items`` the release keeps.
    """

    holdout_users: int
    holdout_ratings: int
    holdout_fraction: float
    original: PredictionError
    released: PredictionError
    rating_histogram_tvd: float
    item_popularity_spearman: float | None
    kept: dict[str, float]

    @property
    def baseline_rmse_increase(self) -> float:
        """RMSE of the baseline trained on the release minus on the original."""
        return self.released.baseline_rmse - self.original.baseline_rmse

    @property
    def mf_rmse_increase(self) -> float:
        """RMSE of the factorization trained on the release minus on the original."""
        return self.released.mf_rmse - self.original.mf_rmse

    def to_dict(self) -> dict[str, Any]:
        """report.json ``utility`` (microdata figures)."""
        return {
            "holdout": {
                "users": self.holdout_users,
                "ratings": self.holdout_ratings,
                "fraction": self.holdout_fraction,
            },
            "original": self.original.to_dict(),
            "released": self.released.to_dict(),
            "baseline_rmse_increase": self.baseline_rmse_increase,
            "mf_rmse_increase": self.mf_rmse_increase,
            "rating_histogram_tvd": self.rating_histogram_tvd,
            "item_popularity_spearman": self.item_popularity_spearman,
            "kept": dict(self.kept),
        }


class UtilityAudit(Evaluator[UtilityResult]):
    """Prediction error and distribution distances, original vs release.

    Parameters
    ----------
    original, released : Ratings
        Sharing user and item codes.
    n_users : int
        Customers whose ratings are partly held out (and trained on): at most this many.
    holdout_fraction : float
        Share of each sampled customer's ratings held out.
    rng : numpy.random.Generator
    """

    def __init__(
        self,
        original: Ratings,
        released: Ratings,
        *,
        n_users: int = 2000,
        holdout_fraction: float = 0.1,
        rng: np.random.Generator,
    ) -> None:
        if not 0 < holdout_fraction < 1:
            raise ValueError(f"holdout_fraction must be in (0, 1), got {holdout_fraction}")
        if n_users < 1:
            raise ValueError(f"n_users must be >= 1, got {n_users}")
        self.original, self.released = original, released
        self.n_users, self.holdout_fraction, self.rng = n_users, holdout_fraction, rng

    def _run(self) -> UtilityResult:
        """Hold out, fit, score."""
        original, released = self.original, self.released
        frame = original.frame
        n_users, n_items = len(original.user_ids), len(original.item_ids)
        present = present_codes(frame[USER].to_numpy(), n_users)
        chosen = self.rng.choice(present, size=min(self.n_users, len(present)), replace=False)
        in_sample = np.zeros(n_users, bool)
        in_sample[chosen] = True
        users = frame[USER].to_numpy()
        sample = frame[in_sample[users]]
        held = self.rng.random(len(sample)) < self.holdout_fraction
        test, train = sample[held], sample[~held]
        test_keys = set((test[USER].astype(np.int64) * n_items + test[ITEM]).tolist())
        rel = released.frame
        rel = rel[in_sample[rel[USER].to_numpy()]]
        rel_keys = rel[USER].to_numpy().astype(np.int64) * n_items + rel[ITEM].to_numpy()
        rel = rel[~np.isin(rel_keys, np.fromiter(test_keys, np.int64, len(test_keys)))]
        scale = original.scale
        truth = test[RATING].to_numpy(np.float64)
        tu, ti = test[USER].to_numpy(), test[ITEM].to_numpy()
        seed = int(self.rng.integers(2**31 - 1))  # the same factor initialisation on both sides
        scores: dict[str, PredictionError] = {}
        for label, table in (("original", train), ("released", rel)):
            args = (
                table[USER].to_numpy(),
                table[ITEM].to_numpy(),
                table[RATING].to_numpy(np.float64),
                n_users,
                n_items,
            )
            base = fit_baseline(*args)
            mf = fit_factorization(*args, rng=np.random.default_rng(seed))
            scores[label] = PredictionError(
                _rmse(base.predict(tu, ti), truth, scale.minimum, scale.maximum),
                _rmse(mf.predict(tu, ti), truth, scale.minimum, scale.maximum),
            )

        def hist(table: Ratings) -> np.ndarray:
            return np.bincount(scale.to_index(table.frame[RATING].to_numpy()), minlength=scale.k)

        before, after = original.counts(), released.counts()
        return UtilityResult(
            holdout_users=len(chosen),
            holdout_ratings=len(test),
            holdout_fraction=self.holdout_fraction,
            original=scores["original"],
            released=scores["released"],
            rating_histogram_tvd=total_variation(hist(original), hist(released)),
            item_popularity_spearman=popularity_spearman(original, released),
            kept={key: after[key] / before[key] if before[key] else 0.0 for key in before},
        )
