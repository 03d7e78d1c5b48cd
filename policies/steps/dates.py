"""Steps on dates: coarsening, dropping, jittering and re-dating ratings."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from policies.noise import uniform_offsets
from policies.steps._base import Step, _dates_or_none
from publisher.core.channel import Channel
from publisher.core.periods import COARSE_PERIODS, period_starts
from publisher.core.ratings import (
    DATE,
    USER,
    Ratings,
    Scale,
)
from publisher.core.validation import (
    MAX_SHIFT_DAYS,
    check_choice,
    check_fraction,
    check_int,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------- dates
@dataclass(frozen=True, kw_only=True)
class CoarsenDates(Step):
    """Round every date down to the first day of its week (Monday), month, quarter or year."""

    name: ClassVar[str] = "coarsen_dates"
    changes_rows: ClassVar[bool] = False
    randomized: ClassVar[bool] = False
    removes_only: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"to": COARSE_PERIODS}
    to: str

    def __post_init__(self) -> None:
        check_choice(type(self).__name__, "to", self.to, COARSE_PERIODS)

    def describe(self) -> str:  # noqa: D102
        return f"dates rounded down to the first day of the {self.to}"

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:  # noqa: D102
        return dataclasses.replace(channel, period=self.to)

    def date_period(self) -> str:  # noqa: D102
        return self.to

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        days = _dates_or_none(ratings, self)
        if days is None:
            return ratings.with_frame(ratings.frame.copy())
        coarse = period_starts(days, self.to)
        return ratings.with_frame(ratings.frame.assign(**{DATE: coarse}))


@dataclass(frozen=True, kw_only=True)
class DropDates(Step):
    """Remove the date column entirely."""

    name: ClassVar[str] = "drop_dates"
    changes_rows: ClassVar[bool] = False
    randomized: ClassVar[bool] = False
    removes_only: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = False
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {}

    def describe(self) -> str:  # noqa: D102
        return "dates removed"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        return ratings.with_frame(ratings.frame.drop(columns=[DATE], errors="ignore"))


@dataclass(frozen=True, kw_only=True)
class JitterDates(Step):
    """Move each customer's day of ratings by one uniform shift in [-max_days, max_days].

    The shift is drawn once per (customer, original day) and shared by all that
    customer's ratings of that day; different days move independently.

    What it hides: each absolute date, within +-max_days. An attacker who knows the step
    gains nothing by averaging a customer's ratings (one draw per day: the ratings of a
    day carry the same shift, so their mean and the midpoint of their extremes are that
    day's shifted date). With one independent shift per rating, the midpoint of a
    one-day customer's jittered dates lands within a day of the truth most of the time.

    What it keeps: which ratings a customer gave on the same day. It does not keep the
    gaps between a customer's days, nor their order when closer than 2 x max_days.
    """

    name: ClassVar[str] = "jitter_dates"
    changes_rows: ClassVar[bool] = False
    randomized: ClassVar[bool] = True
    removes_only: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = True
    distinguishable: ClassVar[bool] = False
    protection: ClassVar[Mapping[str, Any]] = {"max_days": "up"}
    max_days: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "max_days", self.max_days, minimum=0, maximum=MAX_SHIFT_DAYS)

    def describe(self) -> str:  # noqa: D102
        return (
            f"each customer's day of ratings moved by one random 0 to {self.max_days} days "
            "either way"
        )

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:  # noqa: D102
        return dataclasses.replace(channel, shift_days=channel.shift_days + self.max_days)

    def date_window_days(self) -> int:
        """Each date moves by up to max_days either way: a window of twice that."""
        return 2 * self.max_days

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        days = _dates_or_none(ratings, self)
        if days is None:
            return ratings.with_frame(ratings.frame.copy())
        users = ratings.frame[USER].to_numpy().astype(np.int64)
        # One group per (customer, day): days fit in 32 bits, user codes in 31.
        groups, n_groups = _factorize((users << 32) | (days.astype(np.int64) & 0xFFFFFFFF))
        shifts = uniform_offsets(self.max_days, n_groups, rng)
        shifted = days + shifts[groups]
        return ratings.with_frame(ratings.frame.assign(**{DATE: shifted.astype(np.int32)}))


def _factorize(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Group codes 0..n-1 in order of first appearance, and n (hashing: no sort)."""
    codes, uniques = pd.factorize(keys)
    return codes, len(uniques)


@dataclass(frozen=True, kw_only=True)
class RedateRatings(Step):
    """Move ``round(fraction * ratings)`` random ratings by 1 to ``max_days`` days, either way."""

    name: ClassVar[str] = "redate_ratings"
    changes_rows: ClassVar[bool] = False
    randomized: ClassVar[bool] = True
    removes_only: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    moves_dates: ClassVar[bool] = True
    distinguishable: ClassVar[bool] = True
    protection: ClassVar[Mapping[str, Any]] = {}
    fraction: float
    max_days: int

    def __post_init__(self) -> None:
        check_fraction(type(self).__name__, "fraction", self.fraction)
        check_int(type(self).__name__, "max_days", self.max_days, minimum=1, maximum=MAX_SHIFT_DAYS)

    def describe(self) -> str:  # noqa: D102
        return f"{self.fraction:.1%} of the ratings moved by 1 to {self.max_days} days"

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:  # noqa: D102
        return dataclasses.replace(
            channel,
            redate_fraction=1 - (1 - channel.redate_fraction) * (1 - self.fraction),
            redate_days=max(channel.redate_days, self.max_days),
        )

    def date_window_days(self) -> int:  # noqa: D102
        return self.max_days

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        days = _dates_or_none(ratings, self)
        if days is None:
            return ratings.with_frame(ratings.frame.copy())
        chosen = rng.choice(len(days), size=round(self.fraction * len(days)), replace=False)
        shifted = days.astype(np.int32)  # astype copies: the input frame stays untouched
        shifted[chosen] += uniform_offsets(self.max_days, len(chosen), rng, nonzero=True)
        return ratings.with_frame(ratings.frame.assign(**{DATE: shifted}))
