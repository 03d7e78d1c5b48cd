"""CSV, TSV and MovieLens text files, read chunk by chunk within the input limits.

pandas' C parser reads a bounded stream (:mod:`publisher.readers.limits`) a chunk at a
time; each chunk is validated and turned into compact arrays before the next is read,
so the text of only one chunk is in memory. The first chunk is small, so a file of one
repeated line fails its duplicate check at once.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from publisher.core.assemble import (
    CANONICAL_INTEGER,
    Locate,
    assemble,
    first_bad,
    first_duplicate,
)
from publisher.core.errors import InputError, show
from publisher.core.ratings import Ratings, Scale
from publisher.readers.columns import FIELDS, map_columns
from publisher.readers.dates import DateReading
from publisher.readers.detect import first_line, head_bytes, is_gzip
from publisher.readers.limits import ReadLimits, open_bounded

__all__ = ["read_delimited"]


# ------------------------------------------------------------------ delimited text
#: Text cells parsed at a time (about 250 MB of Python strings): a chunk holds this many
#: cells over the file's columns. The first chunk is small, so a file of one repeated
#: line fails its duplicate check after 65,536 rows, whatever its size.
_CHUNK_CELLS = 4 << 20

_FIRST_CHUNK_ROWS = 1 << 16


class _TextIds(Exception):
    """A field's ids turned out not to be all integers after some chunks were: re-read."""

    def __init__(self, field: str) -> None:
        self.field = field


