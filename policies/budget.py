"""The privacy budget: declared once, split explicitly, summed exactly.

Budgets are kept as :class:`fractions.Fraction` so that sums and comparisons are
exact (0.1 + 0.2 is 3/10, not 0.30000000000000004); a float enters only through
its shortest decimal form, and leaves rounded up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from publisher.core.errors import BudgetExceededError

__all__ = ["Budget", "Ledger", "exact", "round_up"]


def exact(value: float | int | Fraction) -> Fraction:
    """The exact rational a policy number means (its shortest decimal form).

    Examples
    --------
    >>> exact(0.1) + exact(0.2) == exact(0.3)
    True
    """
    if isinstance(value, Fraction):
        return value
    return Fraction(repr(float(value))) if isinstance(value, float) else Fraction(value)


def round_up(value: Fraction) -> float:
    """The smallest float >= value: reported budgets never understate the spend."""
    approx = float(value)
    return approx if Fraction(approx) >= value else math.nextafter(approx, math.inf)


def _show(value: Fraction) -> str:
    """Ten significant digits: exact for policy-sized decimals (3/10 shows as 0.3)."""
    return f"{float(value):.10g}"


@dataclass(frozen=True)
class Budget:
    """An (epsilon, delta) pair, exact.

    Parameters
    ----------
    epsilon, delta : Fraction
    """

    epsilon: Fraction = Fraction(0)
    delta: Fraction = Fraction(0)

    @classmethod
    def of(cls, epsilon: float | Fraction = 0, delta: float | Fraction = 0) -> Budget:
        """Build from policy numbers."""
        return cls(exact(epsilon), exact(delta))

    def __add__(self, other: Budget) -> Budget:
        return Budget(self.epsilon + other.epsilon, self.delta + other.delta)

    def __sub__(self, other: Budget) -> Budget:
        return Budget(self.epsilon - other.epsilon, self.delta - other.delta)

    def fits_in(self, other: Budget) -> bool:
        """Whether this spend fits in ``other``."""
        return self.epsilon <= other.epsilon and self.delta <= other.delta


class Ledger:
    """Tracks spending against a declared total (sequential composition).

    Parameters
    ----------
    total : Budget
    label : str
        Named in errors (``aggregates``).

    Examples
    --------
    >>> ledger = Ledger(Budget.of(1.0))
    >>> ledger.spend(Budget.of(0.4), "item_count")
    >>> ledger.remaining().epsilon
    Fraction(3, 5)
    """

    def __init__(self, total: Budget, label: str = "budget") -> None:
        self.total = total
        self.label = label
        self.spent = Budget()

    def remaining(self) -> Budget:
        """What is left."""
        return self.total - self.spent

    def check(self, request: Budget, what: str) -> None:
        """Raise :class:`BudgetExceededError` if ``request`` does not fit.

        The message has Requested / Remaining / Difference lines.
        """
        remaining = self.remaining()
        if not request.fits_in(remaining):
            difference = request - remaining
            raise BudgetExceededError(
                f"{self.label}: {what} overspends the privacy budget\n"
                f"  Requested:  epsilon={_show(request.epsilon)}, delta={_show(request.delta)}\n"
                f"  Remaining:  epsilon={_show(remaining.epsilon)}, "
                f"delta={_show(remaining.delta)}\n"
                f"  Difference: epsilon={_show(max(difference.epsilon, Fraction(0)))}, "
                f"delta={_show(max(difference.delta, Fraction(0)))}"
            )

    def spend(self, request: Budget, what: str) -> None:
        """Check, then record the spend."""
        self.check(request, what)
        self.spent = self.spent + request
