"""Which input column holds the user, the item, the rating and the date.

From ``--columns``, else from common header names, else by position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from publisher.core.errors import InputError, show

__all__ = ["FIELDS", "column_names", "map_columns", "parse_columns"]


FIELDS = ("user", "item", "rating", "date")

# Header names recognised for each field (lower-cased, non-alphanumerics removed).
_SYNONYMS = {
    "user": {"user", "userid", "customer", "customerid", "uid", "reviewerid", "username"},
    "item": {"item", "itemid", "movie", "movieid", "product", "productid", "asin", "iid"},
    "rating": {"rating", "score", "stars", "overall", "value"},
    "date": {"date", "timestamp", "time", "datetime", "ratedat", "unixreviewtime", "day"},
}


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
    frame: pd.DataFrame, columns: Mapping[str, str] | None, has_header: bool, label: str
) -> dict[str, str]:
    """Which column holds each field: the mapping given, else header names, else positions.

    Raises
    ------
    InputError
        For a mapped column that does not exist, or a field no column can be found for.
    """
    names = [str(c) for c in frame.columns]
    frame.columns = names
    mapping: dict[str, str] = {}
    for field, wanted in (columns or {}).items():
        if wanted in names:
            mapping[field] = wanted
        elif wanted.isdigit() and 1 <= int(wanted) <= len(names):
            mapping[field] = names[int(wanted) - 1]
        else:
            raise InputError(
                f"{label}: no column {show(wanted)} for {field} (columns: {column_names(names)})"
            )
    if has_header:
        normal = {re.sub(r"[^a-z0-9]", "", n.lower()): n for n in names}
        for field in FIELDS:
            if field not in mapping:
                found = next((normal[s] for s in _SYNONYMS[field] if s in normal), None)
                if found is not None:
                    mapping[field] = found
    else:
        taken = set(mapping.values())
        free = [n for n in names if n not in taken]
        for field in FIELDS:
            if field not in mapping and free:
                mapping[field] = free.pop(0)
    missing = [f for f in ("user", "item", "rating") if f not in mapping]
    if missing:
        raise InputError(
            f"{label}: cannot tell which column holds {' and '.join(missing)} "
            f"(columns: {column_names(names)}); pass --columns user=COL,item=COL,rating=COL"
        )
    return mapping


def column_names(names: list[str], limit: int = 12) -> str:
    """Column names for a message: a few, each cut short."""
    shown = ", ".join(show(n, 30)[1:-1] for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
