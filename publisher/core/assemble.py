"""The one validated way into a Ratings table: finite, on-scale ratings, sane dates, no dup pairs.

Every reader and :meth:`Ratings.from_columns` (the library's way in) hand parallel
columns to :func:`assemble`, which validates them in compiled passes (no 100M-row
temporaries), numbers users and items and builds the :class:`Ratings`. A bad row is
named through ``where(i)``: a reader's "file: line N", the library's "row N".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from publisher.core.errors import InputError, show
from publisher.core.jit import njit
from publisher.core.ratings import Ratings, Scale, row_index_dtype

__all__ = [
    "Locate", "as_days", "assemble", "canonical_ids", "first_bad", "first_duplicate",
    "id_positions",
]  # fmt: skip

logger = logging.getLogger(__name__)


_MIN_DATE = np.datetime64("1900-01-01", "D")

Locate = Callable[[int], str]


def canonical_ids(ids: np.ndarray | pd.Series) -> pd.Index:
    """Ids as text, compared as the readers compare them.

    ``7`` and the integer 7 are one item, ``007`` another: an integer id's text is its
    canonical decimal form.
    """
    return pd.Index(pd.Series(np.asarray(ids), dtype=str).str.strip())


def id_positions(table: np.ndarray, wanted: np.ndarray | pd.Series) -> np.ndarray:
    """Each of ``wanted``'s row in ``table`` (-1: absent), ids compared as text."""
    return np.asarray(canonical_ids(table).get_indexer(canonical_ids(wanted)), dtype=np.int64)


def first_bad(mask: np.ndarray) -> int | None:
    """Index of the first True in ``mask``, or None."""
    bad = np.flatnonzero(mask)
    return int(bad[0]) if bad.size else None


@njit
def _first_off_scale(ratings: np.ndarray, lo: float, hi: float, step: float) -> int:
    """Index of the first rating off the scale, or -1 (no 100M-row temporaries)."""
    for k in range(len(ratings)):
        r = np.float64(ratings[k])
        pos = (r - lo) / step
        if r < lo - 1e-9 or r > hi + 1e-9 or abs(pos - np.rint(pos)) >= 1e-6:
            return k
    return -1


@njit
def _duplicates(
    users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, order: np.ndarray
) -> tuple:
    """Rows repeating an earlier (user, item) pair, in O(rows + users + items).

    ``order`` is scratch space, one slot per row (int32 below 2**31 rows: at 100M rows
    int64 would add 400 MB to the read's peak). Returns the keep-last mask, the first
    repeating row in file order and the row it repeats (-1, -1 when there is none).
    """
    count = np.zeros(n_users + 1, np.int64)
    for u in users:
        count[u + 1] += 1
    for u in range(n_users):
        count[u + 1] += count[u]
    fill = count[:-1].copy()
    for row in range(len(users)):
        order[fill[users[row]]] = row
        fill[users[row]] += 1
    stamp = np.full(n_items, -1, np.int64)
    last_row = np.empty(n_items, np.int64)
    keep = np.ones(len(users), np.bool_)
    first_dup, first_of = -1, -1
    for k in range(len(order)):
        row = order[k]
        u, i = users[row], items[row]
        if stamp[i] == u:
            keep[last_row[i]] = False
            if first_dup < 0 or row < first_dup:
                first_dup, first_of = row, last_row[i]
        stamp[i] = u
        last_row[i] = row
    return keep, first_dup, first_of


# ---------------------------------------------------------------- shared checks
def _infer_scale(ratings: np.ndarray) -> Scale:
    lo, hi = float(ratings.min()), float(ratings.max())
    for step in (1.0, 0.5, 0.25, 0.1, 0.05, 0.01):
        candidate = Scale(lo, lo + step * round((hi - lo) / step), step)
        if candidate.on_scale(ratings).all():
            logger.warning(
                "no rating scale declared: inferred %s from the data; pass --scale to declare it",
                candidate,
            )
            return candidate
    raise InputError("cannot infer a rating scale from the data; pass --scale MIN:MAX:STEP")


def as_days(dates: np.ndarray | pd.Series, where: Locate) -> np.ndarray:
    """Dates as int days since 1970-01-01, from datetimes, ISO text or day numbers.

    Integers are taken as day numbers (not Unix seconds: a datetime column is converted
    from its own unit, so a timestamp never becomes day 860,487,680).

    Raises
    ------
    InputError
        For a value that is not a date, naming its row through ``where``.
    """
    series = pd.Series(dates)
    if pd.api.types.is_datetime64_any_dtype(series):
        if series.dt.tz is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        i = first_bad(series.isna().to_numpy())
        if i is not None:
            raise InputError(f"{where(i)}: missing date")
        return series.to_numpy().astype("datetime64[D]").astype(np.int64)
    if pd.api.types.is_integer_dtype(series):
        return series.to_numpy(np.int64)
    parsed = pd.to_datetime(series.astype(str), format="ISO8601", errors="coerce", utc=True)
    i = first_bad(parsed.isna().to_numpy())
    if i is not None:
        raise InputError(f"{where(i)}: unparseable date {show(str(series.iloc[i]))}")
    return parsed.dt.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64)


