"""The release as an attacker models it: what a public policy says about how it was made.

A policy's steps are public (policy.yaml travels with the bundle), so an attacker knows
how each released value and date came about: randomized response's keep probability,
jitter, re-dating, coarsening, deletions, the history cap, the sample of customers. Each
step states its own part (:meth:`policies.steps.Step.attacker_channel`); the policy-aware
likelihood scorer (:mod:`audits.likelihood`) reads the result.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["IDENTITY", "Channel"]


@dataclass(frozen=True)
class Channel:
    """How the release was made, as its public policy tells an attacker.

    Parameters
    ----------
    keep_probability : float or None
        Randomized response keeps a value with this probability; None: values exact.
    shift_days : int
        Jitter: each date moved by a uniform -shift..+shift days.
    redate_fraction, redate_days : float, int
        A share of the ratings moved by 1..redate_days days either way.
    period : str
        Released dates are the first day of this period (``day``: exact).
    deletion : float
        Share of ratings deleted at random.
    cap : int or None
        Histories cut to at most this many ratings.
    sample : float
        Share of customers released (the prior that the target is in the release).
    """

    keep_probability: float | None = None
    shift_days: int = 0
    redate_fraction: float = 0.0
    redate_days: int = 0
    period: str = "day"
    deletion: float = 0.0
    cap: int | None = None
    sample: float = 1.0

    def describe(self) -> str:
        """The model in words (report)."""
        parts = []
        if self.keep_probability is not None:
            parts.append(f"values kept with probability {self.keep_probability:.2f}")
        if self.shift_days:
            parts.append(f"dates jittered by up to {self.shift_days} days")
        if self.redate_fraction:
            parts.append(f"{self.redate_fraction:.1%} of dates moved by up to {self.redate_days}")
        if self.period != "day":
            parts.append(f"dates to the {self.period}")
        if self.deletion:
            parts.append(f"{self.deletion:.1%} of ratings deleted")
        if self.cap is not None:
            parts.append(f"histories capped at {self.cap}")
        if self.sample < 1:
            parts.append(f"{self.sample:.0%} of customers released")
        return "; ".join(parts) or "the data as it is"

    def compose_keep(self, keep: float, k: int) -> Channel:
        """The channel followed by randomized response keeping a value with ``keep``.

        Two rounds of k-ary randomized response are one: the value survives both, or is
        changed and changed back (probability (1 - a)(1 - b) / (k - 1)).
        """
        first = self.keep_probability
        combined = keep if first is None else first * keep + (1 - first) * (1 - keep) / (k - 1)
        return dataclasses.replace(self, keep_probability=combined)


#: The unprotected data: nothing changed.
IDENTITY = Channel()
