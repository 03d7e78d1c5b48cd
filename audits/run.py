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
from audits.scoreboard import POSTERIOR_THRESHOLD, AttackOutcome
from audits.uniqueness import MODES, UniquenessAudit, UniquenessResult
from publisher.core.adversary import (
    CONFIDENCE_LEVEL,
    DEFAULT_KNOWN_ITEMS,
    DEFAULT_PHI,
    DEFAULT_TARGETS,
    Adversary,
)
from publisher.core.ratings import Ratings

__all__ = ["AuditReport", "UnprotectedAudit", "audit_unprotected", "run_audits"]

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
    """

    linkage: list[LinkageResult]
    uniqueness: list[UniquenessResult]
    seconds: dict[str, float] = field(default_factory=dict)
    unprotected: UnprotectedAudit | None = None
    date_recovery: list[DateRecoveryResult] = field(default_factory=list)
    distinguishability: DistinguishabilityResult | None = None
    #: The release singles out more customers than its original (cites the original).
    uniqueness_warnings: list[str] = field(default_factory=list)

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
        }


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
    n_targets, phi, uniqueness_known_items
        The audit settings they were drawn with.
    attacks : tuple of UnprotectedAttack
        One per adversary, in the policy's order.
    uniqueness : tuple of UniquenessResult
        The original side of the uniqueness audit.
    """

    fingerprint: str
    n_targets: int
    phi: float
    uniqueness_known_items: tuple[int, ...]
    attacks: tuple[UnprotectedAttack, ...]
    uniqueness: tuple[UniquenessResult, ...]
    threshold: float = POSTERIOR_THRESHOLD

    @property
    def adversaries(self) -> tuple[Adversary, ...]:
        """The adversaries, in order."""
        return tuple(a.adversary for a in self.attacks)

    def fits(
        self,
        original: Ratings,
        adversaries: Sequence[Adversary],
        n_targets: int,
        phi: float,
        uniqueness_known_items: Sequence[int],
        threshold: float = POSTERIOR_THRESHOLD,
    ) -> bool:
        """Whether these results were drawn for this data and these settings."""
        return (
            self.adversaries == tuple(adversaries)
            and (self.n_targets, self.phi, self.threshold) == (n_targets, phi, threshold)
            and self.uniqueness_known_items == tuple(uniqueness_known_items)
            and self.fingerprint == original.fingerprint()
        )


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
    *,
    adversaries: Sequence[Adversary],
    n_targets: int = DEFAULT_TARGETS,
    phi: float = DEFAULT_PHI,
    uniqueness_known_items: Sequence[int] = DEFAULT_KNOWN_ITEMS,
    seed: np.random.SeedSequence,
    table: IndexedTable | None = None,
    threshold: float = POSTERIOR_THRESHOLD,
) -> UnprotectedAudit:
    """Attack and measure the unprotected data once: one draw per adversary.

    ``seed`` must be the one :func:`run_audits` gets: its children drive both sides, so
    a release that keeps every customer is attacked with the very same draws.
    """
    table = table or IndexedTable(original)
    children = _children(seed, len(adversaries))
    attacks = tuple(
        attack_unprotected(
            table,
            adversary,
            n_targets=n_targets,
            phi=phi,
            rng=np.random.default_rng(child),
            threshold=threshold,
        )
        for adversary, child in zip(adversaries, children, strict=False)
    )
    uniqueness = UniquenessAudit(
        table,
        dataset="original",
        known_items=tuple(uniqueness_known_items),
        n_users=n_targets,
        rng=np.random.default_rng(children[-1]),
    )
    return UnprotectedAudit(
        original.fingerprint(),
        n_targets,
        phi,
        tuple(uniqueness_known_items),
        attacks,
        tuple(uniqueness.evaluate().results()),
        threshold,
    )


def run_audits(
    original: Ratings,
    released: Ratings,
    *,
    adversaries: Sequence[Adversary],
    n_targets: int = DEFAULT_TARGETS,
    phi: float = DEFAULT_PHI,
    uniqueness_known_items: Sequence[int] = DEFAULT_KNOWN_ITEMS,
    seed: np.random.SeedSequence,
    unprotected: UnprotectedAudit | None = None,
    simulated: Ratings | None = None,
    original_table: IndexedTable | None = None,
    channel: Channel = IDENTITY,
    simulated_channel: Channel = IDENTITY,
    threshold: float = POSTERIOR_THRESHOLD,
) -> AuditReport:
    """Run the linkage attack for each adversary and the uniqueness audit on both tables.

    Parameters
    ----------
    original, released : Ratings
        Sharing user and item codes (as the pipeline produces them).
    adversaries : sequence of Adversary
    n_targets : int
        Targets per adversary, and users sampled per m for uniqueness.
    phi : float
        Eccentricity threshold of a claim.
    uniqueness_known_items : sequence of int
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
    threshold : float
        The posterior a claim by posterior needs.

    Returns
    -------
    AuditReport
    """
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
        unprotected = audit_unprotected(
            original,
            adversaries=adversaries,
            n_targets=n_targets,
            phi=phi,
            uniqueness_known_items=uniqueness_known_items,
            seed=seed,
            table=original_table,
            threshold=threshold,
        )
    elif not unprotected.fits(
        original, adversaries, n_targets, phi, uniqueness_known_items, threshold
    ):
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
    uniqueness = [dataclasses.replace(r, period=period) for r in unprotected.uniqueness]
    started = time.perf_counter()
    # The same seed as the original side: paired draws, and identical tables give
    # identical figures (the 'none' policy), so differences are the policy's doing. The
    # adversary knows the ORIGINAL values: a release is measured as they meet it.
    audit_u = UniquenessAudit(
        released_table,
        reference=None if released_table is original_table else original_table,
        dataset="released",
        known_items=tuple(uniqueness_known_items),
        n_users=n_targets,
        rng=np.random.default_rng(children[-1]),
    )
    released_unique = [dataclasses.replace(r, period=period) for r in audit_u.evaluate().results()]
    uniqueness.extend(released_unique)
    seconds["uniqueness[released]"] = time.perf_counter() - started
    report = AuditReport(linkage, uniqueness, seconds, unprotected)
    report.uniqueness_warnings = uniqueness_inversions(uniqueness)
    return report


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
