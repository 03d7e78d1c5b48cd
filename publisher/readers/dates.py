"""What a date column's values mean: ISO text, Unix seconds or milliseconds, YYYYMMDD, days.

An integer is not a date until its unit is known. Read as Unix seconds, ``20041221`` (a
YYYYMMDD date) is 1970-08-21 and a day number such as ``12770`` is 1970-01-01 03:32: every
date of the file would land in 1970 and the date audits would run on that, silently. So
the unit of an integer column is recognised once, from the values the reader sees first,
and then applied to the whole column (a later chunk never changes it):

* every value an 8-digit number from 19000101 to 21001231: ``yyyymmdd`` (each must be a
  calendar date; the error names the line of one that is not);
* every value from 10**11 to 4.2 * 10**12 (1973 to 2100 in milliseconds): ``unix-ms``;
* every value from 10**8 to 4.2 * 10**9 (1973 to 2100 in seconds): ``unix-seconds``;
* anything else is refused, naming the range seen and ``--date-format``, which declares
  the unit (``days`` counts days since 1970-01-01).

Text is ISO 8601 (``2005-09-06``, ``2005-09-06T10:00:00Z``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from publisher.core.assemble import Locate, first_bad
from publisher.core.errors import InputError, show

__all__ = ["DATE_FORMATS", "DateReading", "integer_form"]

#: Values of ``--date-format``.
DATE_FORMATS = ("auto", "iso", "unix-seconds", "unix-ms", "days", "yyyymmdd")

#: Unix seconds (and milliseconds) of 1973-03-03 and 2100-01-01: outside it an integer
#: column is not recognised as either.
_SECONDS = (10**8, 4_102_444_800)
_MILLISECONDS = (10**11, 4_102_444_800_000)
_YYYYMMDD = (19000101, 21001231)


def _yyyymmdd_days(values: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of YYYYMMDD integers; -2**62 where a value is no calendar date."""
    years, rest = np.divmod(values.astype(np.int64), 10_000)
    months, days = np.divmod(rest, 100)
    text = pd.Series(
        [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(years, months, days, strict=True)]
    )
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    out = parsed.to_numpy().astype("datetime64[D]").astype(np.int64)
    out[parsed.isna().to_numpy()] = -(2**62)
    return out


def integer_form(values: np.ndarray) -> str | None:
    """The unit :mod:`this module <publisher.readers.dates>` recognises, or None.

    Examples
    --------
    >>> integer_form(np.array([20041221, 19991231]))
    'yyyymmdd'
    >>> integer_form(np.array([1_100_000_000, 1_200_000_000]))
    'unix-seconds'
    >>> integer_form(np.array([1_100_000_000_000]))
    'unix-ms'
    >>> integer_form(np.array([12_770, 13_000])) is None
    True
    """
    values = np.asarray(values, dtype=np.int64)
    if not len(values):
        return None
    lo, hi = int(values.min()), int(values.max())
    if _YYYYMMDD[0] <= lo and hi <= _YYYYMMDD[1]:
        # as seconds these are days of August 1970; as YYYYMMDD, each is checked for a
        # calendar date when read (the error names the line of one that is not)
        return "yyyymmdd"
    if _MILLISECONDS[0] <= lo and hi <= _MILLISECONDS[1]:
        return "unix-ms"
    if _SECONDS[0] <= lo and hi <= _SECONDS[1]:
        return "unix-seconds"
    return None


@dataclass
class DateReading:
    """How one input's date column is read; the unit, once recognised, stays for the file.

    Parameters
    ----------
    format : str
        One of :data:`DATE_FORMATS`; ``auto`` recognises integer units (module docstring).
    label : str
        The input, for messages.
    column : str
        The column's name, for messages.
    """

    format: str = "auto"
    label: str = "input"
    column: str = "date"

    def __post_init__(self) -> None:
        if self.format not in DATE_FORMATS:
            raise InputError(
                f"unknown date format {show(self.format)}; use one of {', '.join(DATE_FORMATS)}"
            )

    def integers(self, values: np.ndarray, where: Locate) -> np.ndarray:
        """Days since 1970-01-01 of whole numbers; ``where(i)`` names value i's place."""
        values = np.floor(np.asarray(values, dtype=np.float64)).astype(np.int64)
        if self.format == "iso":
            raise InputError(f"{where(0)}: date {values[0]} is a number, not ISO 8601 text")
        if self.format == "auto":
            found = integer_form(values)
            if found is None:
                raise InputError(
                    f"{self.label}: date column {show(self.column)} holds integers from "
                    f"{int(values.min()):,} to {int(values.max()):,}: as Unix seconds they would "
                    "fall in 1970-1973 or after 2100, where no ratings are; declare their unit "
                    "with --date-format days (days since 1970-01-01), yyyymmdd, unix-seconds "
                    "or unix-ms"
                )
            self.format = found  # the whole file is read in the unit of its first values
        if self.format == "days":
            return values
        if self.format == "unix-seconds":
            return np.floor_divide(values, 86_400)
        if self.format == "unix-ms":
            return np.floor_divide(values, 86_400_000)
        days = _yyyymmdd_days(values)
        i = first_bad(days == -(2**62))
        if i is not None:
            raise InputError(f"{where(i)}: date {values[i]} is not a YYYYMMDD calendar date")
        return days

    def text(self, text: pd.Series, locate: Locate) -> np.ndarray:
        """Days since 1970-01-01 of a text column (index: row numbers for ``locate``)."""
        rows = text.index.to_numpy()

        def where(i: int) -> str:
            return locate(int(rows[i]))

        numbers = pd.to_numeric(text, errors="coerce")
        numeric = numbers.notna().to_numpy()
        if numeric.all() and self.format != "iso":
            return self.integers(numbers.to_numpy(np.float64), where)
        if self.format not in ("auto", "iso"):
            i = int(np.flatnonzero(~numeric)[0])
            raise InputError(
                f"{where(i)}: date {show(text.iloc[i])} is not a number "
                f"(--date-format {self.format})"
            )
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        bad = first_bad(parsed.isna().to_numpy())
        if bad is not None:
            raise InputError(f"{where(bad)}: unparseable date {show(text.iloc[bad])}")
        return parsed.dt.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64)
