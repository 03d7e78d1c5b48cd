"""Inputs that can be read only once (a pipe, ``-`` for stdin, ``<(zcat f)``): spooled first.

Reading a file means opening it several times: the format is sniffed from its first
bytes, a CSV's first rows are sampled for its columns, the whole is parsed, then hashed
for the report. A FIFO gives its bytes once: a second open blocks forever or starts
mid-stream. So a stream that is not a regular file is copied once, up to the
``spool_bytes`` limit, into a private temporary folder (mode 0700, removed afterwards)
and read from there like any file; the report names it as it was given (``stdin``, the
FIFO's name).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from publisher.core.errors import InputError
from publisher.readers.limits import DEFAULT_LIMITS, ReadLimits

__all__ = ["STDIN", "readable_input"]

#: The INPUT that means standard input.
STDIN = "-"
_BLOCK = 1 << 20


@contextlib.contextmanager
def readable_input(path: str | Path, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Path]:
    """Yield a path that may be opened as often as needed: ``path`` itself, or a spool of it.

    Parameters
    ----------
    path : str or Path
        A file, a folder, ``-`` (standard input), or a FIFO / character device.
    limits : ReadLimits
        ``spool_bytes`` bounds what a stream may hold.

    Raises
    ------
    InputError
        For a stream larger than ``spool_bytes``, or a path that is none of the above.
    """
    if str(path) == STDIN:
        with _spooled(sys.stdin.buffer, "stdin", "standard input", limits) as spooled:
            yield spooled
        return
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        yield path  # the reader says "no such file or folder"
        return
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        yield path
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)):
        raise InputError(f"{path}: not a file, a folder or a stream to read")
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with stream, _spooled(stream, path.name or "input", str(path), limits) as spooled:
        yield spooled


@contextlib.contextmanager
def _spooled(stream: BinaryIO, name: str, label: str, limits: ReadLimits) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="publisher-input-") as folder:
        target = Path(folder) / name
        written = 0
        with target.open("wb") as out:
            while block := stream.read(_BLOCK):
                written += len(block)
                if written > limits.spool_bytes:
                    raise limits.exceeded(
                        "spool_bytes",
                        f"{label}: a stream of more than {limits.spool_bytes:,} bytes (it is "
                        "copied once before reading)",
                    )
                out.write(block)
        yield target
