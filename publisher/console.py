"""One rich Console on stderr, shared by log lines and progress bars.

Log records and bars that write to the same Console never overwrite each other: rich
prints a record above a live bar. Off a terminal nothing here is used: log lines are
plain text and there are no bars (CI logs stay greppable).
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

__all__ = ["log_handler", "stderr_console"]


@functools.cache
def stderr_console() -> Any:
    """The process's Console on stderr (rich binds sys.stderr at each write)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def log_handler(*, terminal: bool) -> logging.Handler:
    """A handler printing each record's message alone.

    Through the shared Console on a terminal, as a plain line on stderr otherwise.
    """
    if terminal:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=stderr_console(),
            show_time=False,
            show_level=False,
            show_path=False,
            markup=False,
            highlighter=None,
            keywords=[],
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler
