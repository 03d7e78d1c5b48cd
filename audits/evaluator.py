"""The one shape of an audit: construct with its inputs, ``evaluate()``, ``results()``.

Every audit the engine runs (linkage, uniqueness, utility, date recovery,
distinguishability) has this shape, so the runner (:mod:`publisher.engine.runner`)
treats them alike and a new audit is one class plus one line there.
"""

from __future__ import annotations

from typing import Generic, Self, TypeVar

__all__ = ["Evaluator"]

R = TypeVar("R")


class Evaluator(Generic[R]):
    """An audit: its inputs are given at construction, its figures by :meth:`results`."""

    _result: R | None = None

    def evaluate(self) -> Self:
        """Run the audit once; returns ``self``."""
        self._result = self._run()
        return self

    def results(self) -> R:
        """The typed result (each owns its ``to_dict``: its report.json section)."""
        if self._result is None:
            raise RuntimeError(f"call evaluate() before results() on {type(self).__name__}")
        return self._result

    def _run(self) -> R:
        raise NotImplementedError
