"""The Netflix Prize text form: ``training_set/mv_*.txt`` folders and ``combined_data_*.txt``.

A ``MovieID:`` line, then ``CustomerID,Rating,YYYY-MM-DD`` lines. Files are joined
and parsed once by a compiled parser (:mod:`publisher.readers._netflix`) into compact
columns; a bad line is found again from the header positions when an error needs it.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from publisher.core.assemble import assemble
from publisher.core.errors import InputError, show
from publisher.core.ratings import Ratings, Scale
from publisher.readers._netflix import (
    BAD_DATE,
    BAD_RATING,
    ID_RANGE,
    LEADING_ZERO,
    OK,
    line_of_row,
    parse_netflix,
)
from publisher.readers.delimited import describe_error
from publisher.readers.detect import NETFLIX_HEADER, netflix_files
from publisher.readers.limits import ReadLimits, read_all

__all__ = ["read_netflix"]


def _read_bytes(path: Path, limits: ReadLimits) -> bytes:
    """A whole file, decompressed within the limits (the Netflix parser wants one buffer)."""
    try:
        return read_all(path, limits)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read ({describe_error(exc)})") from None


def read_netflix(
    path: Path, *, scale: Scale | None, duplicates: str, limits: ReadLimits
) -> Ratings:
    """Read a Netflix Prize file or folder (1-5 stars unless ``scale`` says otherwise).

    Raises
    ------
    InputError
        On the first bad line, naming its file and line, or on an input beyond ``limits``.
    """
    files = netflix_files(path)
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
        if not NETFLIX_HEADER.match(first):
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
        if status == LEADING_ZERO:
            shown = show(text.split(b",")[0].rstrip(b":"))
            raise InputError(
                f"{locate(bad)}: id {shown} has a leading zero; read as a number it would be "
                "the same id as one without it, so it is refused"
            )
        raise InputError(
            f"{locate(bad)}: expected 'CustomerID,Rating,YYYY-MM-DD' or 'MovieID:', "
            f"got {show(text)}"
        )
    del buffer, raw
    return assemble(
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
