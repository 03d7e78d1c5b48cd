"""The release gate: the policy's thresholds against the audit results.

Each threshold is compared with the upper end of the 95% Wilson interval of the
measured rate: a release passes only if the audit shows, with 95% confidence, that
the rate is below the threshold.
"""

from __future__ import annotations

from typing import Any

from policies import Gate

__all__ = ["MIN_TARGETS", "STATISTIC", "apply_gate"]

STATISTIC = "upper end of the 95% Wilson interval"
#: A re-identification check decided on fewer targets is inconclusive, and fails: a
#: handful of attacks cannot show that a rate is low.
MIN_TARGETS = 30


def _failure(check: dict[str, Any]) -> str:
    if check.get("inconclusive"):
        return (
            f"{check['description']}: inconclusive, decided on {check['targets']} targets "
            f"(fewer than {MIN_TARGETS})"
        )
    if check["check"] == "utility":
        return f"{check['description']}: {check['measured']:.3f} > {check['threshold']:.3f}"
    return (
        f"{check['description']}: {100 * check['upper']:.1f}% (upper bound) > "
        f"{100 * check['threshold']:.1f}%"
    )


def apply_gate(gate: Gate, report: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Decide the verdict of a release from its report.json fields.

    Parameters
    ----------
    gate : Gate
        The policy's thresholds.
    report : dict
        report.json with its ``linkage`` and ``uniqueness`` entries.

    Returns
    -------
    (str, dict)
        The verdict (``pass``, ``fail`` or ``not-gated`` when no threshold is set)
        and the report.json ``gate`` field: thresholds, every check, the failures.
    """
    checks: list[dict[str, Any]] = []
    rates = gate.max_reidentification_rate or ()
    for k, (limit, entry) in enumerate(zip(rates, report["linkage"], strict=False)):
        if limit is None:
            continue
        released = entry["released"]
        upper = released["reidentified_ci"][1]
        inconclusive = entry["targets"] < MIN_TARGETS
        checks.append(
            {
                "check": "reidentification",
                "adversary": k,
                "description": entry["description"],
                "targets": entry["targets"],
                "measured": released["reidentified"],
                "upper": upper,
                "threshold": limit,
                "inconclusive": inconclusive,
                "passed": upper <= limit and not inconclusive,
            }
        )
    unique_limit = gate.max_unique_fraction
    if unique_limit is not None:
        entry = next(
            e
            for e in report["uniqueness"]
            if e["dataset"] == "released" and e["known_items"] == unique_limit.known_items
        )
        measured = entry[f"unique_{unique_limit.match}"]
        ci = entry[f"unique_{unique_limit.match}_ci"]
        upper = ci[1] if ci is not None else None
        checks.append(
            {
                "check": "uniqueness",
                "description": (
                    f"users unique by {unique_limit.known_items} items ({unique_limit.match})"
                ),
                "measured": measured,
                "upper": upper,
                "threshold": unique_limit.fraction,
                # unmeasurable (no dates in the release) cannot single anyone out by dates
                "passed": upper is None or upper <= unique_limit.fraction,
            }
        )
    if gate.max_rmse_increase is not None and report.get("utility"):
        increase = report["utility"].get("mf_rmse_increase")
        if increase is not None:
            checks.append(
                {
                    "check": "utility",
                    "description": "RMSE increase of the factorization on the holdout",
                    "measured": increase,
                    "upper": increase,
                    "threshold": gate.max_rmse_increase,
                    "passed": increase <= gate.max_rmse_increase,
                }
            )
    failures = [_failure(c) for c in checks if not c["passed"]]
    verdict = "not-gated" if not checks else "fail" if failures else "pass"
    details = {
        "statistic": STATISTIC,
        "thresholds": gate.to_dict(),
        "checks": checks,
        "failures": failures,
    }
    return verdict, details
