"""Readers: CSV/TSV, Parquet, MovieLens and Netflix Prize files into a :class:`Ratings`.

One module per format (:mod:`~publisher.readers.delimited`,
:mod:`~publisher.readers.parquet`, :mod:`~publisher.readers.netflix`), format detection
(:mod:`~publisher.readers.detect`), column mapping (:mod:`~publisher.readers.columns`),
the input bounds (:mod:`~publisher.readers.limits`) and the checks every reader shares
(:mod:`~publisher.core.assemble`). Every reader parses with a C parser (pandas,
pyarrow or a compiled loop), never a Python loop per line, then hands parallel columns
to :func:`~publisher.core.assemble.assemble`, which validates them and names the
file and line of the first bad row.

Duplicate (user, item) pairs are an error by default (``duplicates="error"``):
silently keeping one of two conflicting ratings would change the data the
organizer meant to publish. ``duplicates="keep-last"`` keeps the rating that
comes last in file order (for Netflix folders: in file-name order).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from publisher.core.assemble import check_filled
from publisher.core.errors import InputError
from publisher.core.ratings import Ratings, Scale
from publisher.readers.columns import FIELDS, parse_columns
from publisher.readers.dates import DATE_FORMATS
from publisher.readers.delimited import DELIMITERS, read_delimited
from publisher.readers.detect import FORMATS, detect_format, movielens_file, refine
from publisher.readers.limits import DEFAULT_LIMITS, ReadLimits
from publisher.readers.netflix import read_netflix
from publisher.readers.parquet import read_parquet
from publisher.readers.spool import STDIN, readable_input

__all__ = [
    "DATE_FORMATS",
    "DEFAULT_READING",
    "DELIMITERS",
    "FORMATS",
    "FORMAT_SCALES",
    "STDIN",
    "ReadOptions",
    "detect_format",
    "parse_columns",
    "read_ratings",
    "readable_input",
]

logger = logging.getLogger(__name__)

DUPLICATE_RULES = ("error", "keep-last")

#: The scales the formats define: a --scale that contradicts them is refused. (MovieLens
#: ``ratings.csv`` is left out: the name alone does not prove a file is MovieLens.)
FORMAT_SCALES = {
    "netflix": ("Netflix Prize", Scale(1, 5, 1)),
    "movielens-100k": ("MovieLens 100K", Scale(1, 5, 1)),
    "movielens-1m": ("MovieLens 1M", Scale(1, 5, 1)),
}


@dataclass(frozen=True)
class ReadOptions:
    """How to read the input: the reader options of ``release``, ``audit`` and ``tune``.

    Attributes are the keyword arguments of :func:`read_ratings`.
    """

    format: str = "auto"
    columns: Mapping[str, str] | None = None
    scale: Scale | None = None
    duplicates: str = "error"
    limits: ReadLimits = DEFAULT_LIMITS
    delimiter: str | None = None
    dates: bool = True
    date_format: str = "auto"

    def read(self, path: str | Path) -> Ratings:
        """:func:`read_ratings` with these options."""
        with readable_input(path, self.limits) as readable:  # a stream: copied once
            return _read(readable, self)


#: The options of a plain ``read_ratings(path)``.
DEFAULT_READING = ReadOptions()


def read_ratings(
    path: str | Path,
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    scale: Scale | None = None,
    duplicates: str = "error",
    limits: ReadLimits = DEFAULT_LIMITS,
    delimiter: str | None = None,
    dates: bool = True,
    date_format: str = "auto",
) -> Ratings:
    """Read a ratings file or folder into a :class:`Ratings`.

    Parameters
    ----------
    path : str or Path
        A file (optionally gzip-compressed) or a Netflix Prize / MovieLens folder; ``-``
        (standard input) or a FIFO is copied once first (:mod:`publisher.readers.spool`).
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
        for generic files it is inferred from the data and logged. A scale that
        contradicts the format's, or that the data leaves half empty, is refused.
    duplicates : {"error", "keep-last"}
        What to do with two ratings of the same item by the same user.
    limits : ReadLimits
        Bounds on decompression, line length, columns and Parquet metadata; an input
        beyond them is refused before it can exhaust memory.
    delimiter : str, optional
        For CSV files: one of ``,``, tab, ``;``, ``|``; sniffed from the first lines
        when not given.
    dates : bool
        False reads no dates (``--no-dates``); a column that holds dates under a name
        the tool does not know is otherwise an error, never silently dropped.
    date_format : {"auto", "iso", "unix-seconds", "unix-ms", "days", "yyyymmdd"}
        What the date column holds. ``auto`` reads ISO 8601 text and recognises integer
        columns of YYYYMMDD dates, Unix milliseconds or seconds (1973-2100); other
        integers (day numbers) are refused unless declared (:mod:`publisher.readers.dates`).

    Returns
    -------
    Ratings

    Raises
    ------
    InputError
        On an unreadable file or the first invalid row, naming the file and line.
    """
    return ReadOptions(
        format=format,
        columns=columns,
        scale=scale,
        duplicates=duplicates,
        limits=limits,
        delimiter=delimiter,
        dates=dates,
        date_format=date_format,
    ).read(path)


def _read(path: Path, options: ReadOptions) -> Ratings:
    """Read one input that may be opened as often as needed, with ``options``."""
    format, columns, scale = options.format, options.columns, options.scale
    duplicates, limits, delimiter = options.duplicates, options.limits, options.delimiter
    dates, date_format = options.dates, options.date_format
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
    if date_format not in DATE_FORMATS:
        raise InputError(f"unknown date format {date_format!r}; use {', '.join(DATE_FORMATS)}")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise InputError(f"unknown delimiter {delimiter!r}; use comma, tab, semicolon or pipe")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    kind = detect_format(path) if format == "auto" else refine(path, format)
    logger.info("reading %s as %s", path, kind)
    if path.is_dir() and kind != "netflix":
        path = movielens_file(path)
        kind = refine(path, "movielens")
    if kind in FORMAT_SCALES and scale is not None and scale != FORMAT_SCALES[kind][1]:
        name, own = FORMAT_SCALES[kind]
        raise InputError(
            f"{path}: --scale {scale} contradicts the {name} scale {own}; leave --scale out"
        )
    if kind == "netflix":
        ratings = read_netflix(path, scale=scale, duplicates=duplicates, limits=limits)
        if not dates:
            ratings = ratings.with_frame(ratings.frame.drop(columns=["date"]))
    elif kind == "parquet":
        ratings = read_parquet(
            path,
            columns=columns,
            scale=scale,
            duplicates=duplicates,
            limits=limits,
            dates=dates,
            date_format=date_format,
        )
    else:
        ratings = read_delimited(
            path,
            kind,
            columns=columns,
            scale=scale,
            duplicates=duplicates,
            limits=limits,
            delimiter=delimiter,
            dates=dates,
            date_format=date_format,
        )
    if scale is not None and ratings.n_ratings:
        check_filled(ratings.frame["rating"].to_numpy(), scale, str(path))
    return ratings
