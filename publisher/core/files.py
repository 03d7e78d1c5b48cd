"""Reading a small file (a policy, a catalogue, a key, a JSON document) with a bound.

One home for the rules every small read follows: at most ``max_bytes + 1`` bytes are
read (``/dev/zero`` named as a policy would otherwise fill memory), and a file that grew
past the bound while being read is refused; optionally links and special files (FIFOs,
devices) are refused before a byte is read. Callers turn :class:`SmallFileError` into
their own one-line message (a policy key, a bundle file, a key file).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["SmallFileError", "read_small_file"]


class SmallFileError(Exception):
    """A small file could not be read within the rules.

    Attributes
    ----------
    kind : {"link", "folder", "special", "size", "os"}
        A symbolic link (refused), a folder, a FIFO or device (refused), larger than
        the bound, or another operating-system error.
    detail : str
        The operating system's words for ``os`` errors; empty otherwise.
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind, self.detail = kind, detail


def read_small_file(
    path: str | Path, max_bytes: int, *, follow_links: bool = True, special: bool = True
) -> bytes:
    """The bytes of ``path``, at most ``max_bytes`` of them.

    Parameters
    ----------
    path : path
    max_bytes : int
        The bound; a larger file raises ``SmallFileError("size")``.
    follow_links : bool
        False: a symbolic link is refused (``link``), not followed.
    special : bool
        False: only a regular file is read; a FIFO or device is refused (``special``)
        without blocking on it. True lets a pipe through (``--key-file <(pass key)``).

    Raises
    ------
    FileNotFoundError
        Left to the caller, which knows what a missing file means.
    SmallFileError
    """
    flags = os.O_RDONLY
    if not follow_links:
        flags |= os.O_NOFOLLOW
    if not special:
        flags |= os.O_NONBLOCK  # opening a FIFO must not wait for a writer
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise SmallFileError("folder") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:  # O_NOFOLLOW met a link
            raise SmallFileError("link") from None
        raise SmallFileError("os", exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SmallFileError("folder")
        if not special and not stat.S_ISREG(info.st_mode):
            raise SmallFileError("special")
        if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
            raise SmallFileError("size")
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SmallFileError("os", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew while being read, or a stream
        raise SmallFileError("size")
    return data
