"""A compiled (numba) one-pass parser of the Netflix Prize text format.

It reads the bytes of ``MovieID:`` / ``CustomerID,Rating,YYYY-MM-DD`` lines into
columns at a few hundred MB/s, and on the first malformed line stops and reports
which line and why; :mod:`publisher.io` turns that into the file-and-line message.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["BAD_DATE", "BAD_LINE", "BAD_RATING", "NO_MOVIE", "OK", "parse_netflix"]

OK, BAD_LINE, BAD_DATE, NO_MOVIE, BAD_RATING = 0, 1, 2, 3, 4


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
def parse_netflix(buf: np.ndarray, n_lines: int) -> tuple:
    """Parse the whole buffer.

    Returns
    -------
    (movie, user, rating, day, line, n, status, bad_line)
        Column arrays (valid up to ``n``), each row's 0-based line number, the status
        (one of the module's codes) and the 0-based line where parsing stopped.
    """
    movie = np.empty(n_lines, np.int64)
    user = np.empty(n_lines, np.int64)
    rating = np.empty(n_lines, np.float64)
    day = np.empty(n_lines, np.int32)
    line_of = np.empty(n_lines, np.int64)
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
            line += 1
            continue
        # leading integer
        p = start
        value = 0
        digits = 0
        while p < end and 48 <= buf[p] <= 57 and digits < 19:
            value = value * 10 + (buf[p] - 48)
            p += 1
            digits += 1
        if digits == 0 or p == end:
            return movie, user, rating, day, line_of, n, BAD_LINE, line
        if buf[p] == 58:  # ':' -> a movie header, nothing may follow
            if p + 1 != end:
                return movie, user, rating, day, line_of, n, BAD_LINE, line
            current = value
            line += 1
            continue
        if buf[p] != 44:  # ','
            return movie, user, rating, day, line_of, n, BAD_LINE, line
        if current < 0:
            return movie, user, rating, day, line_of, n, NO_MOVIE, line
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
            return movie, user, rating, day, line_of, n, BAD_LINE, line
        if rd == 0:
            return movie, user, rating, day, line_of, n, BAD_RATING, line
        p += 1
        # date: exactly YYYY-MM-DD
        if end - p != 10 or buf[p + 4] != 45 or buf[p + 7] != 45:
            return movie, user, rating, day, line_of, n, BAD_DATE, line
        ok = True
        for k in (0, 1, 2, 3, 5, 6, 8, 9):
            if not 48 <= buf[p + k] <= 57:
                ok = False
        if not ok:
            return movie, user, rating, day, line_of, n, BAD_DATE, line
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
            return movie, user, rating, day, line_of, n, BAD_DATE, line
        movie[n] = current
        user[n] = value
        rating[n] = r
        day[n] = _days_from_civil(y, mo, d)
        line_of[n] = line
        n += 1
        line += 1
    return movie, user, rating, day, line_of, n, OK, line
