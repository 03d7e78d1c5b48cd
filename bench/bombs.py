"""Hostile inputs against the readers: each must fail fast, in one line, under 2 GiB.

Builds the inputs of issue 12 at their full size (nothing is committed: each is made
in a temporary folder), runs ``publisher audit`` on each in its own process and
prints the exit code, the error line, the wall time and the process's peak RSS
(``wait4``'s ``ru_maxrss``). Each input is built in a child process of its own: Linux
keeps ``ru_maxrss`` across ``execve``, so a measured process must not be spawned from
one that just held the input in memory.

Usage::

    python bench/bombs.py            # all bombs, full size
    python bench/bombs.py --small    # the same shapes, a tenth of the size (quick look)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

LIMIT_GIB = 2.0


def gzip_member(data: bytes) -> bytes:
    """One complete gzip member: members concatenated are one valid gzip stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def zeros_gzip(path: Path, scale: float) -> None:
    """About 4.7 MB of gzip that inflates to about 4.7 GB of NUL bytes."""
    member = gzip_member(bytes(1 << 20))
    path.write_bytes(member * int(4500 * scale))


def repeated_line_gzip(path: Path, scale: float) -> None:
    """About 6 MB of gzip that inflates to gigabytes of one repeated rating line."""
    member = gzip_member(b"1,1,5,2005-01-01\n" * ((64 << 20) // 17))  # 64 MB of text
    path.write_bytes(member * max(1, int(6e6 * scale) // len(member)))


def row_groups_parquet(path: Path, scale: float) -> None:
    """A small Parquet file split into 400,000 row groups of one rating each."""
    n = int(400_000 * scale)
    table = pa.table(
        {
            "user": pa.array(range(n), pa.int32()),
            "item": pa.array([1] * n, pa.int32()),
            "rating": pa.array([3.0] * n, pa.float32()),
        }
    )
    pq.write_table(table, path, row_group_size=1, compression="none", write_statistics=False)


def nul_file(path: Path, scale: float) -> None:
    """256 MB of NUL bytes, uncompressed, named like a CSV."""
    with path.open("wb") as fh:
        block = bytes(1 << 20)
        for _ in range(int(256 * scale)):
            fh.write(block)


#: name: (file name, builder, extra audit options)
BOMBS: dict[str, tuple[str, Callable[[Path, float], None], list[str]]] = {
    "zeros": ("zeros.csv.gz", zeros_gzip, []),
    "repeated-line": ("ratings.csv.gz", repeated_line_gzip, []),
    # keep-last skips the first chunk's duplicate check: the expansion bound must hold
    "repeated-line-keep-last": (
        "ratings.csv.gz",
        repeated_line_gzip,
        ["--duplicates", "keep-last"],
    ),
    "row-groups": ("groups.parquet", row_groups_parquet, []),
    "nul-bytes": ("nul.csv", nul_file, []),
}


def run(path: Path, extra: list[str]) -> tuple[int, str, float, float]:
    """Exit code, last stderr line, seconds and peak RSS (GiB) of one audit."""
    env = {k: v for k, v in os.environ.items() if k != "PUBLISHER_KEY"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "audit", str(path), "-p", "none", "-q", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    lines = err.decode("utf-8", "replace").strip().splitlines() or [""]
    return process.returncode, lines[-1], seconds, usage.ru_maxrss / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the size")
    parser.add_argument("--build", nargs=2, metavar=("NAME", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    scale = 0.1 if args.small else 1.0
    if args.build:  # the child that builds one input
        name, path = args.build
        BOMBS[name][1](Path(path), scale)
        return 0
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, (file_name, build, extra) in BOMBS.items():
            path = Path(folder) / file_name
            small = ["--small"] if args.small else []
            subprocess.run(
                [sys.executable, __file__, *small, "--build", name, str(path)], check=True
            )
            what = (build.__doc__ or name).strip().splitlines()[0].rstrip(".")
            code, line, seconds, peak = run(path, extra)
            worst = max(worst, peak)
            print(
                f"{name}: {what}\n  {path.stat().st_size / 1e6:.1f} MB on disk, exit {code}, "
                f"{seconds:.1f} s, peak RSS {peak:.2f} GiB\n  {line[:200]}",
                flush=True,
            )
            path.unlink()
    print(f"worst peak RSS {worst:.2f} GiB (limit {LIMIT_GIB} GiB)")
    return 0 if worst < LIMIT_GIB else 1


if __name__ == "__main__":
    sys.exit(main())
