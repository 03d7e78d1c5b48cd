"""What of report.json may leave in the public bundle: an allowed list, field by field.

An evaluation's report.json is the *review* view: every figure, including exact
figures of the original data (its counts, each step's before and after counts, the
attack on the unprotected data, utility measured against the original, the input's
SHA-256). Those go to the privacy reviewer in the signed review copy (``DIR.review/``)
and to a rejected release's report, never into the public bundle: an exact customer
count alone tells apart two datasets that differ by one customer.

The *public* view keeps only the fields of :data:`PUBLIC_FIELDS`: what the policy
declares, the differential-privacy statement, and figures of the release itself.
Every other field is present with the value ``null`` ("withheld"), so the structure
of report.json is the same in both views. With ``aggregates.microdata: false`` there
is no release to measure, and the public view holds nothing computed from the
original without noise.
"""

from __future__ import annotations

import copy
from typing import Any

from publisher.core.errors import InternalError

__all__ = ["PUBLIC_FIELDS", "consistency_problems", "field_paths", "public_view", "withheld_held"]

#: Every report.json field the public view may hold, with why it is not a figure of
#: the original. A path names a whole subtree; ``[]`` stands for every list entry.
PUBLIC_FIELDS: dict[str, str] = {
    "schema": "format version",
    "view": "which view this is",
    "verdict": "the gate's decision (a published bundle exists only if it passed)",
    "tool": "tool name and version",
    "created": "time of the run",
    "policy": "the policy as declared (name, digest, description, licence)",
    "input.name": "the input's file name, as the organizer named it",
    "input.format": "the input's format",
    "input.scale": "the rating scale, declared by the format or --scale",
    "input.dates": "whether the input has a date column (a schema fact)",
    "released": "counts of the published ratings table (anyone can count them)",
    "randomness": "OS entropy, or a seed (mixed with the key or not); never the seed",
    "pseudonymization": "organizer key or ephemeral key; never the key",
    "release": "the release's random id and whether its pseudonyms link to other releases",
    "steps[].name": "the policy's steps, as declared",
    "steps[].config": "their parameters, as declared",
    "steps[].description": "what each step does, in its own words",
    "linkage[].adversary": "each adversary, as declared",
    "linkage[].description": "the adversary in words",
    "linkage[].targets": "released customers attacked",
    "linkage[].eligible_users": "released customers with enough ratings to attack",
    "linkage[].phi": "the claim threshold, as declared",
    "linkage[].baseline": "random guessing on the release: 1 / released customers",
    "linkage[].released": "the attack's figures on the release (the portfolio's worst case)",
    "linkage[].portfolio[].knowledge": "each attack's knowledge model, as declared",
    "linkage[].portfolio[].scorer": "each attack's scorer",
    "linkage[].portfolio[].released": "each attack's figures on the release",
    "linkage[].knowledge[].model": "the knowledge models, as declared",
    "linkage[].knowledge[].targets": "released customers attacked per model",
    "linkage[].knowledge[].eligible_users": "released customers eligible per model",
    "linkage[].knowledge[].known_in_release": "how many known items the release lists",
    "linkage[].warnings": (
        "caveats in words; one says whether the attack on the original beat random "
        "guessing, the one bit about the original kept because it says whether the "
        "release figures can be trusted"
    ),
    "uniqueness[]": "uniqueness of released customers (entries of the original are left out)",
    "date_recovery[].tolerance_days": "the adversary's date tolerance, as declared",
    "date_recovery[].targets": "released customers whose dates were estimated",
    "date_recovery[].window_days": "the attacker's window, from the declared date steps",
    "date_recovery[].offset_days": "the attacker's offset, from the declared coarsening",
    "date_recovery[].released": "how often the release gives away a true date",
    "distinguishability.auc": "how well a classifier tells added or moved rows in the release",
    "distinguishability.auc_ci": "its interval",
    "distinguishability.rows": "rows of the sampled released customers",
    "distinguishability.customers": "released customers sampled for the classifier",
    "distinguishability.kinds": "the declared steps that add or move rows",
    "distinguishability.features": "what the classifier sees",
    "distinguishability.note": "why no figure, in words",
    "gate.statistic": "what the thresholds are compared with",
    "gate.thresholds": "the thresholds, as declared",
    "gate.checks[].check": "which check",
    "gate.checks[].adversary": "which adversary",
    "gate.checks[].description": "the check in words",
    "gate.checks[].targets": "released customers attacked",
    "gate.checks[].measured": "the release's figure (withheld for the utility check)",
    "gate.checks[].upper": "its upper bound (withheld for the utility check)",
    "gate.checks[].threshold": "the threshold, as declared",
    "gate.checks[].inconclusive": "whether too few targets decided the check",
    "gate.checks[].passed": "the check's outcome",
    "gate.failures": "empty: a published bundle passed every check",
    "gate.ungated": "whether the policy declares gate: none",
    "gate.close_calls": "passed checks near their threshold, in words from public figures",
    "privacy_budget": "the differential-privacy statement, from the policy and the scale",
    "model.declared": "the policy's model section, as declared",
    "model.statement": "the model's guarantee in words, from the policy",
    "distributions.rating_histogram.values": "the scale's values",
    "distributions.rating_histogram.released": "the release's rating histogram",
    "distributions.item_popularity.released": "the release's item popularity curve",
    "summary": "the headline, recomputed from the public fields alone",
}


