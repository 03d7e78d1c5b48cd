"""Netflix 2006's own perturbation: ratings deleted at random, decoy ratings inserted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from policies.steps._base import Step, _keep_rows
from publisher.core.ratings import (
    DATE,
    ITEM,
    RATING,
    USER,
    Ratings,
    sorted_unique,
)
from publisher.core.validation import (
    check_fraction,
    check_number,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeleteRatings(Step):
    """Delete ``round(fraction * ratings)`` ratings chosen uniformly at random."""

    name: ClassVar[str] = "delete_ratings"
    changes_rows: ClassVar[bool] = True
    fraction: float

    def __post_init__(self) -> None:
        check_number(
            type(self).__name__, "fraction", self.fraction, minimum=0, maximum=1, high_open=True
        )

    def describe(self) -> str:  # noqa: D102
        return f"{self.fraction:.1%} of the ratings deleted at random"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        n = ratings.n_ratings
        drop = rng.choice(n, size=round(self.fraction * n), replace=False)
        keep = np.ones(n, dtype=bool)
        keep[drop] = False
        return _keep_rows(ratings, keep)


@dataclass(frozen=True, kw_only=True)
class InsertRatings(Step):
    """Insert ``round(fraction * ratings)`` plausible decoy ratings.

    A decoy's user is drawn in proportion to activity and its item in proportion to
    popularity (each from a random existing rating), its rating from that item's
    own ratings, and its date uniformly within the user's activity window (not
    before the item's first rating). Pairs the user already rated are redrawn.
    """

    name: ClassVar[str] = "insert_ratings"
    changes_rows: ClassVar[bool] = True
    fraction: float

    def __post_init__(self) -> None:
        check_fraction(type(self).__name__, "fraction", self.fraction)

    def describe(self) -> str:  # noqa: D102
        return f"decoy ratings added ({self.fraction:.1%} of the table)"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        frame = ratings.frame
        n = len(frame)
        n_new = round(self.fraction * n)
        if n_new == 0 or n == 0:
            return ratings.with_frame(frame.copy())
        users = frame[USER].to_numpy()
        items = frame[ITEM].to_numpy()
        n_items = len(ratings.item_ids)
        existing = sorted_unique(users.astype(np.int64) * n_items + items)
        chosen = np.empty(0, dtype=np.int64)  # keys (user * n_items + item) of the decoys
        new_rows = np.empty(0, dtype=np.int64)  # index of the row lending item and rating
        new_users = np.empty(0, dtype=np.int32)
        for _ in range(20):  # redraw collisions; a few rounds suffice unless the table is dense
            need = n_new - len(new_users)
            if need == 0:
                break
            lend = rng.integers(0, n, size=2 * need)
            who = users[rng.integers(0, n, size=2 * need)]
            keys = who.astype(np.int64) * n_items + items[lend]
            first = np.zeros(len(keys), dtype=bool)
            first[np.unique(keys, return_index=True)[1]] = True
            fresh = first & ~np.isin(keys, existing) & ~np.isin(keys, chosen)
            take = np.flatnonzero(fresh)[:need]
            chosen = np.r_[chosen, keys[take]]
            new_rows = np.r_[new_rows, lend[take]]
            new_users = np.r_[new_users, who[take]].astype(np.int32)
        if len(new_users) < n_new:
            logger.warning(
                "insert_ratings: table too dense, inserted %d of %d", len(new_users), n_new
            )
        decoys = {
            USER: new_users,
            ITEM: items[new_rows],
            RATING: frame[RATING].to_numpy()[new_rows],
        }
        if ratings.has_dates:
            days = frame[DATE].to_numpy()
            first = pd.Series(days).groupby(users).min()
            last = pd.Series(days).groupby(users).max()
            item_first = pd.Series(days).groupby(items).min()
            lo = first.reindex(new_users).to_numpy()
            hi = last.reindex(new_users).to_numpy()
            day = lo + np.floor(rng.random(len(new_users)) * (hi - lo + 1)).astype(np.int64)
            floor = item_first.reindex(items[new_rows]).to_numpy()
            decoys[DATE] = np.maximum(day, floor).astype(np.int32)
        added = pd.DataFrame(decoys).astype(frame.dtypes.to_dict())
        return ratings.with_frame(pd.concat([frame, added], ignore_index=True))
