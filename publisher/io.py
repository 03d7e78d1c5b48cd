"""Readers: CSV/TSV, Parquet, MovieLens and Netflix Prize files into a :class:`Ratings`.

Every reader parses with a C parser (pandas or pyarrow), never a Python loop per
line, then hands parallel columns to :func:`_assemble`, which validates them and
names the file and line of the first bad row.

Duplicate (user, item) pairs are an error by default (``duplicates="error"``):
silently keeping one of two conflicting ratings would change the data the
organizer meant to publish. ``duplicates="keep-last"`` keeps the rating that
comes last in file order (for Netflix folders: in file-name order).
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import logging
import re
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from publisher._netflix import BAD_DATE, BAD_RATING, ID_RANGE, OK, line_of_row, parse_netflix
from publisher.core.errors import InputError
from publisher.core.ratings import Ratings, Scale, row_index_dtype
from publisher.limits import DEFAULT_LIMITS, ReadLimits, open_bounded, read_all, show

__all__ = ["FORMATS", "detect_format", "parse_columns", "read_ratings"]

logger = logging.getLogger(__name__)

#: Values accepted by ``--format``.
FORMATS = ("auto", "csv", "tsv", "parquet", "movielens", "netflix")
DUPLICATE_RULES = ("error", "keep-last")
FIELDS = ("user", "item", "rating", "date")

# Header names recognised for each field (lower-cased, non-alphanumerics removed).
_SYNONYMS = {
    "user": {"user", "userid", "customer", "customerid", "uid", "reviewerid", "username"},
    "item": {"item", "itemid", "movie", "movieid", "product", "productid", "asin", "iid"},
    "rating": {"rating", "score", "stars", "overall", "value"},
    "date": {"date", "timestamp", "time", "datetime", "ratedat", "unixreviewtime", "day"},
}
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_NETFLIX_HEADER = re.compile(rb"^\s*\d+:\s*$")
_MIN_DATE = np.datetime64("1900-01-01", "D")

Locate = Callable[[int], str]


# --------------------------------------------------------------------------- public
def read_ratings(
    path: str | Path,
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    scale: Scale | None = None,
    duplicates: str = "error",
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Ratings:
    """Read a ratings file or folder into a :class:`Ratings`.

    Parameters
    ----------
    path : str or Path
        A file (optionally gzip-compressed) or a Netflix Prize / MovieLens folder.
    format : {"auto", "csv", "tsv", "parquet", "movielens", "netflix"}
        ``auto`` detects the format from the name and the first bytes.
    columns : mapping, optional
        Which input column holds each field, e.g. ``{"user": "customer_id"}``: a
        header name, or a 1-based position for files without a header. Unmapped
        fields are found by common header names or by position (user, item,
        rating, date).
    scale : Scale, optional
        The declared rating scale. Defaults to the format's own scale (1-5 stars for
        Netflix and MovieLens 100K/1M, half stars for MovieLens ``ratings.csv``);
        for generic files it is inferred from the data and logged.
    duplicates : {"error", "keep-last"}
        What to do with two ratings of the same item by the same user.
    limits : ReadLimits
        Bounds on decompression, line length, columns and Parquet metadata; an input
        beyond them is refused before it can exhaust memory.

    Returns
    -------
    Ratings

    Raises
    ------
    InputError
        On an unreadable file or the first invalid row, naming the file and line.
    """
    path = Path(path)
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if duplicates not in DUPLICATE_RULES:
        raise InputError(f"duplicates must be one of {', '.join(DUPLICATE_RULES)}")
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    for key in columns or {}:
        if key not in FIELDS:
            raise InputError(f"unknown column field {key!r}; use {', '.join(FIELDS)}")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    kind = detect_format(path) if format == "auto" else _refine(path, format)
    logger.info("reading %s as %s", path, kind)
    if kind == "netflix":
        return _read_netflix(path, scale=scale, duplicates=duplicates, limits=limits)
    if kind == "parquet":
        return _read_parquet(
            path, columns=columns, scale=scale, duplicates=duplicates, limits=limits
        )
    if path.is_dir():
        path = _movielens_file(path)
        kind = _refine(path, "movielens")
    return _read_delimited(
        path, kind, columns=columns, scale=scale, duplicates=duplicates, limits=limits
    )


def detect_format(path: str | Path) -> str:
    """Name the concrete format of ``path``.

    Returns
    -------
    str
        One of ``csv``, ``tsv``, ``parquet``, ``netflix``, ``movielens-100k``
        (``u.data``), ``movielens-1m`` (``ratings.dat``), ``movielens-csv``.

    Raises
    ------
    InputError
        For a folder without rating files or an empty file.
    """
    path = Path(path)
    if path.is_dir():
        if _netflix_files(path, required=False):
            return "netflix"
        return _refine(_movielens_file(path), "movielens")
    name = _strip_gz(path.name).lower()
    head = _head_bytes(path)
    if name.endswith(".parquet") or head.startswith(_PARQUET_MAGIC):
        return "parquet"
    if re.fullmatch(r"(mv_\d+|combined_data_\d+)\.txt", name):
        return "netflix"
    if name in ("u.data", "ratings.dat", "ratings.csv"):
        return _refine(path, "movielens")
    first = _first_line(head)
    if _NETFLIX_HEADER.match(first):
        return "netflix"
    if b"::" in first:
        return "movielens-1m"
    if name.endswith(".tsv") or name.endswith(".data") or b"\t" in first:
        return "tsv"
    return "csv"


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


# ------------------------------------------------------------------ format detection
def _strip_gz(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def _head_bytes(path: Path, n: int = 4096) -> bytes:
    with path.open("rb") as fh:
        raw = fh.read(n)
    if raw.startswith(_GZIP_MAGIC):
        try:
            # A partial decompress: enough for sniffing, tolerant of a short read.
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw)[:n]
        except zlib.error as exc:
            raise InputError(f"{path}: corrupt gzip data ({exc})") from None
    return raw


def _first_line(head: bytes) -> bytes:
    head = head.removeprefix(b"\xef\xbb\xbf")
    for line in head.splitlines():
        if line.strip():
            return line.strip()
    return b""


def _refine(path: Path, format: str) -> str:
    """Turn a user-facing format name into the concrete reader name."""
    if format != "movielens":
        return format
    if path.is_dir():
        return _refine(_movielens_file(path), "movielens")
    name = _strip_gz(path.name).lower()
    if name == "u.data" or name.endswith(".data"):
        return "movielens-100k"
    if name.endswith(".dat"):
        return "movielens-1m"
    first = _first_line(_head_bytes(path))
    if b"::" in first:
        return "movielens-1m"
    if b"\t" in first:
        return "movielens-100k"
    return "movielens-csv"


def _movielens_file(folder: Path) -> Path:
    for name in ("ratings.csv", "ratings.dat", "u.data"):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise InputError(
        f"{folder}: folder holds no rating files (expected training_set/mv_*.txt, "
        "mv_*.txt, combined_data_*.txt, ratings.csv, ratings.dat or u.data)"
    )


# ------------------------------------------------------------------ delimited text
#: Text cells parsed at a time (about 250 MB of Python strings): a chunk holds this many
#: cells over the file's columns. The first chunk is small, so a file of one repeated
#: line fails its duplicate check after 65,536 rows, whatever its size.
_CHUNK_CELLS = 4 << 20
_FIRST_CHUNK_ROWS = 1 << 16
_INTEGER_ID = r"-?\d{1,18}"


class _TextIds(Exception):
    """A field's ids turned out not to be all integers after some chunks were: re-read."""

    def __init__(self, field: str) -> None:
        self.field = field


