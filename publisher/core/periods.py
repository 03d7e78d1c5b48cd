"""Calendar periods: the vocabulary of coarsened dates and period tables, in one place."""

from __future__ import annotations

import numpy as np

__all__ = ["COARSE_PERIODS", "HALF_PERIOD", "PERIODS", "period_starts"]

#: Periods a table or a coarsened date may use (weeks start on Monday).
PERIODS = ("day", "week", "month", "quarter", "year")
#: What ``coarsen_dates`` rounds to.
COARSE_PERIODS = PERIODS[1:]
#: Days from a coarse period's first day to its middle: the best guess of a coarsened date.
HALF_PERIOD = {"week": 3, "month": 15, "quarter": 45, "year": 182}


def period_starts(days: np.ndarray, period: str) -> np.ndarray:
    """The first day (int32 days since 1970-01-01) of each day's period.

    Parameters
    ----------
    days : numpy.ndarray
        Days since 1970-01-01 (within int32, as in a ratings table).
    period : {"day", "week", "month", "quarter", "year"}
        Weeks start on Monday.

    Examples
    --------
    >>> period_starts(np.array([13000]), "quarter").astype("datetime64[D]").astype(str).tolist()
    ['2005-07-01']
    """
    days = np.asarray(days)
    if len(days) == 0 or period == "day":
        return days.astype(np.int32)
    # Work out the start of every day in the observed range once, then look each row
    # up: one int32 gather instead of several 100M-row int64 and datetime64 copies.
    lo = int(days.min())
    span = np.arange(lo, int(days.max()) + 1, dtype=np.int64)
    if period == "week":
        # 1970-01-01 was a Thursday: (day + 3) % 7 counts days since Monday.
        starts = span - (span + 3) % 7
    else:
        months = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        step = {"month": 1, "quarter": 3, "year": 12}[period]
        starts = (months - months % step).astype("datetime64[M]").astype("datetime64[D]")
    return starts.astype(np.int32)[days - lo]
