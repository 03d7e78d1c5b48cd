"""The audits of the steps that move or add rows, set up from the policy's steps.

Date recovery runs whenever both tables have dates and an adversary knows dates (one
figure per distinct date tolerance); the attacker's window and offset follow the
policy's date steps. Distinguishability runs when the policy adds rows
(``insert_ratings``) or moves some of them (``redate_ratings``).
"""

from __future__ import annotations

import numpy as np

from audits.dates import DateRecoveryResult, date_recovery
from audits.distinguish import DistinguishabilityResult, distinguishability
from policies import Policy
from policies.steps import CoarsenDates, InsertRatings, JitterDates, RedateRatings
from publisher.core.ratings import Ratings

__all__ = ["HALF_PERIOD", "row_audits"]

#: Days from a period's first day to its middle: the best guess of a coarsened date.
HALF_PERIOD = {"week": 3, "month": 15, "quarter": 45, "year": 182}


def row_audits(
    original: Ratings, released: Ratings, policy: Policy, seed: np.random.SeedSequence
) -> tuple[list[DateRecoveryResult], DistinguishabilityResult | None]:
    """Date recovery per date tolerance, and distinguishability of added or moved rows.

    Parameters
    ----------
    original, released : Ratings
        Sharing user and item codes (as the pipeline produces them).
    policy : Policy
        Its steps set the attacker's estimators; its adversaries, the tolerances.
    seed : numpy.random.SeedSequence
        This audit's share of the run's randomness.
    """
    dates_rng, decoys_rng = (np.random.default_rng(s) for s in seed.spawn(2))
    steps = policy.steps
    jitter = sum(s.max_days for s in steps if isinstance(s, JitterDates))
    redate = sum(s.max_days for s in steps if isinstance(s, RedateRatings))
    coarse = [s.to for s in steps if isinstance(s, CoarsenDates)]
    tolerances = sorted(
        {
            a.date_tolerance_days
            for a in policy.audits.adversaries
            if a.date_tolerance_days is not None
        }
    )
    recovery = date_recovery(
        original,
        released,
        tolerances=tolerances,
        window_days=2 * jitter + redate,
        offset_days=HALF_PERIOD[coarse[-1]] if coarse else 0,
        n_targets=policy.audits.targets,
        rng=dates_rng,
    )
    kinds = tuple(
        dict.fromkeys(s.name for s in steps if isinstance(s, (InsertRatings, RedateRatings)))
    )
    if not kinds:
        return recovery, None
    # Jitter moves every date, so a moved date marks nothing: only decoys are counted then.
    moved = "redate_ratings" in kinds and jitter == 0
    found = distinguishability(original, released, moved=moved, kinds=kinds, rng=decoys_rng)
    return recovery, found
