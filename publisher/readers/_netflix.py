"""A compiled (numba) one-pass parser of the Netflix Prize text format.

It reads the bytes of ``MovieID:`` / ``CustomerID,Rating,YYYY-MM-DD`` lines into
columns at a few hundred MB/s, and on the first malformed line stops and reports
which line and why; :mod:`publisher.readers` turns that into the file-and-line message.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "BAD_DATE", "BAD_LINE", "BAD_RATING", "ID_RANGE", "LEADING_ZERO", "NO_MOVIE", "OK",
    "line_of_row", "parse_netflix",
]  # fmt: skip

OK, BAD_LINE, BAD_DATE, NO_MOVIE, BAD_RATING, ID_RANGE, LEADING_ZERO = 0, 1, 2, 3, 4, 5, 6


@numba.njit(cache=True)
def _days_from_civil(y: int, m: int, d: int) -> int:
    # H. Hinnant, "chrono-Compatible Low-Level Date Algorithms" (days_from_civil).
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@numba.njit(cache=True)
def _month_days(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


@numba.njit(cache=True)
def _push(values: np.ndarray, n: int, value: int) -> tuple[np.ndarray, int]:
    """Append to a growable array: (array, new length)."""
    if n == len(values):
        grown = np.empty(2 * len(values), values.dtype)
        grown[:n] = values
        values = grown
    values[n] = value
    return values, n + 1


@numba.njit(cache=True)
def parse_netflix(
    buf: np.ndarray, movie: np.ndarray, user: np.ndarray, rating: np.ndarray, day: np.ndarray
) -> tuple:
    """Parse the whole buffer into the given column arrays (one slot per line at least).

    The id columns may be int32 (a quarter of the memory of int64 text ids at 100M
    rows): an id that does not fit stops the parse with ``ID_RANGE`` and the caller
    parses again into int64 columns.

    Returns
    -------
    (n, status, bad_line, skips)
        Rows written, the status (one of the module's codes), the 0-based line where
        parsing stopped, and for every line that is not a rating (movie headers, blank
        lines) the number of rows before it: row k is on line
        ``k + count(skips <= k)`` (see :func:`line_of_row`), so no per-row line
        number is kept.
    """
    id_max = np.iinfo(user.dtype).max
    movie_max = np.iinfo(movie.dtype).max
    skips = np.empty(1024, np.int64)
    n_skips = 0
    n = 0
    current = -1
    line = 0
    i = 0
    size = len(buf)
    while i < size:
        start = i
        while i < size and buf[i] != 10:
            i += 1
        end = i
        i += 1  # past the newline
        while end > start and (buf[end - 1] == 13 or buf[end - 1] == 32 or buf[end - 1] == 9):
            end -= 1
        while start < end and (buf[start] == 32 or buf[start] == 9):
            start += 1
        if start == end:
            skips, n_skips = _push(skips, n_skips, n)
            line += 1
            continue
        # leading integer
        p = start
        value = 0
        digits = 0
        while p < end and 48 <= buf[p] <= 57 and digits < 18:  # < 10**18: no overflow
            value = value * 10 + (buf[p] - 48)
            p += 1
            digits += 1
        if digits == 0 or p == end:
            return n, BAD_LINE, line, skips[:n_skips]
        if digits > 1 and buf[start] == 48:  # "007" would become customer 7: one id of two
            return n, LEADING_ZERO, line, skips[:n_skips]
        if buf[p] == 58:  # ':' -> a movie header, nothing may follow
            if p + 1 != end:
                return n, BAD_LINE, line, skips[:n_skips]
            if value > movie_max:
                return n, ID_RANGE, line, skips[:n_skips]
            current = value
            skips, n_skips = _push(skips, n_skips, n)
            line += 1
            continue
        if buf[p] != 44:  # ','
            return n, BAD_LINE, line, skips[:n_skips]
        if current < 0:
            return n, NO_MOVIE, line, skips[:n_skips]
        if value > id_max:
            return n, ID_RANGE, line, skips[:n_skips]
        p += 1
        # rating: digits with an optional fraction
        r = 0.0
        rd = 0
        while p < end and 48 <= buf[p] <= 57:
            r = r * 10 + (buf[p] - 48)
            p += 1
            rd += 1
        if p < end and buf[p] == 46:
            p += 1
            scale = 0.1
            while p < end and 48 <= buf[p] <= 57:
                r += (buf[p] - 48) * scale
                scale /= 10
                p += 1
                rd += 1
        if p >= end or buf[p] != 44:
            return n, BAD_LINE, line, skips[:n_skips]
        if rd == 0:
            return n, BAD_RATING, line, skips[:n_skips]
        p += 1
        # date: exactly YYYY-MM-DD
        if end - p != 10 or buf[p + 4] != 45 or buf[p + 7] != 45:
            return n, BAD_DATE, line, skips[:n_skips]
        ok = True
        for k in (0, 1, 2, 3, 5, 6, 8, 9):
            if not 48 <= buf[p + k] <= 57:
                ok = False
        if not ok:
            return n, BAD_DATE, line, skips[:n_skips]
        y = (
            (buf[p] - 48) * 1000
            + (buf[p + 1] - 48) * 100
            + (buf[p + 2] - 48) * 10
            + buf[p + 3]
            - 48
        )
        mo = (buf[p + 5] - 48) * 10 + buf[p + 6] - 48
        d = (buf[p + 8] - 48) * 10 + buf[p + 9] - 48
        if mo < 1 or mo > 12 or d < 1 or d > _month_days(y, mo):
            return n, BAD_DATE, line, skips[:n_skips]
        movie[n] = current
        user[n] = value
        rating[n] = r
        day[n] = _days_from_civil(y, mo, d)
        n += 1
        line += 1
    return n, OK, line, skips[:n_skips]


def line_of_row(skips: np.ndarray, row: int) -> int:
    """0-based line of rating row ``row``, from the ``skips`` of :func:`parse_netflix`.

    Examples
    --------
    Lines ``1:``, a rating, ``2:``, a rating: the second rating (row 1) is on line 3.

    >>> line_of_row(np.array([0, 1]), 1)
    3
    """
    return row + int(np.searchsorted(skips, row, side="right"))
