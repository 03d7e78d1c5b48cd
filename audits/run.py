"""Run every audit a policy asks for on one (original, released) pair."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audits._index import IndexedTable
from audits.linkage import LinkageAudit, LinkageResult
from audits.uniqueness import UniquenessAudit, UniquenessResult
from publisher.core.adversary import (
    DEFAULT_KNOWN_ITEMS,
    DEFAULT_PHI,
    DEFAULT_TARGETS,
    Adversary,
)
from publisher.core.ratings import Ratings

__all__ = ["AuditReport", "run_audits"]

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

    def to_dict(self, confidence_level: float = 0.95) -> dict[str, Any]:
        """The ``linkage`` and ``uniqueness`` fields of report.json."""
        return {
            "linkage": [result.to_dict(confidence_level) for result in self.linkage],
            "uniqueness": [result.to_dict(confidence_level) for result in self.uniqueness],
        }


def run_audits(
    original: Ratings,
    released: Ratings,
    *,
    adversaries: Sequence[Adversary],
    n_targets: int = DEFAULT_TARGETS,
    phi: float = DEFAULT_PHI,
    uniqueness_known_items: Sequence[int] = DEFAULT_KNOWN_ITEMS,
    seed: np.random.SeedSequence,
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

    Returns
    -------
    AuditReport
    """
    children = seed.spawn(len(adversaries) + 1)
    original_table = IndexedTable(original)
    released_table = original_table if released is original else IndexedTable(released)
    seconds: dict[str, float] = {}
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
        )
        result = audit.evaluate().results()
        seconds[f"linkage[{k}]"] = time.perf_counter() - started
        logger.info(
            "linkage %-52s reidentified %5.1f%% released, %5.1f%% original (%d targets, %.1fs)",
            adversary.describe(),
            100 * result.released.risk().value,
            100 * result.original.risk().value,
            result.released.n,
            seconds[f"linkage[{k}]"],
        )
        linkage.append(result)
    uniqueness = []
    # Original first, then drop its indexes before the release's are built: three posting
    # indexes at a time instead of four (0.9 GB each at Netflix scale).
    for label, table in (("original", original_table), ("released", released_table)):
        # Both tables sample with the same seed: paired draws, and identical tables give
        # identical figures (the 'none' policy), so differences are the policy's doing.
        child = np.random.SeedSequence(children[-1].entropy, spawn_key=children[-1].spawn_key)
        started = time.perf_counter()
        audit_u = UniquenessAudit(
            table,
            dataset=label,
            known_items=tuple(uniqueness_known_items),
            n_users=n_targets,
            rng=np.random.default_rng(child),
        )
        uniqueness.extend(audit_u.evaluate().results())
        seconds[f"uniqueness[{label}]"] = time.perf_counter() - started
        if label == "original" and table is not released_table:
            table.drop_indexes()
    logger.info("uniqueness audit done in %.1fs", sum(v for k, v in seconds.items() if "uniq" in k))
    return AuditReport(linkage, uniqueness, seconds)
