"""Numba kernels compiled on first call, so that importing a module never loads numba.

``import policies`` (and the readers' ``publisher.core.assemble``) used to import numba
(0.4 s, and llvmlite's 100 MB) to decorate three kernels that most uses never call:
loading a policy, checking it, describing it. :func:`njit` defers both the import and
the compilation to the first call; the compiled function is cached on disk as with
``numba.njit(cache=True)``. A deferred kernel cannot be called from another jitted
function (it is a Python wrapper): kernels that call each other use numba directly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["njit"]

F = TypeVar("F", bound=Callable[..., Any])


def njit(function: F) -> F:
    """``numba.njit(cache=True)(function)``, applied on the first call."""
    compiled: list[Callable[..., Any]] = []

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        if not compiled:
            import numba

            compiled.append(numba.njit(cache=True)(function))
        return compiled[0](*args)

    call.py_func = function  # type: ignore[attr-defined]  # as numba's dispatchers offer
    return call  # type: ignore[return-value]
