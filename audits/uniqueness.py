"""Uniqueness audit: how many users are singled out by m of their own ratings.

For each m, a sample of users is drawn, each known by m of their own items chosen
at random; we count the users that match on all m items (a) as items only,
(b) with the exact ratings, (c) with exact ratings and dates within a tolerance
(3 days by default), (d) as items and the released period of each date: what an
attacker matches against a release whose dates are coarsened (month, year; the day
itself when they are exact; items alone without dates). A user no one else matches is
unique; the number of users matching (the target included) is the size of the
anonymity set.

On a release the knowledge is drawn as the attacker meets it: from the target's
original ratings of items the release lists (items are public), with the original
values and dates. Knowledge of items the policy deleted would hide customers from the
audit, not from an attacker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audits._index import IndexedTable
from audits._kernels import known_values, match_counts
from audits.stats import Risk, wilson_interval
from publisher.core.adversary import (
    CONFIDENCE_LEVEL,
    DEFAULT_KNOWN_ITEMS,
    DEFAULT_TARGETS,
    MATCH_MODES,
)
from publisher.core.periods import PERIODS, period_starts
from publisher.core.ratings import Ratings

__all__ = ["BUCKETS", "UniquenessAudit", "UniquenessResult"]

#: Anonymity-set size buckets reported: (label, lowest, highest).
BUCKETS = (("1", 1, 1), ("2-5", 2, 5), ("6-20", 6, 20), ("21-100", 21, 100), (">100", 101, None))
MODES = MATCH_MODES


@dataclass
class UniquenessResult:
    """Anonymity sets of the sampled users for one m on one table.

    Attributes
    ----------
    dataset : str
        ``original`` or ``released``.
    known_items : int
    eligible : int
        Users with at least m ratings.
    sizes : int array (n, 3)
        Records matching what the adversary knows, per sampled user and mode (items,
        ratings, ratings and dates).
    has_dates : bool
    day_tolerance : int
    own : bool array (n, 3 + periods), optional
        Whether the user's own record is among the matches (always, on the table the
        knowledge comes from; not necessarily on a release whose values were changed).
    period : str or None
        The period the ``items_period`` mode matches dates by (the release's: set by
        the audit run); None: no dates, items alone.
    """

    dataset: str
    known_items: int
    eligible: int
    sizes: np.ndarray
    has_dates: bool
    day_tolerance: int
    own: np.ndarray | None = None
    period: str | None = "day"

    def _column(self, mode: str) -> int:
        if mode != "items_period":
            return MODES.index(mode)
        if self.period is None or self.sizes.shape[1] <= 3:
            return 0  # no dates to match: the items alone
        return 3 + PERIODS.index(self.period)

    def singled_out(self, mode: str) -> np.ndarray:
        """Per sampled user: exactly one record matches, and it is the user's own."""
        k = self._column(mode)
        unique = self.sizes[:, k] == 1
        return unique if self.own is None else unique & self.own[:, k]

    def unique_fraction(self, mode: str) -> float | None:
        """Fraction of sampled users singled out under ``mode``."""
        if not len(self.sizes) or (mode == "ratings_dates" and not self.has_dates):
            return None
        return float(self.singled_out(mode).mean())

    def risk(self, mode: str, confidence_level: float = CONFIDENCE_LEVEL) -> Risk | None:
        """The unique fraction under ``mode`` with its Wilson interval; None if unmeasurable."""
        fraction = self.unique_fraction(mode)
        if fraction is None:
            return None
        unique = int(self.singled_out(mode).sum())
        return Risk(fraction, wilson_interval(unique, len(self.sizes), confidence_level))

    def to_dict(self, confidence_level: float = CONFIDENCE_LEVEL) -> dict[str, Any]:
        """The report.json ``uniqueness`` entry."""
        n = len(self.sizes)
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "known_items": self.known_items,
            "users": n,
            "eligible_users": self.eligible,
            "date_tolerance_days": self.day_tolerance if self.has_dates else None,
            "period": self.period if self.has_dates else None,
        }
        for mode in MODES:
            k = self._column(mode)
            fraction = self.unique_fraction(mode)
            out[f"unique_{mode}"] = fraction
            if fraction is None:
                out[f"unique_{mode}_ci"] = None
                out[f"anonymity_sets_{mode}"] = None
                continue
            unique = int(self.singled_out(mode).sum())
            out[f"unique_{mode}_ci"] = list(wilson_interval(unique, n, confidence_level))
            sizes = self.sizes[:, k]
            out[f"anonymity_sets_{mode}"] = {
                label: float(((sizes >= lo) & ((sizes <= hi) if hi else True)).mean())
                for label, lo, hi in BUCKETS
            }
        return out


