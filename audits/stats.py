"""Confidence intervals for rates estimated from a sample of targets."""

from __future__ import annotations

from typing import NamedTuple

from publisher.core.adversary import CONFIDENCE_LEVEL

__all__ = ["Risk", "wilson_interval"]


class Risk(NamedTuple):
    """A rate and its confidence interval."""

    value: float
    ci: tuple[float, float]


def wilson_interval(
    successes: int, n: int, confidence_level: float = CONFIDENCE_LEVEL
) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes : int
        Number of successes (0 <= successes <= n).
    n : int
        Number of trials; an empty sample gives the uninformative ``(0, 1)``.
    confidence_level : float
        In (0, 1).

    Returns
    -------
    (float, float)
        Lower and upper bound.

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", JASA 22(158), 1927.

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(81, 263)]
    [0.2553, 0.3662]
    """
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes} of {n}")
    if n == 0:
        return (0.0, 1.0)
    from scipy.stats import binomtest  # scipy.stats takes 0.5 s to import: only when needed

    ci = binomtest(successes, n).proportion_ci(confidence_level, method="wilson")
    return (float(ci.low), float(ci.high))
