"""How a release is attacked and measured: linkage attack, uniqueness, utility.

Depends on ``publisher.core`` only (the Ratings table, the Adversary, errors); never on
``policies``.
"""

from audits.linkage import AttackOutcome, LinkageAudit, LinkageResult
from audits.run import AuditReport, run_audits
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
    "run_audits",
    "wilson_interval",
]
