"""Netflix 2006's own perturbation: ratings deleted at random, decoy ratings inserted."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from policies.steps._base import Step, _keep_rows
from publisher.core.channel import Channel
from publisher.core.ratings import (
    DATE,
    ITEM,
    RATING,
    USER,
    Ratings,
    Scale,
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
    randomized: ClassVar[bool] = True
    removes_only: ClassVar[bool] = True
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"fraction": "up"}
    fraction: float

    def __post_init__(self) -> None:
        check_number(
            type(self).__name__, "fraction", self.fraction, minimum=0, maximum=1, high_open=True
        )

    def describe(self) -> str:  # noqa: D102
        return f"{self.fraction:.1%} of the ratings deleted at random"

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:  # noqa: D102
        kept = (1 - channel.deletion) * (1 - self.fraction)
        return dataclasses.replace(channel, deletion=1 - kept)

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        n = ratings.n_ratings
        drop = rng.choice(n, size=round(self.fraction * n), replace=False)
        keep = np.ones(n, dtype=bool)
        keep[drop] = False
        return _keep_rows(ratings, keep)


@dataclass(frozen=True, kw_only=True)
class InsertRatings(Step):
    """Insert ``round(fraction * ratings)`` decoy ratings drawn like real ones.

    Each decoy starts from a random existing rating (the anchor): its customer and its
    day, so customers are drawn in proportion to activity and days in proportion to the
    customer's own ratings that day. A decoy is therefore never dated outside its
    customer's first-to-last real day, and never alone on a day. Its item and rating
    come from another random rating of the trailing ``ITEM_WINDOW_DAYS`` days up to
    that day (popularity as it stood then, never an item before its first rating), and
    its rating is that item's rating there. A pair the customer already rated redraws the
    item (not the customer); after ten rounds any rating up to the day may lend, after
    twenty the draw stops leaning, after forty the anchor is replaced (small or dense
    tables). Because a customer's own items
    are refused, redrawn items run less popular than real ones; the draw leans towards
    the more popular of two candidates by as much as a pilot sample shows matches the
    real ratings' mean log item popularity.
    Without dates, item and rating come from a random existing rating.

    What an attacker who knows the step can still learn is measured by the
    distinguishability audit (a classifier told which rows are decoys).
    """

    name: ClassVar[str] = "insert_ratings"
    changes_rows: ClassVar[bool] = True
    randomized: ClassVar[bool] = True
    removes_only: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = True
    protection: ClassVar[Mapping[str, Any]] = {}
    fraction: float

    #: How far back a decoy's item and rating are drawn from, in days.
    ITEM_WINDOW_DAYS: ClassVar[int] = 60

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
        draw = _DecoyDraw(ratings, self.ITEM_WINDOW_DAYS)
        # A customer cannot get an item they rated, so redrawing after a collision favours
        # items they have not rated: the less popular ones. Leaning towards the more
        # popular of two candidates undoes that; how much is set on a pilot sample so that
        # the decoys' mean log item popularity matches the real ratings'.
        lean = draw.calibrate(min(n_new, PILOT), rng)
        anchors, lent = draw(rng.integers(0, n, size=n_new), lean, rng)
        if len(anchors) < n_new:
            logger.warning(
                "insert_ratings: table too dense, inserted %d of %d", len(anchors), n_new
            )
        decoys = {
            USER: draw.users[anchors],
            ITEM: draw.items[lent],
            RATING: frame[RATING].to_numpy()[lent],
        }
        if draw.days is not None:
            decoys[DATE] = draw.days[anchors]
        added = pd.DataFrame(decoys).astype(frame.dtypes.to_dict())
        return ratings.with_frame(pd.concat([frame, added], ignore_index=True))


#: Decoys drawn on trial to set how far the item draw leans towards popular items.
PILOT = 20_000

#: Rounds of redrawing collisions before a table is declared too dense.
ROUNDS = 60

#: The leans tried: the probability of taking the more popular of two candidates.
LEANS = (0.0, 0.25, 0.5, 0.75, 1.0)


class _DecoyDraw:
    """Anchors (customer and day) and lent rows (item and rating) for decoys."""

    def __init__(self, ratings: Ratings, window: int) -> None:
        frame = ratings.frame
        self.n = len(frame)
        self.users = frame[USER].to_numpy()
        self.items = frame[ITEM].to_numpy()
        self.days = frame[DATE].to_numpy() if ratings.has_dates else None
        self.lender = _Lender(self.days, self.n, window)
        self.n_items = len(ratings.item_ids)
        self.existing = sorted_unique(self.users.astype(np.int64) * self.n_items + self.items)
        self.popularity = np.bincount(self.items, minlength=self.n_items)
        self.log_pop = np.log1p(self.popularity)
        self.real_log_pop = float(self.log_pop[self.items].mean())

    def calibrate(self, size: int, rng: np.random.Generator) -> float:
        """The lean whose pilot decoys come closest to the real mean log popularity."""
        pilot = rng.integers(0, self.n, size=size)
        gaps = []
        for lean in LEANS:
            _, lent = self(pilot, lean, rng)
            mean = self.log_pop[self.items[lent]].mean() if len(lent) else self.real_log_pop
            gaps.append(abs(mean - self.real_log_pop))
        return LEANS[int(np.argmin(gaps))]

    def __call__(
        self, pending: np.ndarray, lean: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows lending customer and day, and rows lending item and rating, collision-free.

        A collision redraws the item, not the customer (redrawing customers would favour
        those with few ratings). After ten rounds any rating up to the day may lend;
        after twenty the draw no longer leans towards popular items; after forty a
        stubborn anchor (a customer who rated nearly everything) is replaced.
        """
        chosen = np.empty(0, dtype=np.int64)  # sorted keys (user * n_items + item) of decoys
        anchors = np.empty(0, dtype=np.int64)
        lent = np.empty(0, dtype=np.int64)
        for round_ in range(ROUNDS):
            if not len(pending):
                break
            if round_ >= 40:  # stubborn: another anchor (re-anchoring shifts customers)
                pending = rng.integers(0, self.n, size=len(pending))
            lend = self.lender.draw(pending, rng, widen=round_ >= 10)
            if lean and round_ < 20:  # popular items collide most: stop leaning
                other = self.lender.draw(pending, rng, widen=round_ >= 10)
                better = self.popularity[self.items[other]] > self.popularity[self.items[lend]]
                lend = np.where(better & (rng.random(len(lend)) < lean), other, lend)
            keys = self.users[pending].astype(np.int64) * self.n_items + self.items[lend]
            first = np.zeros(len(keys), dtype=bool)
            first[np.unique(keys, return_index=True)[1]] = True
            fresh = first & ~_in_sorted(self.existing, keys) & ~_in_sorted(chosen, keys)
            if fresh.any():
                chosen = np.sort(np.r_[chosen, keys[fresh]])
            anchors = np.r_[anchors, pending[fresh]]
            lent = np.r_[lent, lend[fresh]]
            pending = pending[~fresh]
        return anchors, lent


