"""The Ratings table: the one data model every layer shares.

A :class:`Ratings` holds a compact pandas frame of integer codes plus the lookup
arrays that map codes back to the original identifiers. Original user ids never
leave the process except through the keyed pseudonymizer
(:class:`policies.steps.PseudonymizeUsers`); item ids are public and are released
as they are.

This module imports nothing from ``policies`` or ``audits``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from publisher.core.errors import InternalError

__all__ = [
    "EPOCH", "Ratings", "Scale", "days_to_dates", "present_codes", "row_chunks",
    "row_index_dtype", "sorted_unique",
]  # fmt: skip

#: Day 0 of the ``date`` column (int32 days since the Unix epoch, UTC).
EPOCH = np.datetime64("1970-01-01", "D")

USER, ITEM, RATING, DATE = "user", "item", "rating", "date"

#: The most values a rating scale may have.
MAX_SCALE_VALUES = 10_001


@dataclass(frozen=True)
class Scale:
    """The rating scale: the allowed values are ``minimum + k * step`` up to ``maximum``.

    Parameters
    ----------
    minimum, maximum : float
        The lowest and highest rating.
    step : float
        The distance between neighbouring ratings (1 for stars, 0.5 for half stars).

    Examples
    --------
    >>> Scale(0.5, 5.0, 0.5).values().tolist()
    [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]
    """

    minimum: float = 1.0
    maximum: float = 5.0
    step: float = 1.0

    def __post_init__(self) -> None:
        finite = all(math.isfinite(v) for v in (self.minimum, self.maximum, self.step))
        if not finite or self.step <= 0 or self.maximum < self.minimum:
            raise ValueError(
                f"rating scale must have finite min <= max and step > 0, got "
                f"{self.minimum}:{self.maximum}:{self.step}"
            )
        span = (self.maximum - self.minimum) / self.step
        # Histograms and randomized response hold one slot per value; ratings are float32.
        if span + 1 > MAX_SCALE_VALUES or max(abs(self.minimum), abs(self.maximum)) > 1e6:
            raise ValueError(
                f"rating scale {self.minimum:g}:{self.maximum:g}:{self.step:g}: at most "
                f"{MAX_SCALE_VALUES:,} values, each within -1,000,000 to 1,000,000"
            )
        if abs(span - round(span)) > 1e-6:
            raise ValueError(
                f"rating scale {self.minimum}:{self.maximum}:{self.step}: "
                "max - min must be a whole number of steps"
            )

    @property
    def k(self) -> int:
        """Number of distinct ratings on the scale."""
        return round((self.maximum - self.minimum) / self.step) + 1

    def values(self) -> np.ndarray:
        """All ratings on the scale, ascending, as float32."""
        return (self.minimum + self.step * np.arange(self.k)).astype(np.float32)

    def to_index(self, ratings: np.ndarray) -> np.ndarray:
        """Map ratings to their position 0..k-1 on the scale (values must be on it)."""
        return np.rint((np.asarray(ratings, np.float64) - self.minimum) / self.step).astype(
            np.int16
        )

    def on_scale(self, ratings: np.ndarray) -> np.ndarray:
        """Boolean mask of the ratings that lie on the scale."""
        r = np.asarray(ratings, np.float64)
        pos = (r - self.minimum) / self.step
        with np.errstate(invalid="ignore"):
            return (
                np.isfinite(r)
                & (r >= self.minimum - 1e-9)
                & (r <= self.maximum + 1e-9)
                & (np.abs(pos - np.rint(pos)) < 1e-6)
            )

    def __str__(self) -> str:
        return f"{self.minimum:g}:{self.maximum:g}:{self.step:g}"

    @classmethod
    def parse(cls, text: str) -> Scale:
        """Parse ``MIN:MAX:STEP`` (for example ``1:5:1`` or ``0.5:5:0.5``)."""
        parts = text.split(":")
        try:
            if len(parts) != 3:
                raise ValueError
            minimum, maximum, step = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"rating scale must be MIN:MAX:STEP, got {text!r}") from None
        return cls(minimum, maximum, step)


@dataclass(frozen=True)
class Ratings:
    """A ratings table with compact integer codes and its lookup arrays.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``user`` (int32 code), ``item`` (int32 code), ``rating`` (float32) and
        optionally ``date`` (int32 days since 1970-01-01). One row per (user, item).
    user_ids : numpy.ndarray
        ``user_ids[code]`` is the user's identifier: the original id until the
        pseudonymizer replaces it, a pseudonym afterwards. Never written out unless
        ``pseudonymized`` is true.
    item_ids : numpy.ndarray
        ``item_ids[code]`` is the item's public identifier.
    scale : Scale
        The rating scale (metadata: the frame only holds values on it).
    pseudonymized : bool
        Whether ``user_ids`` hold keyed pseudonyms rather than original ids.
    source : str
        A short, path-free description of where the data came from.
    scale_inferred : bool
        Whether the scale was inferred from the ratings rather than declared (by the
        format or the organizer): then it is a fact of the data, not a public one.

    Notes
    -----
    Codes index the lookup arrays; steps that drop users or items keep the arrays as
    they are, so codes stay stable through a pipeline. Use :attr:`n_users` and
    :attr:`n_items` for the counts actually present.
    """

    frame: pd.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    scale: Scale = field(default_factory=Scale)
    pseudonymized: bool = False
    source: str = ""
    scale_inferred: bool = False

    def __post_init__(self) -> None:
        missing = {USER, ITEM, RATING} - set(self.frame.columns)
        if missing:
            raise InternalError(f"Ratings frame lacks columns {sorted(missing)}")

    # --- shape -------------------------------------------------------------------
    @property
    def has_dates(self) -> bool:
        """Whether the table carries a ``date`` column."""
        return DATE in self.frame.columns

    @property
    def n_ratings(self) -> int:
        """Number of rows (ratings)."""
        return len(self.frame)

    @property
    def n_users(self) -> int:
        """Number of distinct users present."""
        return int(self.frame[USER].nunique())

    @property
    def n_items(self) -> int:
        """Number of distinct items present."""
        return int(self.frame[ITEM].nunique())

    def counts(self) -> dict[str, int]:
        """Rows, users and items present, for datasheets and reports."""
        return {"ratings": self.n_ratings, "users": self.n_users, "items": self.n_items}

    def fingerprint(self) -> str:
        """SHA-256 over the table's columns, ids and scale: equal tables, equal prints.

        Used to check that results drawn from one table (the unprotected audit) are
        only reused on the same table. About 1 s per 100M ratings, computed once per
        table (a table never changes).
        """
        return self._fingerprint

    @functools.cached_property
    def _fingerprint(self) -> str:
        digest = hashlib.sha256(str(self.scale).encode())
        for column in self.frame.columns:
            digest.update(column.encode())
            digest.update(np.ascontiguousarray(self.frame[column].to_numpy()).tobytes())
        for ids in (self.user_ids, self.item_ids):
            digest.update(np.asarray(ids).astype(str).tobytes())
        return digest.hexdigest()

    def with_frame(self, frame: pd.DataFrame, **changes: object) -> Ratings:
        """Return a copy with a new frame (and optionally other fields replaced)."""
        return dataclasses.replace(self, frame=frame, **changes)  # type: ignore[arg-type]

    # --- construction --------------------------------------------------------------
    @classmethod
    def from_columns(
        cls,
        users: np.ndarray | pd.Series,
        items: np.ndarray | pd.Series,
        ratings: np.ndarray | pd.Series,
        days: np.ndarray | pd.Series | None = None,
        *,
        scale: Scale | None = None,
        source: str = "",
    ) -> Ratings:
        """Build a validated table from parallel columns: the library's way in.

        The columns are checked exactly as a file's are (:func:`publisher.core.assemble.
        assemble`): finite ratings on the scale, dates from 1900 to today, no user rating
        an item twice. Users and items are coded by sorted original id so that codes do
        not depend on row order.

        Parameters
        ----------
        users, items : array-like
            Original identifiers (integers or text).
        ratings : array-like
            Ratings on ``scale``.
        days : array-like or None
            Dates: datetimes, ISO 8601 text, or day numbers since 1970-01-01; None when
            the data has no dates.
        scale : Scale, optional
            Defaults to 1-5 stars.
        source : str
            A path-free description of the source.

        Returns
        -------
        Ratings

        Raises
        ------
        InputError
            Naming the first bad row (``row N``, counted from 0).

        Examples
        --------
        >>> Ratings.from_columns(["a", "b"], [1, 1], [4, 7], scale=Scale(1, 5, 1))
        Traceback (most recent call last):
        ...
        publisher.core.errors.InputError: row 1: rating 7 is off the scale 1:5:1 (MIN:MAX:STEP)
        """
        from publisher.core.assemble import as_days, assemble  # it builds this class

        def where(i: int) -> str:
            return f"row {i}"

        values = np.asarray(pd.to_numeric(pd.Series(ratings), errors="raise"), dtype=np.float64)
        return assemble(
            np.asarray(users),
            np.asarray(items),
            values,
            None if days is None else as_days(days, where),
            where,
            scale=scale or Scale(1, 5, 1),
            duplicates="error",
            source=source,
        )

    @classmethod
    def from_codes(
        cls,
        user_codes: np.ndarray,
        user_ids: np.ndarray,
        item_codes: np.ndarray,
        item_ids: np.ndarray,
        ratings: np.ndarray | pd.Series,
        days: np.ndarray | pd.Series | None = None,
        *,
        scale: Scale | None = None,
        source: str = "",
        handover: bool = False,
        scale_inferred: bool = False,
    ) -> Ratings:
        """Build a table from codes already assigned (``user_ids[code]`` is the id).

        With ``handover=True`` the caller gives up the column arrays: those already of
        the column's dtype become the table's columns as they are (a reader's 100M-row
        columns are not copied once more); the caller must not modify them afterwards.
        """
        data = {
            USER: np.asarray(user_codes, dtype=np.int32),
            ITEM: np.asarray(item_codes, dtype=np.int32),
            RATING: np.asarray(ratings, dtype=np.float32),
        }
        if days is not None:
            data[DATE] = np.asarray(days, dtype=np.int32)
        if handover:  # a read-only view (of Arrow memory, say) is copied all the same
            data = {name: np.require(v, requirements="W") for name, v in data.items()}
        return cls(
            # copy=False also keeps pandas from stacking the int32 columns into one
            # block, which copies them all (1.2 GB at 100M ratings)
            frame=pd.DataFrame(data, copy=not handover),
            user_ids=np.asarray(user_ids),
            item_ids=np.asarray(item_ids),
            scale=scale or Scale(),
            source=source,
            scale_inferred=scale_inferred,
        )


def row_chunks(n: int, size: int = 8_000_000) -> list[tuple[int, int]]:
    """Bounds of consecutive ranges of at most ``size`` rows covering ``n`` rows.

    Per-row work done chunk by chunk keeps its temporaries at 8M rows instead of the
    table's 100M; a generator's draws continue across calls, so drawing chunk by chunk
    gives the same numbers as one call (for uniform and normal draws, not for bounded
    integers).

    Examples
    --------
    >>> row_chunks(5, size=2)
    [(0, 2), (2, 4), (4, 5)]
    """
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def row_index_dtype(n: int) -> type[np.signedinteger]:
    """int32 for row numbers of a table of ``n`` rows when they fit, else int64.

    At 100M rows an int32 row order is 400 MB instead of 800.
    """
    return np.int32 if n < 2**31 else np.int64


def present_codes(codes: np.ndarray, n: int) -> np.ndarray:
    """The distinct codes in ``codes`` (all in ``[0, n)``), ascending, in O(len + n).

    Examples
    --------
    >>> present_codes(np.array([3, 1, 3]), 5).tolist()
    [1, 3]
    """
    return np.flatnonzero(np.bincount(codes, minlength=n))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values, ascending, by sorting (numpy 2's hash-based unique is slower here).

    Examples
    --------
    >>> sorted_unique(np.array([5, 1, 5, 2])).tolist()
    [1, 2, 5]
    """
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def days_to_dates(days: np.ndarray | pd.Series) -> np.ndarray:
    """Convert int32 day numbers to ``datetime64[D]``.

    Examples
    --------
    >>> days_to_dates(np.array([0, 13149])).astype(str).tolist()
    ['1970-01-01', '2006-01-01']
    """
    return EPOCH + np.asarray(days, dtype="timedelta64[D]")