def _allowed(path: str) -> bool:
    return path in PUBLIC_FIELDS


def _leads_to_allowed(path: str) -> bool:
    if not path:  # the document itself
        return True
    return any(p.startswith(path + ".") or p.startswith(path + "[]") for p in PUBLIC_FIELDS)


def _prune(value: Any, path: str) -> Any:
    if _allowed(path):
        return copy.deepcopy(value)
    if isinstance(value, dict) and _leads_to_allowed(path):
        return {k: _prune(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list) and _leads_to_allowed(path):
        return [_prune(v, f"{path}[]") for v in value]
    return None


def public_view(report: dict[str, Any]) -> dict[str, Any]:
    """The public bundle's report.json: the allowed fields, every other one ``null``.

    Parameters
    ----------
    report : dict
        The review view (an evaluation's report.json) of a release that passed its gate.

    Returns
    -------
    dict

    Raises
    ------
    InternalError
        For a rejected release: it publishes nothing, so it has no public view.
    """
    from publisher.reporting.report_json import summarize  # it imports this module

    if report["verdict"] == "fail":
        raise InternalError("a rejected release has no public view; its report is for review")
    source = {
        **report,
        "view": "public",
        "uniqueness": [e for e in report["uniqueness"] if e["dataset"] == "released"],
        "summary": None,
    }
    public = _prune(source, "")
    for check in public["gate"]["checks"]:
        if check["check"] == "utility":  # measured against the original
            check["measured"] = check["upper"] = None
    public["summary"] = summarize(public)
    return public


def field_paths(report: Any, path: str = "") -> list[str]:
    """Every path of ``report`` that holds a value other than null, lists as ``[]``.

    Examples
    --------
    >>> field_paths({"a": {"b": 1, "c": None}, "d": [{"e": 2}]})
    ['a.b', 'd[].e']
    """
    if isinstance(report, dict):
        return [p for k, v in report.items() for p in field_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(report, list) and any(isinstance(v, dict | list) for v in report):
        return sorted({p for v in report for p in field_paths(v, f"{path}[]")})
    return [] if report is None else [path]


def withheld_held(report: dict[str, Any]) -> list[str]:
    """The fields of ``report`` the public view withholds that hold a value anyway.

    A public bundle's report.json is judged by what it holds, not by its ``view`` label:
    the review view relabelled ``public`` still carries the original's exact figures.
    """
    # an empty list on the way to allowed fields (no gate checks) holds nothing
    found = [
        path
        for path in field_paths(report)
        if not _allowed_path(path) and not _leads_to_allowed(path)
    ]
    unique = report.get("uniqueness")
    if isinstance(unique, list) and any(
        isinstance(e, dict) and e.get("dataset") != "released" for e in unique
    ):
        found.append("uniqueness[] (an entry of the original)")
    gate = report.get("gate")
    checks = gate.get("checks") if isinstance(gate, dict) else None
    for check in checks if isinstance(checks, list) else []:
        if (
            isinstance(check, dict)
            and check.get("check") == "utility"
            and (check.get("measured") is not None or check.get("upper") is not None)
        ):
            found.append("gate.checks[].measured (the utility check, measured on the original)")
    return found


def _allowed_path(path: str) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[]")) for p in PUBLIC_FIELDS)


def consistency_problems(report: dict[str, Any]) -> list[str]:
    """Where the verdict contradicts the gate's own checks, or the summary the figures.

    ``verdict: pass`` beside a failed check (or ``fail`` with every check passed), failures
    that are not the failed checks, and a summary that is not the one the report's
    figures give: each is a hand-edited report, whatever its manifest says.
    """
    from publisher.reporting.report_json import summarize  # it imports this module

    problems = []
    checks = report["gate"]["checks"]
    failed = [c for c in checks if not c["passed"]]
    expected = "not-gated" if not checks else "fail" if failed else "pass"
    if report["verdict"] != expected:
        problems.append(
            f"verdict {report['verdict']!r} contradicts the gate's checks "
            f"({len(failed)} of {len(checks)} failed: the verdict is {expected!r})"
        )
    if len(report["gate"]["failures"]) != len(failed):
        problems.append(
            f"gate.failures lists {len(report['gate']['failures'])} failures, the checks "
            f"{len(failed)}"
        )
    for check in checks:
        if check["check"] in ("reidentification", "uniqueness", "distinguishability"):
            upper, threshold = check["upper"], check["threshold"]
            should = upper is None or upper <= threshold
            if check.get("inconclusive"):
                should = False
            if check["passed"] != should and upper is not None:
                problems.append(
                    f"gate check {check['description']!r}: passed is {check['passed']} with "
                    f"{upper} against the threshold {threshold}"
                )
    try:
        fresh = summarize(report)
    except (KeyError, TypeError, IndexError, ValueError):
        fresh = None
    if report.get("summary") is not None and fresh is not None and report["summary"] != fresh:
        problems.append("summary is not the one its figures give (edited by hand?)")
    return problems