def _read_delimited(
    path: Path,
    kind: str,
    *,
    columns: Mapping[str, str] | None,
    scale: Scale | None,
    duplicates: str,
    limits: ReadLimits,
) -> Ratings:
    head = _head_bytes(path)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise InputError(f"{path}: file is empty")
    first = _first_line(head)
    if kind == "movielens-1m":
        sep, n_fields = ":", 7  # '::' split on ':' leaves empty fields between values
    elif kind in ("tsv", "movielens-100k"):
        sep, n_fields = "\t", 0
    else:
        sep, n_fields = ",", 0
    fields = first.decode("utf-8", "replace").split(sep)
    has_header = not any(_is_number(f) for f in fields)
    if kind in ("movielens-100k", "movielens-1m"):
        has_header = False
    options: dict[str, Any] = {
        "sep": sep,
        "dtype": str,
        "keep_default_na": False,
        "skip_blank_lines": False,
        "encoding": "utf-8-sig",
        "encoding_errors": "strict",
        "engine": "c",
        "quoting": 3 if kind.startswith("movielens") else 0,  # 3 = QUOTE_NONE
    }
    label = str(path)
    offset = 2 if has_header else 1

    def locate(i: int) -> str:
        return f"{label}: line {i + offset}"

    names = _parse(path, limits, lambda s: _header(s, has_header, options))
    if len(names) > limits.columns:
        raise limits.exceeded(
            "columns", f"{path}: line 1 has {len(names):,} columns, more than {limits.columns:,}"
        )
    if kind == "movielens-1m":
        if len(names) != n_fields:
            raise InputError(f"{path}: expected 'user::item::rating::timestamp' lines")
        mapping = dict(zip(FIELDS, names[::2], strict=True))
    else:
        mapping = _map_columns(pd.DataFrame(columns=names), columns, has_header, label)
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
                lambda s: _read_chunks(s, options, rows, mapping, locate, duplicates, text_ids),
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
    return _assemble(
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
        raise InputError(f"{path}: cannot read ({_describe(exc)})") from None


def _colon_split(path: Path) -> bool:
    return b"::" in _first_line(_head_bytes(path))


def _header(stream: Any, has_header: bool, options: dict[str, Any]) -> list[str]:
    """Column names: the header's, or positions ``0..n-1`` from the first line."""
    probe = pd.read_csv(stream, header=0 if has_header else None, nrows=0 if has_header else 1,
                        **options)  # fmt: skip
    return [str(c) for c in probe.columns]


def _read_chunks(
    stream: Any,
    options: dict[str, Any],
    rows: int,
    mapping: dict[str, str],
    locate: Locate,
    duplicates: str,
    text_ids: set[str],
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
            if integer[field] and values.str.fullmatch(_INTEGER_ID).all():
                parts[field].append(values.to_numpy().astype(np.int64))
            elif integer[field] and parts[field]:
                raise _TextIds(field)
            else:
                integer[field] = False
                parts[field].append(values.to_numpy(dtype=object))
        parts["rating"].append(_numeric(chunk, mapping["rating"], "rating", locate))
        if "date" in mapping:
            text = _required(chunk, mapping["date"], "date", locate)
            parts["date"].append(_parse_days(text, locate))
        parts["rows"].append(chunk.index.to_numpy(np.int64))
        if k == 0 and duplicates == "error":
            # A file of one repeated line fails here, in its first chunk, not after
            # the whole (possibly decompressed-gigabyte) file is parsed.
            _first_duplicate(parts["user"][0], parts["item"][0], parts["rows"][0], locate)
    return parts


def _concat_ids(chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.empty(0, np.int64)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def _describe(exc: BaseException) -> str:
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
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _map_columns(
    frame: pd.DataFrame, columns: Mapping[str, str] | None, has_header: bool, label: str
) -> dict[str, str]:
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
                f"{label}: no column {show(wanted)} for {field} (columns: {_names(names)})"
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
            f"(columns: {_names(names)}); pass --columns user=COL,item=COL,rating=COL"
        )
    return mapping


def _names(names: list[str], limit: int = 12) -> str:
    """Column names for a message: a few, each cut short."""
    shown = ", ".join(show(n, 30)[1:-1] for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    blank = (frame.fillna("").astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1)
    return frame[~blank.to_numpy()] if blank.any() else frame


def _first_bad(mask: np.ndarray) -> int | None:
    bad = np.flatnonzero(mask)
    return int(bad[0]) if bad.size else None


def _required(frame: pd.DataFrame, column: str, field: str, locate: Locate) -> pd.Series:
    values = frame[column].fillna("").astype(str).str.strip()
    i = _first_bad((values == "").to_numpy())
    if i is not None:
        raise InputError(f"{locate(int(frame.index[i]))}: missing {field}")
    return values


def _numeric(frame: pd.DataFrame, column: str, field: str, locate: Locate) -> np.ndarray:
    text = _required(frame, column, field, locate)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    i = _first_bad(np.isnan(values))
    if i is not None:
        raise InputError(
            f"{locate(int(frame.index[i]))}: {field} {show(text.iloc[i])} is not a number"
        )
    return values


def _parse_days(text: pd.Series, locate: Locate) -> np.ndarray:
    """Dates as int days: integers are Unix seconds, anything else ISO-8601 text."""
    as_int = pd.to_numeric(text, errors="coerce")
    if as_int.notna().all():
        seconds = as_int.to_numpy(dtype=np.float64)
        return np.floor_divide(seconds, 86400).astype(np.int64)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    i = _first_bad(parsed.isna().to_numpy())
    if i is not None:
        raise InputError(f"{locate(int(text.index[i]))}: unparseable date {show(text.iloc[i])}")
    return parsed.dt.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64)


# ---------------------------------------------------------------------- Parquet
def _parquet_bounds(path: Path, limits: ReadLimits) -> None:
    """Check the footer's size, then what it declares, before Arrow reads anything else."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size >= 12:
            fh.seek(size - 8)
            tail = fh.read(8)
            footer = int.from_bytes(tail[:4], "little")
            if tail[4:] == _PARQUET_MAGIC and footer > limits.footer_bytes:
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


def _read_parquet(
    path: Path,
    *,
    columns: Mapping[str, str] | None,
    scale: Scale | None,
    duplicates: str,
    limits: ReadLimits,
) -> Ratings:
    try:
        _parquet_bounds(path, limits)
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0].replace(f"'{path}'", "").replace(str(path), "")
        raise InputError(f"{path}: not a readable Parquet file ({reason})") from None
    label = str(path)
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in table.column_names})
    mapping = _map_columns(frame, columns, True, label)

    def locate(i: int) -> str:
        return f"{label}: row {i + 1}"

    if table.num_rows == 0:
        raise InputError(f"{path}: no ratings (the table has no rows)")
    cols = {f: table.column(c) for f, c in mapping.items()}
    for field, col in cols.items():
        i = _first_bad(col.is_null().to_numpy(zero_copy_only=False))
        if i is not None:
            raise InputError(f"{locate(i)}: missing {field}")
    rating_type = cols["rating"].type
    if not (pa.types.is_integer(rating_type) or pa.types.is_floating(rating_type)):
        raise InputError(f"{path}: column {mapping['rating']!r} must be numeric, not {rating_type}")
    ratings = cols["rating"].to_numpy()  # float32 stays float32: no 800 MB copy at 100M
    days = None
    if "date" in cols:
        days = _arrow_days(cols["date"], mapping["date"], label, locate)
    users = _arrow_ids(cols["user"], mapping["user"], label)
    items = _arrow_ids(cols["item"], mapping["item"], label)
    del table, cols
    # Arrow's allocator keeps freed buffers for reuse; hand them back to the OS now that
    # the columns are numpy arrays (several GB at Netflix scale).
    pa.default_memory_pool().release_unused()
    try:
        return _assemble(
            users,
            items,
            ratings,
            days,
            locate,
            scale=scale,
            duplicates=duplicates,
            source=path.name,
        )
    finally:
        # and once more for what _assemble freed: 1.1 GiB kept at 100M ratings otherwise
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


def _arrow_days(col: pa.ChunkedArray, name: str, label: str, locate: Locate) -> np.ndarray:
    if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
        return col.cast(pa.timestamp("s")).cast(pa.int64()).to_numpy() // 86400
    if pa.types.is_integer(col.type):
        return np.floor_divide(col.to_numpy(), 86400)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return _parse_days(pd.Series(col.to_numpy(zero_copy_only=False)), locate)
    raise InputError(
        f"{label}: column {name!r} must hold dates, Unix seconds or text, not {col.type}"
    )


# ---------------------------------------------------------------------- Netflix
def _netflix_files(path: Path, *, required: bool = True) -> list[Path]:
    if path.is_file():
        return [path]
    folder = path / "training_set" if (path / "training_set").is_dir() else path
    files = sorted(folder.glob("mv_*.txt")) + sorted(folder.glob("mv_*.txt.gz"))
    files += sorted(path.glob("combined_data_*.txt")) + sorted(path.glob("combined_data_*.txt.gz"))
    if not files and required:
        raise InputError(
            f"{path}: folder holds no Netflix rating files (training_set/mv_*.txt or "
            "combined_data_*.txt)"
        )
    return files


def _read_bytes(path: Path, limits: ReadLimits) -> bytes:
    """A whole file, decompressed within the limits (the Netflix parser wants one buffer)."""
    try:
        return read_all(path, limits)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read ({_describe(exc)})") from None


def _read_netflix(
    path: Path, *, scale: Scale | None, duplicates: str, limits: ReadLimits
) -> Ratings:
    files = _netflix_files(path)
    # Concatenate the files (each one ends with a newline) and parse once: with many
    # small mv_*.txt files the per-file parser start-up would dominate.
    chunks: list[bytes] = []
    starts: list[int] = []  # global 0-based line index where each file begins
    n_lines = 0
    for file in files:
        data = _read_bytes(file, limits).removeprefix(b"\xef\xbb\xbf")
        if not data.strip():
            raise InputError(f"{file}: file is empty")
        if not data.endswith(b"\n"):
            data += b"\n"
        first = data.lstrip(b"\r\n").split(b"\n", 1)[0]
        if not _NETFLIX_HEADER.match(first):
            raise InputError(f"{file}: line 1: expected a 'MovieID:' line, got {show(first)}")
        starts.append(n_lines)
        n_lines += data.count(b"\n")  # every line ends with one
        chunks.append(data)
    del data  # with one file, `buffer` below is this very object: let it go with it
    buffer = b"".join(chunks)
    del chunks
    starts_arr = np.asarray(starts)

    def locate(i: int) -> str:
        k = int(np.searchsorted(starts_arr, i, side="right")) - 1
        return f"{files[k]}: line {i - starts[k] + 1}"

    raw = np.frombuffer(buffer, dtype=np.uint8)
    # Compact columns (16 bytes a line; int64 ids, float64 ratings and a line number
    # per row took 36): ids fall back to int64 only if one does not fit in int32.
    for id_type in (np.int32, np.int64):
        movie = np.empty(n_lines, id_type)
        users = np.empty(n_lines, id_type)
        ratings = np.empty(n_lines, np.float32)
        days = np.empty(n_lines, np.int32)
        n, status, bad, skips = parse_netflix(raw, movie, users, ratings, days)
        if status != ID_RANGE or id_type is np.int64:
            break
    if status != OK:
        text = _nth_line(buffer, bad)
        if status == BAD_DATE:
            date = text.rsplit(b",", 1)[-1].decode("utf-8", "replace").strip()
            raise InputError(f"{locate(bad)}: unparseable date {show(date)}")
        if status == BAD_RATING:
            rating = text.split(b",")[1].decode("utf-8", "replace").strip()
            raise InputError(f"{locate(bad)}: rating {show(rating)} is not a number")
        if status == ID_RANGE:
            raise InputError(f"{locate(bad)}: id {show(text.split(b',')[0])} is too large")
        raise InputError(
            f"{locate(bad)}: expected 'CustomerID,Rating,YYYY-MM-DD' or 'MovieID:', "
            f"got {show(text)}"
        )
    del buffer, raw
    return _assemble(
        users[:n],
        movie[:n],
        ratings[:n],
        days[:n],
        lambda row: locate(line_of_row(skips, row)),
        scale=scale or Scale(1, 5, 1),
        duplicates=duplicates,
        source=files[0].name if len(files) == 1 else f"{path.name} ({len(files)} files)",
    )


def _nth_line(buffer: bytes, n: int) -> bytes:
    """Line ``n`` (0-based) of a buffer, for an error message."""
    newlines = np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8) == 10)
    start = int(newlines[n - 1]) + 1 if n > 0 else 0
    end = int(newlines[n]) if n < len(newlines) else len(buffer)
    return buffer[start:end]


@numba.njit(cache=True)
def _first_off_scale(ratings: np.ndarray, lo: float, hi: float, step: float) -> int:
    """Index of the first rating off the scale, or -1 (no 100M-row temporaries)."""
    for k in range(len(ratings)):
        r = np.float64(ratings[k])
        pos = (r - lo) / step
        if r < lo - 1e-9 or r > hi + 1e-9 or abs(pos - np.rint(pos)) >= 1e-6:
            return k
    return -1


@numba.njit(cache=True)
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


def _assemble(
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
    i = _first_bad(~np.isfinite(ratings))
    if i is not None:
        raise InputError(f"{where(i)}: rating {ratings[i]:g} is not a finite number")
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
        i = _first_bad(days < lo)
        if i is not None:
            raise InputError(f"{where(i)}: date before 1900-01-01")
        i = _first_bad(days > today + 1)
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


def _first_duplicate(
    users: np.ndarray, items: np.ndarray, rows: np.ndarray, locate: Locate
) -> None:
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


def _as_ids(values: np.ndarray | pd.Series) -> np.ndarray:
    """Integer ids when every id is an integer (they then sort numerically), else text."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values if values.dtype.itemsize >= 4 else values.astype(np.int64)
    text = pd.Series(values, dtype=str)
    if text.str.fullmatch(r"-?\d{1,18}").all():
        return text.astype(np.int64).to_numpy()
    return text.to_numpy(dtype=object)
