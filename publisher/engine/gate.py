"""The release gate: the policy's thresholds against the typed audit results.

Each threshold is compared with the upper end of the 95% Wilson interval of the
measured rate: a release passes only if the audit shows, with 95% confidence, that the
rate is below the threshold. The gate reads the audits' result objects (not a report),
and its :class:`GateDecision` is what report.json's ``verdict`` and ``gate`` render.
"""

from __future__ import annotations

from audits import AuditReport
from policies import Gate
from publisher.core.adversary import CONFIDENCE_LEVEL, MIN_TARGETS
from publisher.core.decision import STATISTIC, GateCheck, GateDecision

__all__ = ["MIN_TARGETS", "STATISTIC", "GateCheck", "GateDecision", "apply_gate"]


def _reidentification(gate: Gate, audits: AuditReport) -> list[GateCheck]:
    checks = []
    rates = gate.max_reidentification_rate or ()
    for k, (limit, result) in enumerate(zip(rates, audits.linkage, strict=False)):
        if limit is None:
            continue
        # the worst case over the scorers' portfolio (audits.linkage)
        _, worst = result.worst_released()
        risk = worst.risk(CONFIDENCE_LEVEL)
        inconclusive = result.released.n < MIN_TARGETS
        checks.append(
            GateCheck(
                check="reidentification",
                adversary=k,
                description=result.adversary.describe(),
                targets=result.released.n,
                measured=risk.value,
                upper=risk.ci[1],
                lower=risk.ci[0],
                threshold=limit,
                inconclusive=inconclusive,
                passed=risk.ci[1] <= limit and not inconclusive,
            )
        )
    return checks


def _uniqueness(gate: Gate, audits: AuditReport) -> list[GateCheck]:
    limit = gate.max_unique_fraction
    if limit is None:
        return []
    result = next(
        (
            r
            for r in audits.uniqueness
            if r.dataset == "released" and r.known_items == limit.known_items
        ),
        None,
    )
    risk = result.risk(limit.match, CONFIDENCE_LEVEL) if result is not None else None
    return [
        GateCheck(
            check="uniqueness",
            description=f"users unique by {limit.known_items} items ({limit.match})",
            measured=risk.value if risk else None,
            upper=risk.ci[1] if risk else None,
            lower=risk.ci[0] if risk else None,
            threshold=limit.fraction,
            # unmeasurable (no dates in the release) cannot single anyone out by dates
            passed=risk is None or risk.ci[1] <= limit.fraction,
        )
    ]


def _utility(gate: Gate, audits: AuditReport) -> list[GateCheck]:
    if gate.max_rmse_increase is None or audits.utility is None:
        return []
    increase = audits.utility.mf_rmse_increase
    return [
        GateCheck(
            check="utility",
            description="RMSE increase of the factorization on the holdout",
            measured=increase,
            upper=increase,
            threshold=gate.max_rmse_increase,
            passed=increase <= gate.max_rmse_increase,
        )
    ]


def _distinguishability(gate: Gate, audits: AuditReport) -> list[GateCheck]:
    limit = gate.max_decoy_auc
    if limit is None:
        return []
    found = audits.distinguishability
    if found is None or found.auc is None or found.auc_ci is None:
        # nothing added or moved (or nothing to tell apart): no decoy to spot
        return [
            GateCheck(
                check="distinguishability",
                description="decoys and moved rows told from real ones (ROC AUC)",
                measured=None,
                upper=None,
                threshold=limit,
                passed=True,
            )
        ]
    return [
        GateCheck(
            check="distinguishability",
            description="decoys and moved rows told from real ones (ROC AUC)",
            measured=found.auc,
            upper=found.auc_ci[1],
            lower=found.auc_ci[0],
            threshold=limit,
            passed=found.auc_ci[1] <= limit,
        )
    ]


def apply_gate(gate: Gate, audits: AuditReport) -> GateDecision:
    """Decide the verdict of a release from its audit results.

    Parameters
    ----------
    gate : Gate
        The policy's thresholds.
    audits : audits.AuditReport
        The typed audit results (a check whose audit did not run is left out: the
        tuner's screen runs linkage alone).

    Returns
    -------
    GateDecision
        ``pass``, ``fail``, or ``not-gated`` when no threshold applies.
    """
    checks = (
        _reidentification(gate, audits)
        + _uniqueness(gate, audits)
        + _utility(gate, audits)
        + _distinguishability(gate, audits)
    )
    verdict = "not-gated" if not checks else "pass" if all(c.passed for c in checks) else "fail"
    return GateDecision(verdict, tuple(checks), gate.to_dict(), ungated=gate.none)
