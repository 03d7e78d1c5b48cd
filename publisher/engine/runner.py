"""The one audit runner: every audit of a policy on one (original, released) pair.

Linkage and uniqueness, the attacker who simulates the policy, date recovery,
distinguishability and utility are each an evaluator of one shape (construct,
``evaluate()``, typed result; :class:`audits.evaluator.Evaluator`), set up here from the
policy and one :class:`~publisher.core.adversary.AuditSettings`, and gathered in one
typed :class:`audits.AuditReport`. ``publisher audit``, ``release`` and every candidate of
``publisher tune`` run their audits through :func:`run_policy_audits`; the tuner's screen
asks it for the linkage audit alone on fewer targets.

Date recovery runs whenever both tables have dates and an adversary knows dates (one
figure per distinct date tolerance); the attacker's window and offset follow the
policy's date steps. Distinguishability runs when the policy adds rows
(``insert_ratings``) or moves some of them (``redate_ratings``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from audits import AuditReport, UnprotectedAudit, run_audits
from audits._index import IndexedTable
from audits.dates import DateRecoveryAudit
from audits.distinguish import DistinguishabilityAudit
from audits.utility import UtilityAudit
from policies import Policy
from publisher.core.adversary import AuditSettings
from publisher.core.periods import HALF_PERIOD
from publisher.core.ratings import Ratings
from publisher.engine.simulate import (
    attacker_channel,
    explain_inversions,
    simulate_policy,
    suppression_steps,
)
from publisher.progress import Stages

__all__ = ["AUDITS", "AuditSeeds", "date_recovery_audit", "run_policy_audits"]

logger = logging.getLogger(__name__)

#: Every audit the runner knows, in the order it runs them.
AUDITS = ("linkage", "uniqueness", "simulation", "date_recovery", "distinguishability", "utility")


@dataclass(frozen=True)
class AuditSeeds:
    """The audits' shares of a run's randomness (see :func:`publisher.engine.evaluate`).

    Attributes
    ----------
    linkage : numpy.random.SeedSequence
        Targets and knowledge of the linkage and uniqueness audits.
    rows : numpy.random.SeedSequence
        Date recovery and distinguishability.
    utility : numpy.random.SeedSequence
        The utility audit's holdout and factor initialisation.
    simulation : numpy.random.SeedSequence
        The attacker who simulates the policy, and the explanation of inversions.
    """

    linkage: np.random.SeedSequence
    rows: np.random.SeedSequence
    utility: np.random.SeedSequence
    simulation: np.random.SeedSequence


def run_policy_audits(
    original: Ratings,
    released: Ratings,
    policy: Policy,
    seeds: AuditSeeds,
    *,
    settings: AuditSettings | None = None,
    only: Collection[str] = AUDITS,
    unprotected: UnprotectedAudit | None = None,
    original_index: IndexedTable | None = None,
    stages: Stages | None = None,
) -> AuditReport:
    """Run the audits of ``policy`` on a release of ``original``.

    Parameters
    ----------
    original, released : Ratings
        Sharing user and item codes (as the pipeline produces them).
    policy : Policy
        Its steps tell the attacker how the release was made.
    seeds : AuditSeeds
    settings : AuditSettings, optional
        Targets, adversaries...; the policy's ``audits`` by default.
    only : collection of str
        Which of :data:`AUDITS` to run (the tuner's screen: ``{"linkage"}``).
    unprotected : UnprotectedAudit, optional
        The attacks on the unprotected data, reused when drawn for this data and these
        settings (redrawn otherwise).
    original_index : IndexedTable, optional
        ``original`` indexed once by the caller and kept across runs.
    stages : Stages, optional
        Times (and may show) each audit.

    Returns
    -------
    AuditReport
        Every result typed; ``utility`` None when not run.
    """
    unknown = set(only) - set(AUDITS)
    if unknown:
        raise ValueError(f"unknown audits {sorted(unknown)}; known: {', '.join(AUDITS)}")
    settings = settings or policy.audits
    stages = stages or Stages()
    suppression = suppression_steps(policy)
    simulated_seed, explain_seed = seeds.simulation.spawn(2)
    simulate = "simulation" in only
    with stages("linkage and uniqueness audits"):
        report = run_audits(
            original,
            released,
            settings,
            seed=seeds.linkage,
            unprotected=_fitting(unprotected, original, settings),
            simulated=simulate_policy(original, suppression, simulated_seed) if simulate else None,
            original_table=original_index,
            channel=attacker_channel(policy.steps, original.scale),
            simulated_channel=attacker_channel([s for _, s in suppression], original.scale),
            uniqueness="uniqueness" in only,
        )
        if simulate:
            explained = explain_inversions(original, report, suppression, explain_seed)
            for k, clause in explained.items():
                report.linkage[k] = report.linkage[k].explained(clause)
    dates_rng, decoys_rng = (np.random.default_rng(s) for s in seeds.rows.spawn(2))
    with stages("date recovery and decoy audits"):
        if "date_recovery" in only:
            audit = date_recovery_audit(original, released, policy, settings, dates_rng)
            report.date_recovery = audit.evaluate().results()
        decoys = distinguishability_audit(original, released, policy, decoys_rng)
        if "distinguishability" in only and decoys is not None:
            report.distinguishability = decoys.evaluate().results()
    if "utility" in only:
        with stages("utility audit"):
            rng = np.random.default_rng(seeds.utility)
            report.utility = UtilityAudit(original, released, rng=rng).evaluate().results()
        logger.info(
            "utility: RMSE %.3f -> %.3f (factorization on the holdout)",
            report.utility.original.mf_rmse,
            report.utility.released.mf_rmse,
        )
    return report


def date_recovery_audit(
    original: Ratings,
    released: Ratings,
    policy: Policy,
    settings: AuditSettings,
    rng: np.random.Generator,
) -> DateRecoveryAudit:
    """Date recovery per date tolerance, the attacker's window and offset from the steps.

    The window is the sum of the date steps' windows (what a date may have moved); the
    offset is half the last coarsening period (the best guess within it).
    """
    steps = policy.steps
    coarse = [period for s in steps if (period := s.date_period()) is not None]
    tolerances = sorted(
        {a.date_tolerance_days for a in settings.adversaries if a.date_tolerance_days is not None}
    )
    return DateRecoveryAudit(
        original,
        released,
        tolerances=tolerances,
        window_days=sum(s.date_window_days() for s in steps),
        offset_days=HALF_PERIOD[coarse[-1]] if coarse else 0,
        n_targets=settings.targets,
        rng=rng,
    )


def distinguishability_audit(
    original: Ratings, released: Ratings, policy: Policy, rng: np.random.Generator
) -> DistinguishabilityAudit | None:
    """Whether added or moved rows can be told from real ones; None when the steps add none."""
    steps = policy.steps
    kinds = tuple(dict.fromkeys(s.name for s in steps if s.distinguishable))
    if not kinds:
        return None
    # A step that moves every date (jitter) leaves a moved date marking nothing: only
    # decoys are counted then.
    moves_all = any(
        s.moves_dates and not s.distinguishable and s.date_window_days() > 0 for s in steps
    )
    moved = any(s.moves_dates and s.distinguishable for s in steps) and not moves_all
    return DistinguishabilityAudit(original, released, moved=moved, kinds=kinds, rng=rng)


def _fitting(
    unprotected: UnprotectedAudit | None, original: Ratings, settings: AuditSettings
) -> UnprotectedAudit | None:
    """``unprotected`` if it was drawn for this data and these settings, else None."""
    if unprotected is not None and unprotected.fits(original, settings):
        return unprotected
    if unprotected is not None:
        logger.info("the unprotected audit given was drawn for other data or settings: redrawn")
    return None
