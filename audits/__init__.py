"""How a release is attacked and measured: linkage attack, uniqueness, utility.

Depends on ``publisher.core`` only (the Ratings table, the Adversary, errors); never on
``policies``.
"""

from audits.frames import check_aligned, paired_tables
from audits.linkage import (
    AttackOutcome,
    LinkageAudit,
    LinkageResult,
    UnprotectedAttack,
    attack_unprotected,
)
from audits.run import AuditReport, UnprotectedAudit, audit_unprotected, run_audits
from audits.stats import Risk, wilson_interval
from audits.uniqueness import UniquenessAudit, UniquenessResult

__all__ = [
    "AttackOutcome",
    "AuditReport",
    "LinkageAudit",
    "LinkageResult",
    "Risk",
    "UniquenessAudit",
    "UniquenessResult",
    "UnprotectedAttack",
    "UnprotectedAudit",
    "attack_unprotected",
    "audit_unprotected",
    "check_aligned",
    "paired_tables",
    "run_audits",
    "wilson_interval",
]
