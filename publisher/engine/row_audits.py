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
    window = sum(s.date_window_days() for s in steps)
    coarse = [period for s in steps if (period := s.date_period()) is not None]
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
        window_days=window,
        offset_days=HALF_PERIOD[coarse[-1]] if coarse else 0,
        n_targets=policy.audits.targets,
        rng=dates_rng,
    )
    kinds = tuple(dict.fromkeys(s.name for s in steps if s.distinguishable))
    if not kinds:
        return recovery, None
    # A step that moves every date (jitter) leaves a moved date marking nothing: only
    # decoys are counted then.
    moves_all = any(
        s.moves_dates and not s.distinguishable and s.date_window_days() > 0 for s in steps
    )
    moved = any(s.moves_dates and s.distinguishable for s in steps) and not moves_all
    found = distinguishability(original, released, moved=moved, kinds=kinds, rng=decoys_rng)
    return recovery, found
