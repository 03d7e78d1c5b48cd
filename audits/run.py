"""Run every audit a policy asks for on one (original, released) pair."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audits._index import IndexedTable
from audits.dates import DateRecoveryResult
from audits.distinguish import DistinguishabilityResult
from audits.likelihood import IDENTITY, Channel
from audits.linkage import (
    LinkageAudit,
    LinkageResult,
    UnprotectedAttack,
    attack_simulated,
    attack_unprotected,
)
from audits.model_utility import ModelUtilityResult
from audits.scoreboard import AttackOutcome
from audits.uniqueness import MODES, UniquenessAudit, UniquenessResult
from audits.utility import UtilityResult
from publisher.core.adversary import (
    CONFIDENCE_LEVEL,
    Adversary,
    AuditSettings,
)
from publisher.core.ratings import Ratings

__all__ = ["AggregateUtility", "AuditReport", "UnprotectedAudit", "audit_unprotected", "run_audits"]

logger = logging.getLogger(__name__)


@dataclass
class AuditReport:
    """All audit results of one release.

    Attributes
    ----------
    linkage : list of LinkageResult
        One per adversary, in the policy's order.
    uniqueness : list of UniquenessResult
        Original first, then released, each for every m.
    seconds : dict
        Wall time per audit.
    unprotected : UnprotectedAudit or None
        The attacks on the unprotected data the linkage figures compare with.
    date_recovery : list of DateRecoveryResult
        One per date tolerance the adversaries use.
    distinguishability : DistinguishabilityResult or None
        When the policy adds or moves rows.
    uniqueness_warnings : list of str
        Where the release singles out more customers than its original (cites it).
    utility : UtilityResult or None
        What the release costs for prediction (microdata only).
    aggregates : AggregateUtility or None
    model : ModelUtilityResult or None
        A model release's accuracy on its holdout, against the references.
        How far the DP per-item means are from the true ones (when released).
    """

    linkage: list[LinkageResult]
    uniqueness: list[UniquenessResult]
    seconds: dict[str, float] = field(default_factory=dict)
    unprotected: UnprotectedAudit | None = None
    date_recovery: list[DateRecoveryResult] = field(default_factory=list)
    distinguishability: DistinguishabilityResult | None = None
    uniqueness_warnings: list[str] = field(default_factory=list)
    utility: UtilityResult | None = None
    aggregates: AggregateUtility | None = None
    model: ModelUtilityResult | None = None

    def to_dict(self, confidence_level: float = CONFIDENCE_LEVEL) -> dict[str, Any]:
        """The audit fields of report.json (linkage, uniqueness, dates, decoys)."""
        return {
            "linkage": [result.to_dict(confidence_level) for result in self.linkage],
            "uniqueness": [result.to_dict(confidence_level) for result in self.uniqueness],
            "date_recovery": [result.to_dict() for result in self.date_recovery],
            "distinguishability": (
                self.distinguishability.to_dict() if self.distinguishability else None
            ),
            "uniqueness_warnings": list(self.uniqueness_warnings),
            "utility": self.utility_section(),
        }

    def utility_section(self) -> dict[str, Any] | None:
        """report.json ``utility``: the microdata figures and the DP means' error, or None."""
        if self.utility is None and self.aggregates is None:
            return None
        section = self.utility.to_dict() if self.utility is not None else {}
        if self.aggregates is not None:
            section |= self.aggregates.to_dict()
        return section


@dataclass(frozen=True)
class AggregateUtility:
    """What the DP aggregates cost: the per-item means' error against the true means.

    An exact figure of the original (the true means): the review copy only.
    """

    #: Mean relative error over items with both a true and a DP mean (None: no such item).
    item_mean_relative_error: float | None

    def to_dict(self) -> dict[str, Any]:
        """The aggregates' entry of report.json ``utility``."""
        return {"dp_item_mean_relative_error": self.item_mean_relative_error}


