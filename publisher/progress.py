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
from typing import Any, TextIO

from publisher.console import stderr_console

__all__ = ["CandidateProgress", "Stages"]


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

            # the shared Console on stderr: log lines print above the bar, never on it
            console = stderr_console() if stream is sys.stderr else Console(file=stream)
            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=console,
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


class CandidateProgress:
    """``publisher tune``'s progress: one bar of candidates done, or a line per tenth.

    On a terminal, one bar (candidates done of N, elapsed and estimated time left) on
    the shared Console; off a terminal a line at each tenth of the candidates. With
    ``lines`` (``tune -v``) every candidate also gets its own line.

    Parameters
    ----------
    lines : bool
        Print one line per candidate (its status, risk and reason).
    stream : file, optional
        Defaults to ``sys.stderr``.
    """

    def __init__(self, *, lines: bool = False, stream: TextIO | None = None) -> None:
        self.lines = lines
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None
        self._shown = -1

    def __call__(self, trial: Any, k: int, n: int) -> None:
        """Report that candidate ``k`` (0-based) of ``n`` is done."""
        if self.lines:
            figures = trial.figures or {}
            upper = figures.get("risk_upper")
            risk = "" if upper is None else f" risk upper {100 * upper:.1f}%"
            reason = f": {trial.reason}" if trial.reason else ""
            message = (
                f"[{k + 1}/{n}] #{trial.candidate.number} {trial.status}{risk} "
                f"({trial.seconds:.1f} s){reason}"
            )
            if self._bar is not None:
                self._bar.console.print(message, markup=False, highlight=False)
            else:
                print(message, file=self.stream, flush=True)
        if self.stream.isatty():
            self._advance(k, n)
        else:
            tenth = (10 * (k + 1)) // max(n, 1)
            if tenth > self._shown and not self.lines:
                self._shown = tenth
                elapsed = time.perf_counter() - self.started
                print(
                    f"tune: {k + 1}/{n} candidates ({100 * (k + 1) // max(n, 1)}%), "
                    f"{elapsed:.0f} s",
                    file=self.stream,
                    flush=True,
                )

    def _advance(self, k: int, n: int) -> None:
        if self._bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = stderr_console() if self.stream is sys.stderr else None
            self._bar = Progress(
                TextColumn("candidates"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._task = self._bar.add_task("candidates", total=n)
            self._bar.start()
        self._bar.update(self._task, completed=k + 1, total=n)
        if k + 1 >= n:
            self.close()

    def close(self) -> None:
        """Remove the bar (the search ended or was interrupted)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
