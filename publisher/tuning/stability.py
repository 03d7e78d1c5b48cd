"""How likely a fresh release of a recommended policy is to pass its gate.

A candidate that passed once may sit at the threshold: released five times, the tuner's
recommendation on the demo data gave exits 3, 0, 0, 0, 3. Retrying until a release passes
is the selection bias the re-audits exist to remove, so a recommendation needs several
fresh re-audits that all pass, and the probability they estimate that one more fresh
release passes.

For a re-identification check the gate passes when the upper end of the Wilson interval
of ``c`` correct claims among ``n`` targets is at most the threshold, that is when
``c <= c*``, the largest count whose interval clears it. The re-audits give a pooled
estimate ``p`` of the release's rate (the portfolio's worst case), and a fresh release
passes with probability ``P[Binomial(n, p) <= c*]``. Checks of other kinds (uniqueness,
utility, decoys) count as the share of re-audits they passed. The estimate treats the
checks as independent and the worst-case scorer's count as binomial: a guide to the
margin, not a guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import binom, norm

from publisher.core.adversary import CONFIDENCE_LEVEL

__all__ = ["largest_passing_count", "pass_probability", "wilson_upper"]


def wilson_upper(
    successes: np.ndarray, n: int, confidence_level: float = CONFIDENCE_LEVEL
) -> np.ndarray:
    """Upper ends of Wilson score intervals (what the gate compares), vectorized.

    Examples
    --------
    >>> round(float(wilson_upper(np.array([81]), 263)[0]), 4)
    0.3662
    """
    z = norm.ppf(0.5 + confidence_level / 2)
    p = np.asarray(successes, dtype=np.float64) / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.minimum((centre + spread) / (1 + z * z / n), 1.0)


def largest_passing_count(
    n: int, threshold: float, confidence_level: float = CONFIDENCE_LEVEL
) -> int:
    """The most correct claims among ``n`` targets whose Wilson upper bound clears ``threshold``.

    -1 when even none does (too few targets for so strict a threshold).

    Examples
    --------
    >>> largest_passing_count(1000, 0.05)
    36
    >>> largest_passing_count(50, 0.05)
    -1
    """
    upper = wilson_upper(np.arange(n + 1), n, confidence_level)
    passing = np.flatnonzero(upper <= threshold)
    return int(passing[-1]) if passing.size else -1


def pass_probability(
    reaudits: Sequence[dict[str, Any]], thresholds: Sequence[float | None], min_targets: int
) -> float:
    """Estimated probability that a fresh release passes the gate, from fresh re-audits.

    Parameters
    ----------
    reaudits : sequence of dict
        Figures of each re-audit (:func:`publisher.tuning.search.figures_of`): ``risk``
        per adversary (rate and targets), ``checks`` (every gate check, passed or not).
    thresholds : sequence of float or None
        The gate's re-identification threshold per adversary.
    min_targets : int
        Fewer targets decide nothing (the gate fails them).

    Returns
    -------
    float
    """
    if not reaudits:
        return 0.0
    probability = 1.0
    for k, threshold in enumerate(thresholds):
        if threshold is None:
            continue
        claims = sum(
            round(r["risk"][k]["reidentified"] * r["risk"][k]["targets"]) for r in reaudits
        )
        attacked = sum(r["risk"][k]["targets"] for r in reaudits)
        n = int(np.median([r["risk"][k]["targets"] for r in reaudits]))
        if n < min_targets or attacked == 0:
            return 0.0
        limit = largest_passing_count(n, threshold)
        probability *= float(binom.cdf(limit, n, claims / attacked)) if limit >= 0 else 0.0
    others = [
        [check["passed"] for check in r["checks"] if check["check"] != "reidentification"]
        for r in reaudits
    ]
    for column in zip(*others, strict=True):
        probability *= sum(column) / len(column)
    return probability
