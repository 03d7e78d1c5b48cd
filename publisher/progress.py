"""Stage timing and progress on stderr.

On a terminal each running stage shows a rich progress bar (indeterminate: the
stages are single compiled or vectorized calls) with its elapsed time; without a
terminal each stage writes one line when it ends; ``quiet`` shows nothing. The
times are kept either way for the final summary.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from collections.abc import Iterator
from typing import TextIO

__all__ = ["Stages"]


class Stages:
    """Times named stages and reports them.

    Parameters
    ----------
    visible : bool
        Report on ``stream`` (False: only keep the times).
    stream : file, optional
        Defaults to ``sys.stderr`` at the time of each stage.
    """

    def __init__(self, *, visible: bool = False, stream: TextIO | None = None) -> None:
        self.visible = visible
        self.stream = stream
        self.times: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``."""
        stream = self.stream or sys.stderr
        started = time.perf_counter()
        bar = None
        if self.visible and stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=Console(file=stream),
                transient=True,
            )
            bar.add_task(name, total=None)
            bar.start()
        outcome = "failed"
        try:
            yield
            outcome = "done"
        finally:
            if bar is not None:
                bar.stop()
            elapsed = time.perf_counter() - started
            self.times[name] = self.times.get(name, 0.0) + elapsed
            if self.visible:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
                print(
                    f"[{elapsed:7.1f}s] {name} {outcome} (peak memory so far {peak:.1f} GiB)",
                    file=stream,
                    flush=True,
                )

    def summary(self) -> str:
        """One line: time per stage and the total."""
        parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.times.items())
        return f"time per stage: {parts}; total {sum(self.times.values()):.1f}s"
