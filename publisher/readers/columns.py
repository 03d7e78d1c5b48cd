"""Which input column holds the user, the item, the rating and the date.

From ``--columns``, else from common header names, else by position.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Mapping

import numpy as np
import pandas as pd

from publisher.core.errors import InputError, show
from publisher.readers.dates import integer_form

__all__ = ["FIELDS", "column_names", "looks_like_dates", "map_columns", "parse_columns"]

logger = logging.getLogger(__name__)


FIELDS = ("user", "item", "rating", "date")

# Header names recognised for each field (lower-cased, non-alphanumerics removed).
_SYNONYMS = {
    "user": {"user", "userid", "customer", "customerid", "uid", "reviewerid", "username"},
    "item": {"item", "itemid", "movie", "movieid", "product", "productid", "asin", "iid"},
    "rating": {"rating", "score", "stars", "overall", "value"},
    "date": {
        "date", "timestamp", "time", "datetime", "ratedat", "ratedon", "ratingdate",
        "ratingtime", "ratedate", "createdat", "created", "createdon", "ts", "when", "day",
        "unixreviewtime", "reviewtime", "reviewdate", "eventtime",
    },
}  # fmt: skip

#: Unix seconds a date column may hold: 1990-01-01 to 2100-01-01. Ids of 9 or 10 digits
#: in this range are possible, so content detection never picks a column, it only asks.
_UNIX_RANGE = (631_152_000, 4_102_444_800)


def parse_columns(text: str) -> dict[str, str]:
    """Parse a ``user=customer_id,item=movie`` column mapping.

    Examples
    --------
    >>> parse_columns("user=cust, rating=stars")
    {'user': 'cust', 'rating': 'stars'}
    """
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, sep, column = part.partition("=")
        if not sep or field.strip() not in FIELDS or not column.strip():
            raise InputError(
                f"column mapping must look like user=COL,item=COL,rating=COL[,date=COL], "
                f"got {part!r}"
            )
        mapping[field.strip()] = column.strip()
    return mapping


def map_columns(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    has_header: bool,
    label: str,
    *,
    dates: bool = True,
) -> dict[str, str]:
    """Which column holds each field: the mapping given, else header names, else positions.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input's columns and, for content detection, its first rows (may be empty).
    columns : mapping, optional
        ``--columns``: field -> header name or 1-based position.
    has_header : bool
    label : str
        The file, for messages.
    dates : bool
        False for ``--no-dates``: no date column is read, whatever the file holds.

    Raises
    ------
    InputError
        For a mapped column that does not exist, a field no column can be found for, or
        a column whose values are dates when no column was chosen for dates (the
        message says how to read it or leave it out).
    """
    names = [str(c) for c in frame.columns]
    frame.columns = names
    mapping: dict[str, str] = {}
    for field, wanted in (columns or {}).items():
        if field == "date" and not dates:
            raise InputError(f"--columns date={wanted} contradicts --no-dates; pass one of them")
        if wanted in names:
            mapping[field] = wanted
        elif wanted.isdigit() and 1 <= int(wanted) <= len(names):
            mapping[field] = names[int(wanted) - 1]
        else:
            raise InputError(
                f"{label}: no column {show(wanted)} for {field} (columns: {column_names(names)})"
            )
    wanted_fields = FIELDS if dates else FIELDS[:3]
    if has_header:
        normal = {re.sub(r"[^a-z0-9]", "", n.lower()): n for n in names}
        taken = set(mapping.values())
        for field in wanted_fields:
            if field not in mapping:
                found = next(
                    (
                        normal[s]
                        for s in sorted(_SYNONYMS[field])
                        if normal.get(s) not in (None, *taken)
                    ),
                    None,
                )
                if found is not None:
                    mapping[field] = found
                    taken.add(found)
    else:
        taken = set(mapping.values())
        free = [n for n in names if n not in taken]
        for field in wanted_fields:
            if field not in mapping and free:
                mapping[field] = free.pop(0)
    missing = [f for f in ("user", "item", "rating") if f not in mapping]
    if missing:
        if len(names) == 1:  # no --columns can help: the lines were not split
            raise InputError(
                f"{label}: the lines do not split into columns (one column: "
                f"{column_names(names)}); pass --delimiter comma, tab, semicolon or pipe"
            )
        raise InputError(
            f"{label}: cannot tell which column holds {' and '.join(missing)} "
            f"(columns: {column_names(names)}); pass --columns user=COL,item=COL,rating=COL"
        )
    unused = [n for n in names if n not in mapping.values()]
    if dates and "date" not in mapping:
        dated = [n for n in unused if looks_like_dates(frame[n])]
        if dated:
            # Reading a file without its dates understates the risk of the release: the
            # organizer must say which it is.
            raise InputError(
                f"{label}: column {show(dated[0])} holds dates but its name does not say so; "
                f"pass --columns {shlex.quote('date=' + dated[0])} to read them, or --no-dates "
                "to leave them out"
            )
    if unused:
        logger.warning(
            "%s: column%s %s not read (only %s are)",
            label,
            "s" if len(unused) > 1 else "",
            column_names(unused),
            ", ".join(f"{f}={mapping[f]}" for f in FIELDS if f in mapping),
        )
    return mapping


def looks_like_dates(values: pd.Series) -> bool:
    """Whether a column's (first) values are all dates.

    ISO-8601 text, Unix seconds (from 1990) or milliseconds, or YYYYMMDD integers.

    Examples
    --------
    >>> looks_like_dates(pd.Series(["2005-09-06", "2005-10-01T10:00:00"]))
    True
    >>> looks_like_dates(pd.Series(["1", "2"]))
    False
    """
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return False
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().all():
        lo, hi = _UNIX_RANGE
        if ((numbers >= lo) & (numbers < hi)).all():
            return True
        whole = numbers.to_numpy(np.float64)
        return bool(np.all(whole == np.floor(whole))) and integer_form(whole) in (
            "yyyymmdd",
            "unix-ms",
        )
    if not text.str.contains(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}").all():
        return False
    parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    return bool(parsed.notna().all())


def column_names(names: list[str], limit: int = 12) -> str:
    """Column names for a message: a few, each cut short."""
    shown = ", ".join(show(n, 30)[1:-1] for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
