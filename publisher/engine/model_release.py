"""A model release: hold out, compute the DP model, score it against the references.

The holdout (``model.holdout`` of the ratings, at random) is removed *before* the
statistics are computed, so the released model never saw the ratings its accuracy is
measured on; the released model is the one trained without them (a subsample: its
guarantee holds as stated).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from audits.model_utility import ModelUtilityAudit, ModelUtilityResult
from policies.cleaning import clean
from policies.mcsherry import build_model, model_ratings
from policies.model import ModelConfig
from publisher.core.model import ItemModel
from publisher.core.ratings import ITEM, RATING, USER, Ratings
from publisher.progress import Stages

__all__ = ["ModelRelease", "release_model"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ModelRelease:
    """The released model and its utility audit."""

    model: ItemModel
    utility: ModelUtilityResult


def release_model(
    ratings: Ratings,
    config: ModelConfig,
    seed: np.random.SeedSequence,
    stages: Stages | None = None,
) -> ModelRelease:
    """Hold out, build the DP model on the rest, and score it (see the module notes).

    Parameters
    ----------
    ratings : Ratings
        The original.
    config : ModelConfig
    seed : numpy.random.SeedSequence
        The release's model seed (keyed when the release is seeded).
    stages : Stages, optional

    Returns
    -------
    ModelRelease
    """
    stages = stages or Stages()
    holdout_seed, model_seed = seed.spawn(2)
    test = np.random.default_rng(holdout_seed).random(ratings.n_ratings) < config.holdout
    frame = ratings.frame
    train = ratings.with_frame(frame.loc[~test].reset_index(drop=True))
    with stages("DP model"):
        rng = np.random.default_rng(model_seed)
        # drawn here so that the reference counts the same per-customer subset; the
        # generator then draws the noise as if build_model had drawn the subset itself
        rows = model_ratings(train, config, rng)
        model, stats = build_model(train, config, rng, rows=rows)
    with stages("model utility audit"):
        exact, _ = build_model(train, config, rng, private=False, rows=rows)
        raw = clean(
            stats.cov, stats.wgt, np.zeros(len(stats.cov)), rank=config.rank,
            beta_diagonal=0.0, beta_off=0.0, clamp=config.clamp, iterations=1,
        )  # fmt: skip
        uncleaned = dataclasses.replace(
            model, factors=raw.factors, variance=raw.variance, uniqueness=raw.uniqueness
        )
        positions = model.positions(ratings.item_ids)
        held = frame.loc[test]
        known = (
            train.frame[USER].to_numpy(),
            positions[train.frame[ITEM].to_numpy()],
            train.frame[RATING].to_numpy(np.float64),
        )
        inside = positions[held[ITEM].to_numpy()] >= 0
        holdout = (
            held[USER].to_numpy()[inside],
            positions[held[ITEM].to_numpy()][inside],
            held[RATING].to_numpy(np.float64)[inside],
        )
        utility = ModelUtilityAudit(model, exact, uncleaned, known, holdout, config.holdout)
        result = utility.evaluate().results()
    logger.info(
        "model: DP %s RMSE %.4f; non-private %s %.4f; global effects %.4f",
        result.best_dp,
        result.rmse[result.best_dp],
        result.best_reference,
        result.rmse[result.best_reference],
        result.rmse["global_effects"],
    )
    return ModelRelease(model, result)
