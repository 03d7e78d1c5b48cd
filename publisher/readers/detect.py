"""Which reader a path needs: by name, by magic bytes, by the first line.

Sniffing reads at most 4 KiB (decompressed) of a file, so it is safe on any input.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from publisher.core.errors import InputError

__all__ = ["FORMATS", "detect_format", "first_line", "head_bytes", "is_gzip", "refine"]


#: Values accepted by ``--format``.
FORMATS = ("auto", "csv", "tsv", "parquet", "movielens", "netflix")

GZIP_MAGIC = b"\x1f\x8b"

PARQUET_MAGIC = b"PAR1"

NETFLIX_HEADER = re.compile(rb"^\s*\d+:\s*$")


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
        if netflix_files(path, required=False):
            return "netflix"
        return refine(movielens_file(path), "movielens")
    name = strip_gz(path.name).lower()
    head = head_bytes(path)
    if name.endswith(".parquet") or head.startswith(PARQUET_MAGIC):
        return "parquet"
    if re.fullmatch(r"(mv_\d+|combined_data_\d+)\.txt", name):
        return "netflix"
    if name in ("u.data", "ratings.dat", "ratings.csv"):
        return refine(path, "movielens")
    first = first_line(head)
    if NETFLIX_HEADER.match(first):
        return "netflix"
    if b"::" in first:
        return "movielens-1m"
    if name.endswith(".tsv") or name.endswith(".data") or b"\t" in first:
        return "tsv"
    return "csv"


# ------------------------------------------------------------------ format detection
def strip_gz(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def head_bytes(path: Path, n: int = 4096) -> bytes:
    """The first ``n`` bytes of a file, decompressed if it is gzip."""
    with path.open("rb") as fh:
        raw = fh.read(n)
    if raw.startswith(GZIP_MAGIC):
        try:
            # A partial decompress: enough for sniffing, tolerant of a short read.
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw)[:n]
        except zlib.error as exc:
            raise InputError(f"{path}: corrupt gzip data ({exc})") from None
    return raw


def first_line(head: bytes) -> bytes:
    """The first non-blank line of ``head``, stripped (and without a UTF-8 BOM)."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    for line in head.splitlines():
        if line.strip():
            return line.strip()
    return b""


def refine(path: Path, format: str) -> str:
    """Turn a user-facing format name into the concrete reader name."""
    if format != "movielens":
        return format
    if path.is_dir():
        return refine(movielens_file(path), "movielens")
    name = strip_gz(path.name).lower()
    if name == "u.data" or name.endswith(".data"):
        return "movielens-100k"
    if name.endswith(".dat"):
        return "movielens-1m"
    first = first_line(head_bytes(path))
    if b"::" in first:
        return "movielens-1m"
    if b"\t" in first:
        return "movielens-100k"
    return "movielens-csv"


def movielens_file(folder: Path) -> Path:
    for name in ("ratings.csv", "ratings.dat", "u.data"):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise InputError(
        f"{folder}: folder holds no rating files (expected training_set/mv_*.txt, "
        "mv_*.txt, combined_data_*.txt, ratings.csv, ratings.dat or u.data)"
    )


# ---------------------------------------------------------------------- Netflix
def netflix_files(path: Path, *, required: bool = True) -> list[Path]:
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


def is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic bytes."""
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC
