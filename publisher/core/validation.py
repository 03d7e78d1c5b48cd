"""Parameter checks shared by every policy step and policy section.

Each check raises a :class:`ParameterError` that knows the parameter, what it must
be and the value it got, so the same failure renders two ways: sklearn-style when a
step is built from Python (``The 'epsilon' parameter of PerturbRatings must be a
number > 0. Got -1 instead.``) and as a key path when a policy file is loaded
(``steps[4].perturb_ratings.epsilon: must be a number > 0, got -1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from publisher.core.errors import PolicyError, show

T = TypeVar("T")

# Bounds every policy value meets. Beyond them the tool's arrays would overflow (int32
# days, int64 draws) or a table would exhaust memory, and no real policy comes near them;
# `policy check` refuses what `release` could not run.
#: Days a step may move a date (jitter, re-dating): ten years.
MAX_SHIFT_DAYS = 3653
#: An adversary's date tolerance: a century.
MAX_TOLERANCE_DAYS = 36_525
#: An adversary's rating tolerance, in rating units.
MAX_RATING_TOLERANCE = 1_000
#: The smallest epsilon of a noisy table (its noise grows as 1/epsilon).
MIN_EPSILON = 1e-4
#: The largest contribution bound (ratings counted per customer) of the noisy tables.
MAX_CONTRIBUTION = 1_000_000

__all__ = [
    "MAX_CONTRIBUTION",
    "MAX_RATING_TOLERANCE",
    "MAX_SHIFT_DAYS",
    "MAX_TOLERANCE_DAYS",
    "MIN_EPSILON",
    "ParameterError",
    "ParameterTypeError",
    "at_path",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_keys",
    "check_number",
    "shown",
]


class ParameterError(PolicyError):
    """A parameter of a step or policy section holds a bad value."""

    def __init__(self, owner: str, param: str, requirement: str, value: Any) -> None:
        self.owner, self.param, self.requirement, self.value = owner, param, requirement, value
        super().__init__(
            f"The {param!r} parameter of {owner} must be {requirement}. "
            f"Got {show(value) if isinstance(value, str) else repr(value)[:40]} instead."
        )

    def at(self, path: str) -> str:
        """Render the error under a policy key path (``steps[2].jitter_dates``)."""
        return f"{path}.{self.param}: must be {self.requirement}, got {shown(self.value)}"


class ParameterTypeError(ParameterError, TypeError):
    """A parameter of a step or policy section has the wrong type."""


def shown(value: Any, *, lists: bool = False) -> str:
    """A policy value as an error message quotes it: text cut to 40 characters, no dumps.

    A list is "a list" (``lists=True``: shown when short, as a range's bounds are).

    Examples
    --------
    >>> shown(None), shown(True), shown([1, 2]), shown([1, 2], lists=True), shown(2.5)
    ('null', 'true', 'a list', '[1, 2]', '2.5')
    >>> shown("root:x:0:0:root:/root:/bin/bash daemon:x:1:1")
    "'root:x:0:0:root:/root:/bin/bash daemon:x...'"
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return show(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        text = repr(list(value))
        return text if lists and len(text) <= 40 else "a list"
    return str(value)


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _bound(minimum: float | None, maximum: float | None, low_open: bool, high_open: bool) -> str:
    if minimum is not None and maximum is not None:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        return f" in {left}{_number(minimum)}, {_number(maximum)}{right}"
    if minimum is not None:
        return f" {'>' if low_open else '>='} {_number(minimum)}"
    if maximum is not None:
        return f" {'<' if high_open else '<='} {_number(maximum)}"
    return ""


def check_int(
    owner: str, param: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` if it is an int within the bounds (inclusive); bools are not ints."""
    requirement = "an integer" + _bound(minimum, maximum, False, False)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(owner, param, requirement, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ParameterError(owner, param, requirement, value)
    return value


def check_number(
    owner: str,
    param: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number within the bounds."""
    requirement = "a number" + _bound(minimum, maximum, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterTypeError(owner, param, requirement, value)
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(owner, param, requirement, value)
    too_low = minimum is not None and (number <= minimum if low_open else number < minimum)
    too_high = maximum is not None and (number >= maximum if high_open else number > maximum)
    if too_low or too_high:
        raise ParameterError(owner, param, requirement, value)
    return number


def check_fraction(owner: str, param: str, value: Any, *, allow_zero: bool = True) -> float:
    """Return ``value`` if it is a number in [0, 1] (or (0, 1] without ``allow_zero``)."""
    return check_number(owner, param, value, minimum=0, maximum=1, low_open=not allow_zero)


def check_choice(owner: str, param: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    requirement = "one of " + ", ".join(choices)
    if not isinstance(value, str):
        raise ParameterTypeError(owner, param, requirement, value)
    if value not in choices:
        raise ParameterError(owner, param, requirement, value)
    return value


def check_keys(path: str, given: Any, allowed: Iterable[str], required: Iterable[str] = ()) -> dict:
    """Check a policy mapping's keys before anything else, as sklearn does.

    Raises
    ------
    PolicyError
        Naming the key path for a non-mapping, an unknown key or a missing one.
    """
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise PolicyError(f"{path}: must be a mapping, got {shown(given)}")
    allowed = tuple(allowed)
    for key in given:
        if key not in allowed:
            hint = f"; allowed: {', '.join(allowed)}" if allowed else " (takes no keys)"
            raise PolicyError(f"{path}: unknown key {show(str(key))}{hint}")
    for key in required:
        if key not in given:
            raise PolicyError(f"{path}: missing required key {show(str(key))}")
    return dict(given)


def at_path(path: str, build: Callable[[], T]) -> T:
    """Run ``build()``; a :class:`ParameterError` becomes a PolicyError under ``path``.

    A step or section checks its own parameters (sklearn-style messages from Python);
    loaded from a policy file, the same failure names the key path instead.
    """
    try:
        return build()
    except ParameterError as exc:
        raise PolicyError(exc.at(path)) from None
