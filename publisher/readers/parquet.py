"""Parquet files: the footer and what it declares are checked before Arrow reads data.

Columns are found like a CSV's header (:mod:`publisher.readers.columns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from publisher.core.assemble import Locate, assemble, first_bad
from publisher.core.errors import InputError, show
from publisher.core.ratings import Ratings, Scale
from publisher.readers.columns import map_columns
from publisher.readers.dates import DateReading
from publisher.readers.detect import PARQUET_MAGIC
from publisher.readers.limits import ReadLimits

__all__ = ["ratings_from_arrow", "read_frame", "read_parquet"]


# ---------------------------------------------------------------------- Parquet
def _parquet_bounds(path: Path, limits: ReadLimits) -> None:
    """Check the footer's size, then what it declares, before Arrow reads anything else."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size >= 12:
            fh.seek(size - 8)
            tail = fh.read(8)
            footer = int.from_bytes(tail[:4], "little")
            if tail[4:] == PARQUET_MAGIC and footer > limits.footer_bytes:
                raise limits.exceeded(
                    "footer_bytes",
                    f"{path}: Parquet metadata of {footer:,} bytes, more than "
                    f"{limits.footer_bytes:,}",
                )
    metadata = pq.ParquetFile(path).metadata
    if metadata.num_row_groups > limits.row_groups:
        raise limits.exceeded(
            "row_groups",
            f"{path}: {metadata.num_row_groups:,} Parquet row groups, more than "
            f"{limits.row_groups:,}",
        )
    if metadata.num_rows > limits.expansion * size:
        raise limits.exceeded(
            "expansion",
            f"{path}: declares {metadata.num_rows:,} rows in {size:,} bytes, more than "
            f"{limits.expansion} rows a byte",
        )


def read_parquet(
    path: Path,
    *,
    columns: Mapping[str, str] | None,
    scale: Scale | None,
    duplicates: str,
    limits: ReadLimits,
    dates: bool = True,
    date_format: str = "auto",
) -> Ratings:
    """Read a Parquet file whose footer and row count are within ``limits``.

    ``dates=False`` reads no date column; ``date_format`` declares what an integer or
    text date column holds (:mod:`publisher.readers.dates`).

    Raises
    ------
    InputError
        On a missing value (naming the row), a wrongly typed column or a bound exceeded.
    """
    try:
        _parquet_bounds(path, limits)
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0].replace(f"'{path}'", "").replace(str(path), "")
        raise InputError(f"{path}: not a readable Parquet file ({reason})") from None
    return ratings_from_arrow(
        table,
        str(path),
        columns=columns,
        scale=scale,
        duplicates=duplicates,
        dates=dates,
        date_format=date_format,
        source=path.name,
    )


def read_frame(
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    scale: Scale | None = None,
    duplicates: str = "error",
    dates: bool = True,
    date_format: str = "auto",
) -> Ratings:
    """Read a pandas DataFrame as a Parquet file of the same columns is read.

    The same column mapping (``columns``, else the usual names), the same checks (ids,
    missing values, the scale, date forms, duplicates) and the same messages, naming
    "DataFrame: row N" (counted from 1, whatever the index).

    Raises
    ------
    InputError
        As :func:`read_parquet`, or when a column cannot be converted to Arrow.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise InputError(f"DataFrame: a column cannot be read ({reason})") from None
    return ratings_from_arrow(
        table,
        "DataFrame",
        columns=columns,
        scale=scale,
        duplicates=duplicates,
        dates=dates,
        date_format=date_format,
        source="DataFrame",
    )


def ratings_from_arrow(
    table: pa.Table,
    label: str,
    *,
    columns: Mapping[str, str] | None,
    scale: Scale | None,
    duplicates: str,
    dates: bool,
    date_format: str,
    source: str,
) -> Ratings:
    """The ratings of an Arrow table; ``label`` names it in errors (the path)."""
    # The first rows, as text, let map_columns recognise a date column by its values.
    frame = pd.DataFrame(
        {
            name: table.column(name).slice(0, 200).to_pandas().astype(str)
            if _text_like(table.column(name).type)
            else pd.Series(dtype=object)
            for name in table.column_names
        }
    )
    mapping = map_columns(frame, columns, True, label, dates=dates)

    def locate(i: int) -> str:
        return f"{label}: row {i + 1}"

    if table.num_rows == 0:
        raise InputError(f"{label}: no ratings (the table has no rows)")
    cols = {f: table.column(c) for f, c in mapping.items()}
    for field, col in cols.items():
        i = first_bad(col.is_null().to_numpy(zero_copy_only=False))
        if i is not None:
            raise InputError(f"{locate(i)}: missing {field}")
    rating_type = cols["rating"].type
    if not (pa.types.is_integer(rating_type) or pa.types.is_floating(rating_type)):
        raise InputError(
            f"{label}: column {mapping['rating']!r} must be numeric, not {rating_type}"
        )
    if pa.types.is_float16(rating_type):  # the compiled checks take float32 and float64
        cols["rating"] = cols["rating"].cast(pa.float32())
    ratings = cols["rating"].to_numpy()  # float32 stays float32: no 800 MB copy at 100M
    days = None
    if "date" in cols:
        days = _arrow_days(cols["date"], DateReading(date_format, label, mapping["date"]), locate)
    users = _arrow_ids(cols["user"], mapping["user"], label)
    items = _arrow_ids(cols["item"], mapping["item"], label)
    del table, cols
    # Arrow's allocator keeps freed buffers for reuse; hand them back to the OS now that
    # the columns are numpy arrays (several GB at Netflix scale).
    pa.default_memory_pool().release_unused()
    try:
        return assemble(
            users,
            items,
            ratings,
            days,
            locate,
            scale=scale,
            duplicates=duplicates,
            source=source,
        )
    finally:
        # and once more for what assemble freed: 1.1 GiB kept at 100M ratings otherwise
        del users, items, days
        pa.default_memory_pool().release_unused()


def _arrow_ids(col: pa.ChunkedArray, name: str, label: str) -> np.ndarray:
    if (
        pa.types.is_integer(col.type)
        or pa.types.is_string(col.type)
        or pa.types.is_large_string(col.type)
    ):
        return col.to_numpy()
    raise InputError(f"{label}: column {name!r} must hold integers or strings, not {col.type}")


def _arrow_days(col: pa.ChunkedArray, reading: DateReading, locate: Locate) -> np.ndarray:
    if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
        return col.cast(pa.timestamp("s")).cast(pa.int64()).to_numpy() // 86400
    if pa.types.is_integer(col.type):
        return reading.integers(col.to_numpy(), locate)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return reading.text(pd.Series(col.to_numpy(zero_copy_only=False)), locate)
    raise InputError(
        f"{reading.label}: column {show(reading.column)} must hold dates, integers or text, "
        f"not {col.type}"
    )


def _text_like(kind: pa.DataType) -> bool:
    """Columns whose values may be dates under an unknown name: dates, text, integers."""
    return bool(
        pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
    )
