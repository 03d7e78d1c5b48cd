"""The release gate: the policy's thresholds against the typed audit results.

Each threshold is compared with the upper end of the 95% Wilson interval of the
measured rate: a release passes only if the audit shows, with 95% confidence, that the
rate is below the threshold. The gate reads the audits' result objects (not a report),
and its :class:`GateDecision` is what report.json's ``verdict`` and ``gate`` render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audits import AuditReport
from policies import Gate
from publisher.core.adversary import CONFIDENCE, CONFIDENCE_LEVEL, MIN_TARGETS

__all__ = ["MIN_TARGETS", "STATISTIC", "GateCheck", "GateDecision", "apply_gate"]

STATISTIC = f"upper end of the {CONFIDENCE} Wilson interval"


@dataclass(frozen=True, kw_only=True)
class GateCheck:
    """One threshold against one measured figure.

    Attributes
    ----------
    check : {"reidentification", "uniqueness", "utility", "distinguishability"}
    description : str
        What was measured, in words.
    measured : float or None
        The point estimate (None when unmeasurable, e.g. dates absent).
    upper : float or None
        What the threshold is compared with: the interval's upper end (the measured
        value itself for utility).
    threshold : float
    passed : bool
    adversary : int or None
        The adversary's index, for re-identification checks.
    targets : int or None
        Targets the figure rests on, for re-identification checks.
    inconclusive : bool
        Too few targets to decide (fewer than :data:`MIN_TARGETS`).
    """

    check: str
    description: str
    measured: float | None
    upper: float | None
    threshold: float
    passed: bool
    adversary: int | None = None
    targets: int | None = None
    inconclusive: bool = False
    #: The lower end of the interval (None where the check has none, e.g. utility).
    lower: float | None = None

    def close_call(self) -> str | None:
        """A warning when a passed figure is within its interval's width of the threshold.

        A fresh release draws new noise and new targets: such a figure may well land on
        the other side (the tuner's recommendation once gave exits 3, 0, 0, 0, 3).
        """
        if not self.passed or self.upper is None or self.lower is None:
            return None
        width = self.upper - self.lower
        if self.threshold - self.upper >= width:
            return None
        return (
            f"{self.description}: the interval [{_figure(self, self.lower)}, "
            f"{_figure(self, self.upper)}] ends closer to the threshold "
            f"{_figure(self, self.threshold)} than its own width; a fresh release (new noise, "
            "new targets) could fail the gate"
        )

    def failure(self) -> str:
        """One line saying why the check failed."""
        if self.inconclusive:
            return (
                f"{self.description}: inconclusive, decided on {self.targets} targets "
                f"(fewer than {MIN_TARGETS})"
            )
        if self.check == "utility":
            return f"{self.description}: {self.measured:.3f} > {self.threshold:.3f}"
        if self.check == "distinguishability":
            return f"{self.description}: {self.upper:.3f} (upper bound) > {self.threshold:.3f}"
        return (
            f"{self.description}: {100 * (self.upper or 0):.1f}% (upper bound) > "
            f"{100 * self.threshold:.1f}%"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report.json ``gate.checks`` entry."""
        out: dict[str, Any] = {"check": self.check}
        if self.check == "reidentification":
            out["adversary"] = self.adversary
        out["description"] = self.description
        if self.check == "reidentification":
            out["targets"] = self.targets
        out |= {"measured": self.measured, "upper": self.upper, "threshold": self.threshold}
        if self.check == "reidentification":
            out["inconclusive"] = self.inconclusive
        out["passed"] = self.passed
        return out


@dataclass(frozen=True)
class GateDecision:
    """The verdict and every check behind it.

    ``ungated`` records a policy's explicit ``gate: none``: published without any
    threshold on purpose (every view says so).
    """

    verdict: str
    checks: tuple[GateCheck, ...]
    thresholds: dict[str, Any]
    ungated: bool = False

    @property
    def failures(self) -> list[str]:
        """One line per failed check."""
        return [check.failure() for check in self.checks if not check.passed]

    @property
    def close_calls(self) -> list[str]:
        """One line per passed check that a fresh release could fail (see GateCheck)."""
        return [text for check in self.checks if (text := check.close_call()) is not None]

    def to_dict(self) -> dict[str, Any]:
        """report.json ``gate``."""
        return {
            "statistic": STATISTIC,
            "thresholds": self.thresholds,
            "checks": [check.to_dict() for check in self.checks],
            "failures": self.failures,
            "close_calls": self.close_calls,
            "ungated": self.ungated,
        }


def _figure(check: GateCheck, value: float) -> str:
    return f"{value:.3f}" if check.check == "distinguishability" else f"{100 * value:.1f}%"


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


def _utility(gate: Gate, utility: Mapping[str, Any] | None) -> list[GateCheck]:
    increase = (utility or {}).get("mf_rmse_increase")
    if gate.max_rmse_increase is None or increase is None:
        return []
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


def apply_gate(
    gate: Gate, audits: AuditReport, utility: Mapping[str, Any] | None = None
) -> GateDecision:
    """Decide the verdict of a release from its audit results.

    Parameters
    ----------
    gate : Gate
        The policy's thresholds.
    audits : audits.AuditReport
        The linkage and uniqueness results.
    utility : mapping, optional
        The utility figures (``mf_rmse_increase`` is checked).

    Returns
    -------
    GateDecision
        ``pass``, ``fail``, or ``not-gated`` when no threshold applies.
    """
    checks = (
        _reidentification(gate, audits)
        + _uniqueness(gate, audits)
        + _utility(gate, utility)
        + _distinguishability(gate, audits)
    )
    verdict = "not-gated" if not checks else "pass" if all(c.passed for c in checks) else "fail"
    return GateDecision(verdict, tuple(checks), gate.to_dict(), ungated=gate.none)
