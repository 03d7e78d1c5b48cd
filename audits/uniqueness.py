"""Uniqueness audit: how many users are singled out by m of their own ratings.

For each m, a sample of users is drawn, each known by m of their own items chosen
at random; we count the users that match on all m items (a) as items only,
(b) with the exact ratings, (c) with exact ratings and dates within a tolerance
(3 days by default). A user no one else matches is unique; the number of users
matching (the target included) is the size of the anonymity set.

This is measured on one table at a time (the original, then the release), from
that table's own records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audits._index import IndexedTable
from audits._kernels import anonymity_sets
from audits.stats import Risk, wilson_interval
from publisher.core.adversary import DEFAULT_KNOWN_ITEMS, DEFAULT_TARGETS
from publisher.core.ratings import Ratings

__all__ = ["BUCKETS", "UniquenessAudit", "UniquenessResult"]

#: Anonymity-set size buckets reported: (label, lowest, highest).
BUCKETS = (("1", 1, 1), ("2-5", 2, 5), ("6-20", 6, 20), ("21-100", 21, 100), (">100", 101, None))
MODES = ("items", "ratings", "ratings_dates")


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
        Anonymity-set sizes per sampled user and mode (items, ratings, ratings and dates).
    has_dates : bool
    day_tolerance : int
    """

    dataset: str
    known_items: int
    eligible: int
    sizes: np.ndarray
    has_dates: bool
    day_tolerance: int

    def unique_fraction(self, mode: str) -> float | None:
        """Fraction of sampled users that are unique under ``mode``."""
        if not len(self.sizes) or (mode == "ratings_dates" and not self.has_dates):
            return None
        return float((self.sizes[:, MODES.index(mode)] == 1).mean())

    def risk(self, mode: str, confidence_level: float = 0.95) -> Risk | None:
        """The unique fraction under ``mode`` with its Wilson interval; None if unmeasurable."""
        fraction = self.unique_fraction(mode)
        if fraction is None:
            return None
        unique = int((self.sizes[:, MODES.index(mode)] == 1).sum())
        return Risk(fraction, wilson_interval(unique, len(self.sizes), confidence_level))

    def to_dict(self, confidence_level: float = 0.95) -> dict[str, Any]:
        """The report.json ``uniqueness`` entry."""
        n = len(self.sizes)
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "known_items": self.known_items,
            "users": n,
            "eligible_users": self.eligible,
            "date_tolerance_days": self.day_tolerance if self.has_dates else None,
        }
        for k, mode in enumerate(MODES):
            fraction = self.unique_fraction(mode)
            out[f"unique_{mode}"] = fraction
            if fraction is None:
                out[f"unique_{mode}_ci"] = None
                out[f"anonymity_sets_{mode}"] = None
                continue
            unique = int((self.sizes[:, k] == 1).sum())
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
        self._results: list[UniquenessResult] | None = None

    def evaluate(self) -> UniquenessAudit:
        """Sample users and count their anonymity sets; returns ``self``."""
        table = self.table
        index = table.by_record
        per_record = index.support()
        item_support = table.by_item.support()
        results = []
        for m in self.known_items:
            pool = np.flatnonzero(per_record >= m)
            users = self.rng.choice(pool, size=min(self.n_users, len(pool)), replace=False)
            known = np.zeros((len(users), m), dtype=np.int32)
            for row, record in enumerate(users):
                own = index.other[index.ptr[record] : index.ptr[record + 1]]
                chosen = self.rng.choice(own, size=m, replace=False)
                # rarest first: the scan walks the raters of the first item only
                known[row] = chosen[np.argsort(item_support[chosen], kind="stable")]
            sizes = anonymity_sets(
                table.by_item.ptr,
                table.by_item.other,
                index.ptr,
                index.other,
                index.rating,
                index.day,
                users.astype(np.int64),
                known,
                self.day_tolerance,
                index.has_dates,
            )
            results.append(
                UniquenessResult(
                    self.dataset, m, len(pool), sizes, index.has_dates, self.day_tolerance
                )
            )
        self._results = results
        return self

    def results(self) -> list[UniquenessResult]:
        """One result per m, in the order given."""
        if self._results is None:
            raise RuntimeError("call evaluate() before results()")
        return self._results
