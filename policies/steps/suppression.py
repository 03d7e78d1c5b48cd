"""Suppression steps: rare items, sparse users, long histories and users out of the sample."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from policies.steps._base import Step, _keep_rows, group_rank
from publisher.core.channel import Channel
from publisher.core.ratings import (
    ITEM,
    USER,
    Ratings,
    Scale,
    present_codes,
)
from publisher.core.validation import (
    check_fraction,
    check_int,
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------- suppression
@dataclass(frozen=True, kw_only=True)
class DropRareItems(Step):
    """Remove every rating of items rated by fewer than ``min_raters`` users.

    Rare items are the strongest fingerprints (Narayanan-Shmatikov weight them by
    1 / log of their support).
    """

    name: ClassVar[str] = "drop_rare_items"
    changes_rows: ClassVar[bool] = True
    randomized: ClassVar[bool] = False
    removes_only: ClassVar[bool] = True
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"min_raters": "up"}
    min_raters: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "min_raters", self.min_raters, minimum=1)

    def describe(self) -> str:  # noqa: D102
        return f"ratings of items with fewer than {self.min_raters} raters removed"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        items = ratings.frame[ITEM].to_numpy()
        counts = np.bincount(items, minlength=len(ratings.item_ids))
        return _keep_rows(ratings, counts[items] >= self.min_raters)


@dataclass(frozen=True, kw_only=True)
class DropSparseUsers(Step):
    """Remove users with fewer than ``min_ratings`` ratings."""

    name: ClassVar[str] = "drop_sparse_users"
    changes_rows: ClassVar[bool] = True
    randomized: ClassVar[bool] = False
    removes_only: ClassVar[bool] = True
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"min_ratings": "up"}
    min_ratings: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "min_ratings", self.min_ratings, minimum=1)

    def describe(self) -> str:  # noqa: D102
        return f"users with fewer than {self.min_ratings} ratings removed"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        users = ratings.frame[USER].to_numpy()
        counts = np.bincount(users, minlength=len(ratings.user_ids))
        return _keep_rows(ratings, counts[users] >= self.min_ratings)


@dataclass(frozen=True, kw_only=True)
class CapUserRatings(Step):
    """Keep at most ``max_ratings`` ratings per user, chosen uniformly at random."""

    name: ClassVar[str] = "cap_user_ratings"
    changes_rows: ClassVar[bool] = True
    randomized: ClassVar[bool] = True
    removes_only: ClassVar[bool] = True
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"max_ratings": "down"}
    max_ratings: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "max_ratings", self.max_ratings, minimum=1)

    def describe(self) -> str:  # noqa: D102
        return f"at most {self.max_ratings} ratings kept per user, chosen at random"

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:  # noqa: D102
        cap = self.max_ratings if channel.cap is None else min(channel.cap, self.max_ratings)
        return dataclasses.replace(channel, cap=cap)

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        rank = group_rank(ratings.frame[USER].to_numpy(), rng)
        return _keep_rows(ratings, rank < self.max_ratings)


@dataclass(frozen=True, kw_only=True)
class SampleUsers(Step):
    """Keep a uniform random sample of ``round(fraction * users)`` users (at least one)."""

    name: ClassVar[str] = "sample_users"
    changes_rows: ClassVar[bool] = True
    randomized: ClassVar[bool] = True
    removes_only: ClassVar[bool] = True
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"fraction": "down"}
    fraction: float

    def __post_init__(self) -> None:
        check_fraction(type(self).__name__, "fraction", self.fraction, allow_zero=False)

    def describe(self) -> str:  # noqa: D102
        return f"a random {self.fraction:.0%} of the users kept"

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:  # noqa: D102
        return dataclasses.replace(channel, sample=channel.sample * self.fraction)

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        users = ratings.frame[USER].to_numpy()
        present = present_codes(users, len(ratings.user_ids))
        # at least one user, of none: an empty table (an earlier step left no ratings)
        n_keep = min(len(present), max(1, round(self.fraction * len(present))))
        chosen = rng.choice(present, size=n_keep, replace=False)
        keep = np.zeros(len(ratings.user_ids), dtype=bool)
        keep[chosen] = True
        return _keep_rows(ratings, keep[users])
