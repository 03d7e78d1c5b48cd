"""Noise on rating values: k-ary randomized response (local differential privacy)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from policies.noise import keep_probability, randomized_response
from policies.steps._base import Step
from publisher.core.channel import Channel
from publisher.core.guarantee import Guarantee
from publisher.core.ratings import (
    RATING,
    Ratings,
    Scale,
)
from publisher.core.validation import (
    check_choice,
    check_number,
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------- ratings
@dataclass(frozen=True, kw_only=True)
class PerturbRatings(Step):
    """Replace each rating by k-ary randomized response on the rating scale.

    Each rating is kept with probability ``e^eps / (e^eps + k - 1)`` and otherwise
    replaced by one of the other ``k - 1`` values on the scale, uniformly. This makes
    each *rating value* ``epsilon``-locally differentially private. It does not
    hide which items a user rated or when; a user with ``n`` ratings has, by basic
    composition, ``n * epsilon`` for the vector of their rating values.

    Parameters
    ----------
    method : {"randomized_response"}
        The mechanism.
    epsilon : float
        Local privacy parameter per rating, > 0.
    """

    name: ClassVar[str] = "perturb_ratings"
    changes_rows: ClassVar[bool] = False
    randomized: ClassVar[bool] = True
    removes_only: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"epsilon": "down"}
    method: str = "randomized_response"
    epsilon: float

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_choice(owner, "method", self.method, ("randomized_response",))
        check_number(owner, "epsilon", self.epsilon, minimum=0, low_open=True)

    def keep_probability(self, k: int) -> float:
        """Probability that a rating on a ``k``-value scale is reported unchanged."""
        return keep_probability(self.epsilon, k)

    def guarantee(self, scale: Scale, component: str) -> Guarantee:
        """Each rating value is ``epsilon``-locally differentially private."""
        return Guarantee(
            component=component,
            mechanism=f"{scale.k}-ary randomized response",
            epsilon=float(self.epsilon),
            scope="each rating value, locally",
            covers=(
                f"each released rating value is {self.epsilon:g}-locally differentially "
                "private; which items a customer rated, when and how many are not covered"
            ),
            details={"keep_probability": self.keep_probability(scale.k)},
        )

    def describe(self) -> str:  # noqa: D102
        return f"ratings replaced by randomized response (epsilon {self.epsilon:g} per rating)"

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:  # noqa: D102
        return channel.compose_keep(keep_probability(self.epsilon, scale.k), scale.k)

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        scale = ratings.scale
        index = scale.to_index(ratings.frame[RATING].to_numpy())
        noisy = randomized_response(index, scale.k, self.epsilon, rng)
        return ratings.with_frame(ratings.frame.assign(**{RATING: scale.values()[noisy]}))
