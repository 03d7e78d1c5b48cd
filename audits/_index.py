"""Compact posting indexes over a ratings table, built in O(n) with counting sort.

The item index is what the linkage attack scans: for each item, the records that
rated it with their rating (as a position on the scale, uint8) and day (int32):
9 bytes per rating plus one int64 offset per item. The user index (the same
layout by record) serves the auxiliary-information draw and the uniqueness audit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numba
import numpy as np

from publisher.core.ratings import DATE, ITEM, RATING, USER, Ratings, present_codes

__all__ = ["IndexedTable", "PostingIndex", "Records", "build_index", "item_weights", "records_of"]


@numba.njit(cache=True)
def _postings(
    first: np.ndarray,
    n_first: int,
    key: np.ndarray,
    n_keys: int,
    other: np.ndarray,
    rating: np.ndarray,
    day: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR postings grouped by ``key``, ascending by ``first`` within a key.

    Two counting sorts in one pass each: rows are visited in stable ``first`` order
    and dealt straight into their key's slots, so no permutation of the whole table
    is materialized beyond one int32 row order (4 bytes per rating).
    """
    n = len(key)
    start = np.zeros(n_first + 1, dtype=np.int64)
    for f in first:
        start[f + 1] += 1
    for f in range(n_first):
        start[f + 1] += start[f]
    by_first = np.empty(n, dtype=np.int32)
    for row in range(n):
        f = first[row]
        by_first[start[f]] = row
        start[f] += 1
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    for k in key:
        ptr[k + 1] += 1
    for k in range(n_keys):
        ptr[k + 1] += ptr[k]
    fill = ptr[:-1].copy()
    out_other = np.empty(n, dtype=np.int32)
    out_rating = np.empty(n, dtype=np.uint8)
    out_day = np.empty(n, dtype=np.int32)
    for r in by_first:
        slot = key[r]
        p = fill[slot]
        fill[slot] += 1
        out_other[p] = other[r]
        out_rating[p] = rating[r]
        out_day[p] = day[r]
    return ptr, out_other, out_rating, out_day


@dataclass(frozen=True)
class PostingIndex:
    """CSR postings of one table, by item or by record.

    Attributes
    ----------
    ptr : numpy.ndarray
        int64 offsets: key ``k``'s postings are ``ptr[k]:ptr[k + 1]``.
    other : numpy.ndarray
        int32: the record (item index) or item (record index) of each posting.
    rating : numpy.ndarray
        uint8 position of the rating on the scale.
    day : numpy.ndarray
        int32 day numbers (zeros when the table has no dates).
    has_dates : bool
    """

    ptr: np.ndarray
    other: np.ndarray
    rating: np.ndarray
    day: np.ndarray
    has_dates: bool

    @property
    def nbytes(self) -> int:
        """Memory held by the index arrays."""
        return sum(a.nbytes for a in (self.ptr, self.other, self.rating, self.day))

    def support(self) -> np.ndarray:
        """Number of postings per key."""
        return np.diff(self.ptr)


@dataclass(frozen=True)
class Records:
    """The users present in a table, numbered 0..n-1 (records).

    Attributes
    ----------
    codes : numpy.ndarray
        User code of each record (ascending).
    of_code : numpy.ndarray
        Record number of each user code, -1 where the user is absent.
    """

    codes: np.ndarray
    of_code: np.ndarray

    @property
    def n(self) -> int:
        """Number of records."""
        return len(self.codes)


def records_of(ratings: Ratings) -> Records:
    """Number the users present in ``ratings`` without sorting the rows."""
    codes = present_codes(ratings.frame[USER].to_numpy(), len(ratings.user_ids)).astype(np.int32)
    of_code = np.full(len(ratings.user_ids), -1, dtype=np.int32)
    of_code[codes] = np.arange(len(codes), dtype=np.int32)
    return Records(codes, of_code)