def read_delimited(
    path: Path,
    kind: str,
    *,
    columns: Mapping[str, str] | None,
    scale: Scale | None,
    duplicates: str,
    limits: ReadLimits,
    delimiter: str | None = None,
    dates: bool = True,
    date_format: str = "auto",
) -> Ratings:
    """Read a CSV, TSV or MovieLens text file (``kind`` as named by ``detect.refine``).

    ``delimiter`` overrides the one sniffed from the first lines (comma, tab, semicolon
    or pipe); ``dates=False`` reads no date column; ``date_format`` declares what the
    date column's values are (:mod:`publisher.readers.dates`).

    Raises
    ------
    InputError
        On the first bad line, naming it, or on an input beyond ``limits``.
    """
    head = head_bytes(path)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise InputError(f"{path}: file is empty")
    first = first_line(head)
    if kind == "movielens-1m":
        sep, n_fields = ":", 7  # '::' split on ':' leaves empty fields between values
    elif kind == "movielens-100k":
        sep, n_fields = "\t", 0
    elif delimiter is not None:
        sep, n_fields = delimiter, 0
    else:
        sep, n_fields = sniff_delimiter(head, "\t" if kind == "tsv" else ","), 0
    fields = first.decode("utf-8", "replace").split(sep)
    has_header = not any(_is_number(f) for f in fields)
    if kind in ("movielens-100k", "movielens-1m"):
        has_header = False
    if has_header:
        _check_row_width(head, sep, path, quoting=kind.startswith("movielens"))
    options: dict[str, Any] = {
        "sep": sep,
        "dtype": str,
        "keep_default_na": False,
        "skip_blank_lines": False,
        "encoding": "utf-8-sig",
        "encoding_errors": "strict",
        "engine": "c",
        "quoting": 3 if kind.startswith("movielens") else 0,  # 3 = QUOTE_NONE
        # Never a column as the row index (pandas' choice when the first row is wider
        # than the header: every field would shift into the wrong column).
        "index_col": False,
    }
    label = str(path)
    offset = 2 if has_header else 1

    def locate(i: int) -> str:
        return f"{label}: line {i + offset}"

    sample = _parse(path, limits, lambda s: _sample(s, has_header, options))
    names = [str(c) for c in sample.columns]
    if len(names) > limits.columns:
        raise limits.exceeded(
            "columns", f"{path}: line 1 has {len(names):,} columns, more than {limits.columns:,}"
        )
    if kind == "movielens-1m":
        if len(names) != n_fields:
            raise InputError(f"{path}: expected 'user::item::rating::timestamp' lines")
        mapping = dict(zip(FIELDS, names[::2], strict=True))
        if not dates:
            del mapping["date"]
    else:
        mapping = map_columns(sample, columns, has_header, label, dates=dates)
    if not has_header:
        options["names"] = names
    options["header"] = 0 if has_header else None
    # Every column is parsed (usecols would let a row with extra fields through): the
    # chunk size keeps the cells in memory bounded instead.
    rows = max(1024, _CHUNK_CELLS // max(len(names), 1))
    if scale is None and kind in ("movielens-100k", "movielens-1m"):
        scale = Scale(1, 5, 1)
    elif scale is None and kind == "movielens-csv":
        scale = Scale(0.5, 5, 0.5)
    text_ids: set[str] = set()
    while True:
        try:
            parts = _parse(
                path,
                limits,
                lambda s: _read_chunks(
                    s,
                    options,
                    rows,
                    mapping,
                    locate,
                    duplicates,
                    text_ids,
                    DateReading(date_format, label, mapping.get("date", "date")),
                ),
            )
            break
        except _TextIds as restart:
            text_ids.add(restart.field)  # rare: integer ids first, text ids later
    if not parts["rows"]:
        raise InputError(
            f"{path}: no ratings (the file holds {'only a header' if has_header else 'no rows'})"
        )
    lines = np.concatenate(parts.pop("rows"))
    days = np.concatenate(parts["date"]) if "date" in mapping else None
    return assemble(
        _concat_ids(parts["user"]),
        _concat_ids(parts["item"]),
        np.concatenate(parts["rating"]),
        days,
        lambda i: locate(int(lines[i])),
        scale=scale,
        duplicates=duplicates,
        source=path.name,
    )


def _parse(path: Path, limits: ReadLimits, read: Callable[[Any], Any]) -> Any:
    """Run a pandas read on a bounded stream of ``path``, turning its errors into ours."""
    try:
        with open_bounded(path, limits) as stream:
            return read(stream)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: {_parser_message(str(exc), _colon_split(path))}") from None
    except UnicodeDecodeError as exc:
        line = _line_of_byte(path, exc.start)
        raise InputError(f"{path}: line {line}: not valid UTF-8") from None
    except (EOFError, OSError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({describe_error(exc)})") from None


def _check_row_width(head: bytes, sep: str, path: Path, *, quoting: bool) -> None:
    """Refuse a first data row wider than the header (a trailing delimiter, a nameless column).

    pandas would take the first column as the row index and shift every other field one
    column to the left (users read as items, items as ratings), or with ``index_col=False``
    drop the extra field; either is a silently wrong dataset.
    """
    raw = head.removeprefix(b"\xef\xbb\xbf")
    try:
        complete = raw[: raw.rfind(b"\n") + 1].decode("utf-8")
    except UnicodeDecodeError:  # the parser names the line
        return
    try:
        rows = [
            row
            for row in csv.reader(
                io.StringIO(complete, newline=""),
                delimiter=sep,
                quoting=csv.QUOTE_NONE if quoting else csv.QUOTE_MINIMAL,
            )
            if any(field.strip() for field in row)
        ]
    except csv.Error:  # not text a CSV reader makes sense of: the parser will say why
        return
    if len(rows) >= 2 and len(rows[1]) > len(rows[0]):
        extra = len(rows[1]) - len(rows[0])
        raise InputError(
            f"{path}: line 2 has {len(rows[1])} fields but the header names {len(rows[0])} "
            f"columns ({'a trailing delimiter, or ' if not rows[1][-1].strip() else ''}"
            f"{extra} column{'s' if extra > 1 else ''} without a name); name every column "
            "in the header or remove the extra fields"
        )


def _colon_split(path: Path) -> bool:
    return b"::" in first_line(head_bytes(path))


#: Rows read ahead to recognise a date column by its values.
_SAMPLE_ROWS = 200

#: Delimiters sniffed, in order of preference when several split the lines alike.
DELIMITERS = (",", "\t", ";", "|")


def _sample(stream: Any, has_header: bool, options: dict[str, Any]) -> pd.DataFrame:
    """The first rows; columns named by the header, or positions ``0..n-1``."""
    return pd.read_csv(stream, header=0 if has_header else None, nrows=_SAMPLE_ROWS, **options)


def sniff_delimiter(head: bytes, default: str) -> str:
    r"""The delimiter that splits the first lines into the same number (>= 2) of fields.

    Complete lines of ``head`` only (the last may be cut); ``default`` when none does.

    Examples
    --------
    >>> sniff_delimiter(b"user;item;rating\n1;2;3.5\n", ",")
    ';'
    >>> sniff_delimiter(b'user,title,rating\n1,"A; B",4\n', ",")
    ','
    """
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    lines = [line for line in text.splitlines()[:-1] or text.splitlines() if line.strip()][:20]
    # Every line alike first; else the lines after a header (one a header is narrower
    # than, say: the width check then names the problem instead of a wrong delimiter).
    for sample in (lines, lines[1:]):
        best, best_fields = default, 1
        for candidate in DELIMITERS:
            counts = {len(row) for row in csv.reader(sample, delimiter=candidate)}
            if len(counts) == 1 and (fields := counts.pop()) > best_fields:
                best, best_fields = candidate, fields
        if best_fields > 1:
            return best
    return default


def _read_chunks(
    stream: Any,
    options: dict[str, Any],
    rows: int,
    mapping: dict[str, str],
    locate: Locate,
    duplicates: str,
    text_ids: set[str],
    date_reading: DateReading,
) -> dict[str, list[np.ndarray]]:
    """Parse chunk by chunk into compact arrays; text lives one chunk at a time."""
    parts: dict[str, list[np.ndarray]] = {"rows": [], "user": [], "item": [], "rating": []}
    if "date" in mapping:
        parts["date"] = []
    integer = {"user": "user" not in text_ids, "item": "item" not in text_ids}
    reader = pd.read_csv(stream, iterator=True, **options)
    for k in itertools.count():
        try:
            chunk = reader.get_chunk(min(rows, _FIRST_CHUNK_ROWS) if k == 0 else rows)
        except StopIteration:
            break
        chunk = _drop_blank_rows(chunk)
        if chunk.empty:
            continue
        for field in ("user", "item"):
            values = _required(chunk, mapping[field], field, locate)
            if integer[field] and values.str.fullmatch(CANONICAL_INTEGER).all():
                parts[field].append(values.to_numpy().astype(np.int64))
            elif integer[field] and parts[field]:
                raise _TextIds(field)
            else:
                integer[field] = False
                parts[field].append(values.to_numpy(dtype=object))
        parts["rating"].append(_numeric(chunk, mapping["rating"], "rating", locate))
        if "date" in mapping:
            text = _required(chunk, mapping["date"], "date", locate)
            parts["date"].append(date_reading.text(text, locate))
        parts["rows"].append(chunk.index.to_numpy(np.int64))
        if k == 0 and duplicates == "error":
            # A file of one repeated line fails here, in its first chunk, not after
            # the whole (possibly decompressed-gigabyte) file is parsed.
            first_duplicate(parts["user"][0], parts["item"][0], parts["rows"][0], locate)
    return parts


def _concat_ids(chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.empty(0, np.int64)


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the gzip stream is truncated"
    return str(exc) or type(exc).__name__


def _parser_message(message: str, colon_split: bool) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if not found:
        return f"cannot parse ({show(message.strip().splitlines()[-1], 120)[1:-1]})"
    expected, line, saw = (int(g) for g in found.groups())
    if colon_split:  # fields of 'a::b::c::d' on ':' are 2n - 1
        expected, saw = (expected + 1) // 2, (saw + 1) // 2
    return f"line {line}: expected {expected} fields, found {saw}"


def _line_of_byte(path: Path, offset: int) -> int:
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    blank = (frame.fillna("").astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1)
    return frame[~blank.to_numpy()] if blank.any() else frame


def _required(frame: pd.DataFrame, column: str, field: str, locate: Locate) -> pd.Series:
    values = frame[column].fillna("").astype(str).str.strip()
    i = first_bad((values == "").to_numpy())
    if i is not None:
        raise InputError(f"{locate(int(frame.index[i]))}: missing {field}")
    return values


def _numeric(frame: pd.DataFrame, column: str, field: str, locate: Locate) -> np.ndarray:
    text = _required(frame, column, field, locate)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    i = first_bad(np.isnan(values))
    if i is not None:
        raise InputError(
            f"{locate(int(frame.index[i]))}: {field} {show(text.iloc[i])} is not a number"
        )
    return values
