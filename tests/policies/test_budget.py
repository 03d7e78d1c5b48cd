"""The exact budget: sums, differences and the overspending message, deltas included."""

from fractions import Fraction

import pytest

from policies.budget import Budget, Ledger, exact, round_up
from publisher.core.errors import BudgetExceededError


def test_budgets_add_and_subtract_both_parts_exactly():
    a, b = Budget.of(0.1, 1e-6), Budget.of(0.2, 2e-6)
    assert a + b == Budget(Fraction(3, 10), Fraction(3, 1_000_000))
    assert (a + b) - b == a
    assert b.fits_in(a + b)
    assert not (a + b).fits_in(b)
    assert not Budget.of(0.1, 1e-5).fits_in(Budget.of(1.0, 1e-6))  # the delta decides


def test_ledger_spends_until_the_total_and_names_the_overspender():
    ledger = Ledger(Budget.of(1.0, 1e-6), label="aggregates.epsilon")
    ledger.spend(Budget.of(0.7, 5e-7), "first")
    assert ledger.remaining() == Budget(Fraction(3, 10), Fraction(1, 2_000_000))
    ledger.spend(Budget.of(0.3), "second")  # exactly what is left: fits
    with pytest.raises(BudgetExceededError) as caught:
        ledger.spend(Budget.of(0.1, 1e-6), "third")
    assert str(caught.value) == (
        "aggregates.epsilon: third overspends the privacy budget\n"
        "  Requested:  epsilon=0.1, delta=1e-06\n"
        "  Remaining:  epsilon=0, delta=5e-07\n"
        "  Difference: epsilon=0.1, delta=5e-07"
    )
    assert ledger.remaining() == Budget(Fraction(0), Fraction(1, 2_000_000))  # unchanged


def test_round_up_never_understates():
    import math

    assert round_up(Fraction(1, 2)) == 0.5  # exact in binary: unchanged
    # the float 0.3 is just below 3/10, so the reported budget is the next float up
    assert Fraction(0.3) < Fraction(3, 10)
    assert round_up(exact(0.3)) == math.nextafter(0.3, math.inf)
    for value in (Fraction(1, 3), Fraction(2, 3), Fraction(7, 10)):
        assert Fraction(round_up(value)) >= value
        assert Fraction(math.nextafter(round_up(value), 0)) < value  # and the smallest such
    assert exact(0.1) == Fraction(1, 10)


def test_exact_keeps_integers_and_fractions_whole():
    assert exact(10**17 + 1) == 10**17 + 1  # a float would round it to 10**17
    assert exact(Fraction(1, 3)) == Fraction(1, 3)
    assert Budget.of() == Budget(Fraction(0), Fraction(0))


def test_a_ledger_without_a_label_says_budget():
    with pytest.raises(BudgetExceededError) as caught:
        Ledger(Budget.of(1)).check(Budget.of(2), "x")
    assert str(caught.value).splitlines()[0] == "budget: x overspends the privacy budget"
