"""The release gate's decision: every threshold against its measured figure, typed.

The engine decides it (:func:`publisher.engine.gate.apply_gate`); report.json's
``verdict`` and ``gate`` render it; the tuner's screen reads its clear failures. It lives
in ``core`` so that ``reporting`` renders it without reaching up into the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from publisher.core.adversary import CONFIDENCE, MIN_TARGETS

__all__ = ["STATISTIC", "GateCheck", "GateDecision"]

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

    @property
    def clearly_failed(self) -> bool:
        """Failed beyond doubt: the interval lies wholly above the threshold.

        More targets narrow the interval but, bar a 1-in-40 draw, leave it above: the
        tuner's screen stops a candidate here.
        """
        return self.lower is not None and self.lower > self.threshold

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
    def clear_failures(self) -> list[str]:
        """One line per check that failed beyond doubt (see :attr:`GateCheck.clearly_failed`)."""
        return [
            f"{check.check}: {check.description} lower {check.lower:.3g} > "
            f"{check.threshold:.3g}" + (f" on {check.targets} targets" if check.targets else "")
            for check in self.checks
            if check.clearly_failed
        ]

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
