"""The release engine: keys, applying a policy, evaluating it, the gate, writing bundles.

It produces one :class:`~publisher.engine.evaluate.Evaluation` per release; reporting
(:mod:`publisher.reporting`) renders it and the CLI calls into both.
"""

from publisher.engine.apply import StepRecord, apply_policy
from publisher.engine.evaluate import Evaluation, evaluate, evaluate_ratings
from publisher.engine.release import ReleaseResult, release
from publisher.engine.report_files import read_report, rerender, write_reports

__all__ = [
    "Evaluation",
    "ReleaseResult",
    "StepRecord",
    "apply_policy",
    "evaluate",
    "evaluate_ratings",
    "read_report",
    "release",
    "rerender",
    "write_reports",
]
