"""How well a released model predicts ratings it never saw, against honest references.

The holdout is drawn before any statistic is computed (``model.holdout`` of the
ratings, at random): the released model never sees it. On it we score

* ``constant``: the scale's midpoint (needs no data at all);
* ``global_mean``: the exact mean of the training ratings;
* ``global_effects``: exact item averages plus each customer's own offset (non-private);
* ``svd`` and ``knn`` on the exact statistics of the same training ratings (non-private);
* ``dp_svd`` and ``dp_knn`` from the released model, and the same from the noisy
  statistics before cleaning (``dp_svd_uncleaned``, ``dp_knn_uncleaned``).

Every figure is an exact figure of the original data: review copy only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from audits.evaluator import Evaluator
from audits.recommend import predict
from publisher.core.model import ItemModel

__all__ = ["PREDICTORS", "ModelUtilityAudit", "ModelUtilityResult"]

#: Every predictor scored, in report order.
PREDICTORS = (
    "constant", "global_mean", "global_effects", "svd", "knn",
    "dp_svd", "dp_knn", "dp_svd_uncleaned", "dp_knn_uncleaned",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ModelUtilityResult:
    """RMSE of each predictor on the holdout.

    Attributes
    ----------
    holdout_ratings : int
    holdout_fraction : float
    rmse : dict of str to float
        By :data:`PREDICTORS` name.
    """

    holdout_ratings: int
    holdout_fraction: float
    rmse: dict[str, float]

    @property
    def best_dp(self) -> str:
        """The released model's better predictor (svd or knn, cleaned)."""
        return min(("dp_svd", "dp_knn"), key=lambda name: self.rmse[name])

    @property
    def best_reference(self) -> str:
        """The better non-private predictor of the same kind."""
        return min(("svd", "knn"), key=lambda name: self.rmse[name])

    @property
    def rmse_increase(self) -> float:
        """The released model's best RMSE minus the non-private best."""
        return self.rmse[self.best_dp] - self.rmse[self.best_reference]

    @property
    def worse_than(self) -> list[str]:
        """The simple references the released model does not beat."""
        best = self.rmse[self.best_dp]
        simple = ("constant", "global_mean", "global_effects")
        return [name for name in simple if best >= self.rmse[name]]

    def to_dict(self) -> dict[str, Any]:
        """report.json ``model.utility``."""
        return {
            "holdout": {"ratings": self.holdout_ratings, "fraction": self.holdout_fraction},
            "rmse": dict(self.rmse),
            "best_dp": self.best_dp,
            "rmse_increase": self.rmse_increase,
            "worse_than": self.worse_than,
        }


class ModelUtilityAudit(Evaluator[ModelUtilityResult]):
    """Score the released model and the references on the holdout.

    Parameters
    ----------
    released, exact, uncleaned : ItemModel
        The released model; the same statistics computed exactly (non-private); the
        noisy statistics without cleaning.
    known : (users, items, ratings)
        The training ratings (item positions in the model's domain).
    holdout : (users, items, ratings)
        The held-out ratings.
    holdout_fraction : float
    """

    def __init__(
        self,
        released: ItemModel,
        exact: ItemModel,
        uncleaned: ItemModel,
        known: tuple[np.ndarray, np.ndarray, np.ndarray],
        holdout: tuple[np.ndarray, np.ndarray, np.ndarray],
        holdout_fraction: float,
    ) -> None:
        self.released, self.exact, self.uncleaned = released, exact, uncleaned
        self.known, self.holdout, self.holdout_fraction = known, holdout, holdout_fraction

    def _run(self) -> ModelUtilityResult:
        """Score every predictor (see the module notes)."""
        users, items, truth = self.holdout
        pairs = (users, items)
        scale = self.released.scale

        def rmse(prediction: np.ndarray) -> float:
            return (
                float(np.sqrt(np.mean((prediction - truth) ** 2))) if len(truth) else float("nan")
            )

        mean = float(np.mean(self.known[2])) if len(self.known[2]) else scale.minimum
        effects = dataclasses.replace(self.exact, factors=self.exact.factors[:, :0])
        scores = {
            "constant": rmse(np.full(len(truth), (scale.minimum + scale.maximum) / 2)),
            "global_mean": rmse(np.full(len(truth), mean)),
            "global_effects": rmse(predict(effects, self.known, pairs)),
        }
        for prefix, model in (("", self.exact), ("dp_", self.released)):
            for method in ("svd", "knn"):
                scores[prefix + method] = rmse(predict(model, self.known, pairs, method=method))
        for method in ("svd", "knn"):
            scores[f"dp_{method}_uncleaned"] = rmse(
                predict(self.uncleaned, self.known, pairs, method=method)
            )
        return ModelUtilityResult(
            holdout_ratings=len(truth),
            holdout_fraction=self.holdout_fraction,
            rmse={name: scores[name] for name in PREDICTORS},
        )