def build_index(ratings: Ratings, records: Records, *, by: str) -> PostingIndex:
    """Build the posting index of ``ratings`` by ``item`` or by ``record``.

    Parameters
    ----------
    ratings : Ratings
    records : Records
        From :func:`records_of` on the same table.
    by : {"item", "record"}

    Returns
    -------
    PostingIndex
        Within a key, postings are sorted (records within an item, items within a
        record), so the index is the same whatever the row order of the table.
    """
    frame = ratings.frame
    rec = records.of_code[frame[USER].to_numpy()]
    items = frame[ITEM].to_numpy()
    rating = ratings.scale.to_index(frame[RATING].to_numpy()).astype(np.uint8)
    has_dates = DATE in frame.columns
    if has_dates:
        day = frame[DATE].to_numpy().astype(np.int32, copy=False)
    else:
        day = np.zeros(len(frame), np.int32)
    n_items = len(ratings.item_ids)
    if by == "item":
        # Rows in record order, dealt by item: postings ascend by record within an item,
        # so the index (and every float sum over it) does not depend on row order.
        ptr, other, rating, day = _postings(rec, records.n, items, n_items, rec, rating, day)
    elif by == "record":
        # Rows in item order, dealt by record: items ascend within each record.
        ptr, other, rating, day = _postings(items, n_items, rec, records.n, items, rating, day)
    else:
        raise ValueError(f"by must be 'item' or 'record', got {by!r}")
    return PostingIndex(ptr=ptr, other=other, rating=rating, day=day, has_dates=has_dates)


def item_weights(support: np.ndarray) -> np.ndarray:
    """Scoreboard-RH item weights 1 / ln(max(|supp(i)|, 2)); 0 for unrated items.

    Examples
    --------
    >>> item_weights(np.array([0, 1, 2, 100])).round(4).tolist()
    [0.0, 1.4427, 1.4427, 0.2171]
    """
    support = np.asarray(support)
    weights = 1.0 / np.log(np.maximum(support, 2).astype(np.float64))
    return np.where(support > 0, weights, 0.0)


class IndexedTable:
    """A ratings table with its records and posting indexes, built once on demand.

    Parameters
    ----------
    ratings : Ratings
    """

    def __init__(self, ratings: Ratings) -> None:
        self.ratings = ratings

    @functools.cached_property
    def records(self) -> Records:
        """The users present, numbered."""
        return records_of(self.ratings)

    @functools.cached_property
    def by_item(self) -> PostingIndex:
        """Postings by item (what the linkage attack scans)."""
        return build_index(self.ratings, self.records, by="item")

    @functools.cached_property
    def by_record(self) -> PostingIndex:
        """Postings by record, items ascending (aux draws, uniqueness)."""
        return build_index(self.ratings, self.records, by="record")

    def drop_indexes(self, keep: tuple[str, ...] = ()) -> None:
        """Free the posting indexes but those named in ``keep`` (rebuilt on demand)."""
        for name in (
            "by_item", "by_record", "weights", "length_buckets", "cosine_scale",
            "_likelihood_slots", "_likelihood_background",
        ):  # fmt: skip
            if name not in keep:
                self.__dict__.pop(name, None)

    @functools.cached_property
    def length_buckets(self) -> tuple[np.ndarray, ...]:
        """Records by length, for the centred scorer (audits.centered).

        Ratings per record (float64: the kernel multiplies them), records sorted by
        (length, record) (int32), the distinct lengths ascending and how many records
        have each (int64), and each record's position among the distinct lengths
        (int32).
        """
        lengths = self.by_record.support().astype(np.int64)
        by_length = np.lexsort((np.arange(len(lengths)), lengths)).astype(np.int32)
        distinct, slot, count = np.unique(lengths, return_inverse=True, return_counts=True)
        return (
            lengths.astype(np.float64),
            by_length,
            distinct.astype(np.int64),
            count.astype(np.int64),
            slot.astype(np.int32),
        )

    @functools.cached_property
    def weights(self) -> np.ndarray:
        """Scoreboard-RH item weights over this table's support."""
        return item_weights(self.by_item.support())