def assemble(
    users: np.ndarray | pd.Series,
    items: np.ndarray | pd.Series,
    ratings: np.ndarray,
    days: np.ndarray | None,
    where: Locate,
    *,
    scale: Scale | None,
    duplicates: str,
    source: str,
) -> Ratings:
    """Validate parallel columns and build the table; ``where(i)`` names row i's place."""
    i = first_bad(~np.isfinite(ratings))
    if i is not None:
        raise InputError(f"{where(i)}: rating {ratings[i]:g} is not a finite number")
    inferred = scale is None
    if scale is None:
        scale = _infer_scale(ratings)
    i = _first_off_scale(ratings, scale.minimum, scale.maximum, scale.step)
    if i >= 0:
        raise InputError(
            f"{where(i)}: rating {ratings[i]:g} is off the scale {scale} (MIN:MAX:STEP)"
        )
    if days is not None:
        today = (np.datetime64(dt.datetime.now(dt.UTC).date(), "D") - np.datetime64(0, "D")).astype(
            int
        )
        lo = int((_MIN_DATE - np.datetime64(0, "D")).astype(int))
        i = first_bad(days < lo)
        if i is not None:
            raise InputError(f"{where(i)}: date before 1900-01-01")
        i = first_bad(days > today + 1)
        if i is not None:
            raise InputError(f"{where(i)}: date in the future")
    user_codes, user_ids = _factorize(_as_ids(users))
    item_codes, item_ids = _factorize(_as_ids(items))
    keep, dup, first = _find_duplicates(user_codes, item_codes, len(user_ids), len(item_ids))
    if dup >= 0:
        if duplicates == "error":
            raise _duplicate_error(where, dup, first)
        logger.warning(
            "dropped %d duplicate (user, item) ratings, kept the last", int((~keep).sum())
        )
        user_codes, item_codes, ratings = user_codes[keep], item_codes[keep], ratings[keep]
        days = days[keep] if days is not None else None
    return Ratings.from_codes(
        user_codes,
        np.asarray(user_ids),
        item_codes,
        np.asarray(item_ids),
        ratings,
        days,
        scale=scale,
        source=source,
        handover=True,  # the readers' own arrays, not kept by anybody else
        scale_inferred=inferred,
    )


def check_filled(ratings: np.ndarray, scale: Scale, label: str) -> None:
    """Refuse a declared scale whose upper half no rating reaches.

    A scale of 1:10:1 declared for 1-5 star data would let randomized response and the
    histograms publish ratings of 6 to 10 that nobody gave: an error, with the range seen.
    """
    low, high = float(ratings.min()), float(ratings.max())
    half = scale.minimum + (scale.maximum - scale.minimum) / 2
    if scale.maximum > scale.minimum and high <= half:
        raise InputError(
            f"{label}: no rating above {half:g}, the middle of the declared scale {scale}; "
            f"the ratings run from {low:g} to {high:g}: declare the scale they use "
            f"(e.g. --scale {low:g}:{high:g}:{scale.step:g})"
        )


def _find_duplicates(
    user_codes: np.ndarray, item_codes: np.ndarray, n_users: int, n_items: int
) -> tuple[np.ndarray, int, int]:
    order = np.empty(len(user_codes), row_index_dtype(len(user_codes)))
    return _duplicates(user_codes, item_codes, n_users, n_items, order)


def _duplicate_error(where: Locate, dup: int, first: int) -> InputError:
    return InputError(
        f"{where(dup)}: second rating of the same item by the same user "
        f"(first at {where(first).rsplit(': ', 1)[-1]}); "
        "pass --duplicates keep-last to keep the last one"
    )


def first_duplicate(users: np.ndarray, items: np.ndarray, rows: np.ndarray, locate: Locate) -> None:
    """Raise on the first repeated (user, item) pair among these rows, if any.

    ``rows`` holds each row's index in the file, which ``locate`` turns into a place.
    """
    user_codes, user_ids = _factorize(_as_ids(users))
    item_codes, item_ids = _factorize(_as_ids(items))
    _, dup, first = _find_duplicates(user_codes, item_codes, len(user_ids), len(item_ids))
    if dup >= 0:
        raise _duplicate_error(lambda i: locate(int(rows[i])), dup, first)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (int32) by sorted id, and the ids.

    Non-negative integer ids in a compact range (Netflix: customers below 2.7M) take a
    dense lookup table, O(n) and lean; anything else goes through pandas' hash table.
    """
    if values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi < max(4 * len(values), 1 << 22):
            present = np.zeros(hi + 1, dtype=bool)
            present[values] = True
            ids = np.flatnonzero(present)
            lookup = np.full(hi + 1, -1, dtype=np.int32)
            lookup[ids] = np.arange(len(ids), dtype=np.int32)
            return lookup[values], ids
    codes, ids = pd.factorize(values, sort=True)
    return codes.astype(np.int32), np.asarray(ids)


#: An id written as an integer in canonical form: ASCII digits, no leading zero, no "-0".
#: Only then is reading it as a number a bijection (``007`` and ``7``, ``-0`` and ``0``,
#: Arabic-Indic and ASCII digits would otherwise become one customer or one item).
CANONICAL_INTEGER = r"0|-?[1-9][0-9]{0,17}"


def _as_ids(values: np.ndarray | pd.Series) -> np.ndarray:
    """Integer ids when every id is a canonical integer (they sort numerically), else text.

    Examples
    --------
    >>> _as_ids(np.array(["7", "12"])).tolist()
    [7, 12]
    >>> _as_ids(np.array(["7", "007", "-0", "0"])).tolist()
    ['7', '007', '-0', '0']
    """
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values if values.dtype.itemsize >= 4 else values.astype(np.int64)
    text = pd.Series(values, dtype=str)
    if text.str.fullmatch(CANONICAL_INTEGER).all():
        return text.astype(np.int64).to_numpy()
    return text.to_numpy(dtype=object)