class UniquenessAudit:
    """Fractions of users singled out by m known items, for several m.

    Parameters
    ----------
    ratings : Ratings or IndexedTable
        The table measured.
    dataset : str
        Its label in the report (``original`` or ``released``).
    known_items : sequence of int
        The values of m.
    n_users : int
        Users sampled per m (fewer if fewer have m ratings).
    day_tolerance : int
        Dates within this many days count as the same in mode (c).
    rng : numpy.random.Generator
    reference : Ratings or IndexedTable, optional
        Where the adversary's knowledge comes from, when it is not the table measured:
        for a release, the original data, sharing its codes. A sampled user is then
        known by m of their ORIGINAL ratings (items, true values, true dates), and is
        singled out when exactly one released record matches and it is theirs: noisy
        ratings that are unique but match nothing the adversary knows do not count.
    """

    def __init__(
        self,
        ratings: Ratings | IndexedTable,
        *,
        dataset: str,
        known_items: tuple[int, ...] = DEFAULT_KNOWN_ITEMS,
        n_users: int = DEFAULT_TARGETS,
        day_tolerance: int = 3,
        rng: np.random.Generator,
        reference: Ratings | IndexedTable | None = None,
    ) -> None:
        if n_users < 1:
            raise ValueError(f"n_users must be >= 1, got {n_users}")
        if not known_items or min(known_items) < 1:
            raise ValueError(f"known_items must be positive, got {known_items}")
        self.table = ratings if isinstance(ratings, IndexedTable) else IndexedTable(ratings)
        self.dataset = dataset
        self.known_items = tuple(known_items)
        self.n_users = n_users
        self.day_tolerance = day_tolerance
        self.rng = rng
        self.reference = (
            reference
            if reference is None or isinstance(reference, IndexedTable)
            else IndexedTable(reference)
        )
        self._results: list[UniquenessResult] | None = None

    def evaluate(self) -> UniquenessAudit:
        """Sample users and count the records matching what is known of them; returns ``self``."""
        table = self.table
        source = self.reference or table
        known_index = source.by_record
        scanned = table.by_record
        item_support = table.by_item.support()
        # Eligible: m ratings in the source; for a release, also a record in it.
        present = (
            np.ones(source.records.n, dtype=bool)
            if self.reference is None
            else table.records.of_code[source.records.codes] >= 0
        )
        # Survivor knowledge: on a release, only the items it lists can be known.
        listed = item_support > 0
        if self.reference is None or listed.all():
            known_support = known_index.support()
        else:
            flags = listed[known_index.other].astype(np.int32)
            known_support = np.add.reduceat(flags, known_index.ptr[:-1]) if len(flags) else flags
            known_support = np.where(np.diff(known_index.ptr) > 0, known_support, 0)
        dated = scanned.has_dates and known_index.has_dates
        periods, origin = (
            _period_table(known_index.day, scanned.day)
            if dated
            else (np.zeros((0, 0), np.int64), 0)
        )
        results = []
        for m in self.known_items:
            pool = np.flatnonzero((known_support >= m) & present)
            users = self.rng.choice(pool, size=min(self.n_users, len(pool)), replace=False)
            known = np.zeros((len(users), m), dtype=np.int32)
            for row, record in enumerate(users):
                own = known_index.other[known_index.ptr[record] : known_index.ptr[record + 1]]
                if self.reference is not None:
                    own = own[listed[own]]
                chosen = self.rng.choice(own, size=m, replace=False)
                # rarest first in the table scanned: the scan walks the first item's raters
                known[row] = chosen[np.argsort(item_support[chosen], kind="stable")]
            ratings, days = known_values(
                known_index.ptr,
                known_index.other,
                known_index.rating,
                known_index.day,
                users,
                known,
            )
            own_records = table.records.of_code[source.records.codes[users]].astype(np.int64)
            sizes, own_match = match_counts(
                table.by_item.ptr,
                table.by_item.other,
                scanned.ptr,
                scanned.other,
                scanned.rating,
                scanned.day,
                known,
                ratings,
                days,
                own_records,
                self.day_tolerance,
                dated,
                periods,
                origin,
            )
            results.append(
                UniquenessResult(
                    self.dataset,
                    m,
                    len(pool),
                    sizes,
                    dated,
                    self.day_tolerance,
                    own_match,
                    "day" if dated else None,
                )
            )
        self._results = results
        return self

    def results(self) -> list[UniquenessResult]:
        """One result per m, in the order given."""
        if self._results is None:
            raise RuntimeError("call evaluate() before results()")
        return self._results


def _period_table(*days: np.ndarray) -> tuple[np.ndarray, int]:
    """Each period's first day for every day from the earliest to the latest of ``days``."""
    lo = min((int(d.min()) for d in days if len(d)), default=0)
    hi = max((int(d.max()) for d in days if len(d)), default=0)
    span = np.arange(lo, hi + 1)
    return np.stack([period_starts(span, p).astype(np.int64) for p in PERIODS]), lo