@dataclass(frozen=True)
class UnprotectedAudit:
    """Every attack and measurement of the unprotected data: drawn once per dataset.

    A release's report compares its figures with these. Computed once, they can be
    shared by every release of the same data (``publisher demo`` shares them across its
    three policies), so the same adversary shows the same unprotected figure in every
    report of a run.

    Attributes
    ----------
    fingerprint : str
        :meth:`Ratings.fingerprint` of the data attacked; reuse on other data is refused.
    settings : AuditSettings
        The audit settings they were drawn with; reuse under others is refused.
    attacks : tuple of UnprotectedAttack
        One per adversary, in the order of ``settings.adversaries``.
    uniqueness : tuple of UniquenessResult
        The original side of the uniqueness audit.
    """

    fingerprint: str
    settings: AuditSettings
    attacks: tuple[UnprotectedAttack, ...]
    uniqueness: tuple[UniquenessResult, ...]

    @property
    def adversaries(self) -> tuple[Adversary, ...]:
        """The adversaries, in order."""
        return tuple(a.adversary for a in self.attacks)

    def fits(self, original: Ratings, settings: AuditSettings) -> bool:
        """Whether these results were drawn for this data and these settings."""
        return self.settings == settings and self.fingerprint == original.fingerprint()


def _children(seed: np.random.SeedSequence, n_adversaries: int) -> list[np.random.SeedSequence]:
    """One child per adversary and one for uniqueness: what a first ``seed.spawn`` gives.

    Derived without spawning (which advances ``seed``'s counter), so the unprotected side
    and the release side get the very same children however often they are asked for.
    """
    return [
        np.random.SeedSequence(
            seed.entropy, spawn_key=(*seed.spawn_key, k), pool_size=seed.pool_size
        )
        for k in range(n_adversaries + 1)
    ]


def audit_unprotected(
    original: Ratings,
    settings: AuditSettings,
    *,
    seed: np.random.SeedSequence,
    table: IndexedTable | None = None,
) -> UnprotectedAudit:
    """Attack and measure the unprotected data once: one draw per adversary.

    ``seed`` must be the one :func:`run_audits` gets: its children drive both sides, so
    a release that keeps every customer is attacked with the very same draws.
    """
    table = table or IndexedTable(original)
    children = _children(seed, len(settings.adversaries))
    attacks = tuple(
        attack_unprotected(
            table,
            adversary,
            n_targets=settings.targets,
            phi=settings.phi,
            rng=np.random.default_rng(child),
            threshold=settings.posterior,
        )
        for adversary, child in zip(settings.adversaries, children, strict=False)
    )
    uniqueness = UniquenessAudit(
        table,
        dataset="original",
        known_items=settings.uniqueness_known_items,
        n_users=settings.targets,
        rng=np.random.default_rng(children[-1]),
    )
    return UnprotectedAudit(
        original.fingerprint(), settings, attacks, tuple(uniqueness.evaluate().results())
    )


