"""Bounds on what an input file can make the readers do: bytes, lines, columns, row groups.

A 5 MB gzip can hold 5 GB of zeros, a Parquet footer can declare hundreds of thousands
of row groups, a file can be one 256 MB line. Real ratings data is nowhere near these
shapes, so each reader checks the input against :class:`ReadLimits` as it goes and fails
at the first excess with one line that names the limit and how to raise it
(``--limit NAME=VALUE``), long before memory runs out.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from publisher.core.errors import InputError
from publisher.readers.detect import is_gzip

__all__ = [
    "DEFAULT_LIMITS",
    "BoundedReader",
    "ReadLimits",
    "open_bounded",
    "parse_limits",
    "read_all",
]

#: A compressed input may expand to at least this many bytes whatever its ratio, so a
#: small gzip (whose header and dictionary dominate) is never refused.
_EXPANSION_FLOOR = 16 << 20


@dataclass(frozen=True, kw_only=True)
class ReadLimits:
    """What a reader accepts before it gives up on an input.

    Parameters
    ----------
    expansion : int
        A gzip input may decompress to at most this many times its size (real ratings
        files compress 3-6 times), and a Parquet file may declare at most this many rows
        per byte of file (real ones hold 5-20 bytes a row).
    line_bytes : int
        Longest line of a text input, in bytes.
    columns : int
        Most columns a delimited text input may have.
    row_groups : int
        Most row groups of a Parquet file (100M ratings take about 100).
    footer_bytes : int
        Largest Parquet footer (its metadata), in bytes.
    spool_bytes : int
        Most bytes of a stream input (stdin, a FIFO) copied before it is read.
    """

    expansion: int = 20
    line_bytes: int = 65_536
    columns: int = 1_000
    row_groups: int = 10_000
    footer_bytes: int = 16 << 20
    spool_bytes: int = 16 << 30

    def __post_init__(self) -> None:
        for limit in dataclasses.fields(self):
            value = getattr(self, limit.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(
                    f"--limit {limit.name}: must be a whole number >= 1, got {value!r}"
                )

    def exceeded(self, name: str, what: str) -> InputError:
        """The error for an input beyond limit ``name``: what it is, and how to raise it."""
        return InputError(f"{what}; raise the limit with --limit {name}=N")


DEFAULT_LIMITS = ReadLimits()


def parse_limits(entries: tuple[str, ...] | list[str]) -> ReadLimits:
    """Build limits from ``NAME=VALUE`` strings, starting from the defaults.

    Examples
    --------
    >>> parse_limits(["expansion=100"]).expansion
    100
    """
    names = [f.name for f in dataclasses.fields(ReadLimits)]
    values: dict[str, int] = {}
    for entry in entries:
        name, sep, value = entry.partition("=")
        if not sep or name.strip() not in names:
            raise InputError(f"--limit must look like NAME=N with NAME one of {', '.join(names)}")
        try:
            values[name.strip()] = int(value.replace("_", "").replace(",", ""))
        except ValueError:
            raise InputError(
                f"--limit {name.strip()}: must be a whole number, got {value!r}"
            ) from None
    return ReadLimits(**values)


class BoundedReader(io.RawIOBase):
    """A binary stream that counts what passes through it and stops at the limits.

    It checks the total number of bytes (for decompressed input) and the length of
    every line, with numpy on each block, so the check costs about a millisecond a MB.

    Parameters
    ----------
    raw : binary file
        The stream to read (a file, or a :class:`gzip.GzipFile`).
    label : str
        The input's name, for messages.
    limits : ReadLimits
    max_bytes : int or None
        Most bytes to let through; None for no bound (an uncompressed file is bounded
        by its own size).
    check_lines : bool
        Whether to bound line lengths (a reader that holds the whole file anyway, such
        as the Netflix parser, need not).
    """

    def __init__(
        self,
        raw: BinaryIO,
        label: str,
        limits: ReadLimits,
        max_bytes: int | None,
        *,
        check_lines: bool = True,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._label = label
        self._limits = limits
        self._max_bytes = max_bytes
        self._check = check_lines
        self.bytes_read = 0
        self.lines = 0  # complete lines seen
        self._line_length = 0  # bytes of the current, unfinished line

    def readable(self) -> bool:  # noqa: D102
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # noqa: D102
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        if self._max_bytes is not None and self.bytes_read > self._max_bytes:
            raise self._limits.exceeded(
                "expansion",
                f"{self._label}: decompresses to more than {self._limits.expansion} times its size",
            )
        if self._check:
            self._check_lines(data)
        return n

    def _check_lines(self, data: bytes) -> None:
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        limit = self._limits.line_bytes
        if newlines.size == 0:
            self._line_length += len(data)
            longest, where = self._line_length, 0
        else:
            first = self._line_length + int(newlines[0])
            gaps = np.diff(newlines) - 1
            inner = int(gaps.max()) if gaps.size else -1
            self._line_length = len(data) - int(newlines[-1]) - 1
            longest, where = first, 0
            if inner > longest:
                longest, where = inner, int(np.argmax(gaps)) + 1
            if self._line_length > longest:
                longest, where = self._line_length, newlines.size
        if longest > limit:
            raise self._limits.exceeded(
                "line_bytes",
                f"{self._label}: line {self.lines + where + 1:,} is longer than {limit:,} bytes",
            )
        self.lines += int(newlines.size)

    def close(self) -> None:  # noqa: D102
        try:
            self._raw.close()
        finally:
            super().close()


def _bounded(path: Path, limits: ReadLimits, check_lines: bool) -> BoundedReader:
    if is_gzip(path):
        size = path.stat().st_size
        raw: BinaryIO = gzip.open(path, "rb")  # type: ignore[assignment]
        cap: int | None = max(limits.expansion * size, _EXPANSION_FLOOR)
    else:
        raw, cap = path.open("rb"), None
    return BoundedReader(raw, str(path), limits, cap, check_lines=check_lines)


def open_bounded(path: Path, limits: ReadLimits) -> io.BufferedReader:
    """Open a text input (gzip or plain) as a bounded binary stream.

    A gzip input may yield at most ``max(limits.expansion x its size, 16 MiB)``
    bytes; every line of either kind is at most ``limits.line_bytes`` long.
    """
    return io.BufferedReader(_bounded(path, limits, True), buffer_size=1 << 20)


def read_all(path: Path, limits: ReadLimits) -> bytes:
    """A whole input's bytes, decompressed within ``limits.expansion`` (lines unbounded)."""
    if not is_gzip(path):
        return path.read_bytes()
    blocks = []
    with _bounded(path, limits, False) as stream:
        while block := stream.read(16 << 20):
            blocks.append(block)
    return b"".join(blocks)