def _in_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in ``sorted_keys`` (binary search: no sort of the table)."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(sorted_keys, keys).clip(0, len(sorted_keys) - 1)
    return sorted_keys[at] == keys


class _Lender:
    """Draws, for each anchor row, a row rated in the window of days up to the anchor's."""

    def __init__(self, days: np.ndarray | None, n: int, window: int) -> None:
        self.n, self.window, self.days = n, window, days
        if days is not None:
            self.order = np.argsort(days, kind="stable")
            ordered = days[self.order].astype(np.int64)
            # Where each day's window starts and ends in the sorted rows, for every day of
            # the data's span: a lookup per decoy instead of two searches in 100M rows.
            self.first_day = int(ordered[0])
            grid = np.arange(self.first_day, int(ordered[-1]) + 1, dtype=np.int64)
            self.start = np.searchsorted(ordered, grid - window, side="left")
            self.end = np.searchsorted(ordered, grid, side="right")

    def draw(self, anchor: np.ndarray, rng: np.random.Generator, *, widen: bool) -> np.ndarray:
        if self.days is None:  # no dates: any rating lends, by popularity
            return rng.integers(0, self.n, size=len(anchor))
        at = self.days[anchor].astype(np.int64) - self.first_day
        lo = np.zeros(len(anchor), np.int64) if widen else self.start[at]
        hi = self.end[at]  # > lo: the anchor itself is in its window
        pick = lo + np.floor(rng.random(len(anchor)) * (hi - lo)).astype(np.int64)
        return self.order[pick]