def run_audits(
    original: Ratings,
    released: Ratings,
    settings: AuditSettings,
    *,
    seed: np.random.SeedSequence,
    unprotected: UnprotectedAudit | None = None,
    simulated: Ratings | None = None,
    original_table: IndexedTable | None = None,
    channel: Channel = IDENTITY,
    simulated_channel: Channel = IDENTITY,
    uniqueness: bool = True,
) -> AuditReport:
    """Run the linkage attack for each adversary and the uniqueness audit on both tables.

    Parameters
    ----------
    original, released : Ratings
        Sharing user and item codes (as the pipeline produces them).
    settings : AuditSettings
        Adversaries, targets, phi, the uniqueness audit's m values, the posterior rule.
    seed : numpy.random.SeedSequence
        The audits' share of the pipeline's randomness; one child per audit.
    unprotected : UnprotectedAudit, optional
        The unprotected side, already drawn with the same ``seed`` and settings (see
        :func:`audit_unprotected`); drawn here otherwise.
    simulated : Ratings, optional
        The original passed through the policy's suppression steps with fresh
        randomness, sharing its codes: a further attack on the unprotected side.
    original_table : IndexedTable, optional
        ``original`` already indexed, reused across calls (``publisher tune``): its
        posting indexes are then kept, not freed after the linkage audit.
    channel, simulated_channel : Channel
        How the release and the policy-simulated original were made, as the public policy
        tells an attacker (the likelihood scorer's model).
    uniqueness : bool
        Measure the release's uniqueness (the tuner's screen reads linkage alone).

    Returns
    -------
    AuditReport
    """
    adversaries, n_targets, phi = settings.adversaries, settings.targets, settings.phi
    threshold = settings.posterior
    children = _children(seed, len(adversaries))
    shared = original_table is not None
    if original_table is None:
        original_table = IndexedTable(original)
    elif original_table.ratings is not original:
        raise ValueError("original_table indexes another table than original")
    released_table = original_table if released is original else IndexedTable(released)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    if unprotected is None:
        unprotected = audit_unprotected(original, settings, seed=seed, table=original_table)
    elif not unprotected.fits(original, settings):
        raise ValueError("the unprotected audit was drawn for other data or other settings")
    seconds["unprotected"] = time.perf_counter() - started
    # The policy-simulated original is attacked first and its index freed before the
    # release's is built: three posting indexes at a time, not four.
    simulated_outcomes: list[dict[tuple[str, str], AttackOutcome] | None] = [None] * len(
        adversaries
    )
    if simulated is not None:
        started = time.perf_counter()
        simulated_table = IndexedTable(simulated)
        del simulated
        for k in range(len(adversaries)):
            # the stream LinkageAudit would jump to for it: the release's draws are untouched
            jumped = np.random.Generator(np.random.PCG64(children[k]).jumped())
            simulated_outcomes[k] = attack_simulated(
                simulated_table, unprotected.attacks[k], phi, original=original_table,
                channel=simulated_channel, threshold=threshold, rng=jumped,
            )  # fmt: skip
        del simulated_table
        seconds["simulated"] = time.perf_counter() - started
    linkage = []
    for k, (adversary, child) in enumerate(zip(adversaries, children, strict=False)):
        started = time.perf_counter()
        audit = LinkageAudit(
            original_table,
            released_table,
            adversary=adversary,
            n_targets=n_targets,
            phi=phi,
            rng=np.random.default_rng(child),
            unprotected=unprotected.attacks[k],
            simulated=simulated_outcomes[k],
            channel=channel,
            simulated_channel=simulated_channel,
            threshold=threshold,
        )
        result = audit.evaluate().results()
        seconds[f"linkage[{k}]"] = time.perf_counter() - started
        worst = result.worst()
        by, table, unprotected_worst = result.worst_original()
        logger.info(
            "linkage %-52s reidentified %5.1f%% released (%s, %s knowledge), %5.1f%% original "
            "(%s, %s) (%d targets, %.1fs)",
            adversary.describe(),
            100 * worst.released.risk().value,
            worst.scorer,
            worst.knowledge,
            100 * unprotected_worst.risk().value,
            by,
            table,
            result.released.n,
            seconds[f"linkage[{k}]"],
        )
        linkage.append(result)
    # The original's item index goes before the release's are built: three posting
    # indexes at a time instead of four (0.9 GB each at Netflix scale). Its record index
    # stays: the release's uniqueness draws the adversary's knowledge from it.
    if original_table is not released_table and not shared:
        original_table.drop_indexes(keep=("by_record",))
    # Both sides match dates by the release's period (what its dates tell an attacker).
    period = channel.period if released_table.by_record.has_dates else None
    if not uniqueness:
        return AuditReport(linkage, [], seconds, unprotected)
    unique = [dataclasses.replace(r, period=period) for r in unprotected.uniqueness]
    started = time.perf_counter()
    # The same seed as the original side: paired draws, and identical tables give
    # identical figures (the 'none' policy), so differences are the policy's doing. The
    # adversary knows the ORIGINAL values: a release is measured as they meet it.
    audit_u = UniquenessAudit(
        released_table,
        reference=None if released_table is original_table else original_table,
        dataset="released",
        known_items=settings.uniqueness_known_items,
        n_users=n_targets,
        rng=np.random.default_rng(children[-1]),
    )
    released_unique = [dataclasses.replace(r, period=period) for r in audit_u.evaluate().results()]
    unique.extend(released_unique)
    seconds["uniqueness[released]"] = time.perf_counter() - started
    return AuditReport(
        linkage, unique, seconds, unprotected, uniqueness_warnings=uniqueness_inversions(unique)
    )


def uniqueness_inversions(results: Sequence[UniquenessResult]) -> list[str]:
    """Where the release singles out more customers than the original, beyond both intervals.

    Every step of a policy is a randomized function of the original; a release that
    singles out more means the knowledge or the matching favours the release, and says so.
    These sentences cite the original's figures: the review copy only.
    """
    original = {r.known_items: r for r in results if r.dataset == "original"}
    out = []
    for released in (r for r in results if r.dataset == "released"):
        before = original.get(released.known_items)
        if before is None:
            continue
        for mode in MODES:
            after_risk, before_risk = released.risk(mode), before.risk(mode)
            if after_risk is None or before_risk is None:
                continue
            if after_risk.ci[0] > before_risk.ci[1]:
                out.append(
                    f"the release singles out more customers than the original by "
                    f"{released.known_items} items ({mode.replace('_', ' and ')}): "
                    f"{100 * after_risk.value:.1f}% against {100 * before_risk.value:.1f}%, "
                    "beyond both intervals"
                )
    return out
