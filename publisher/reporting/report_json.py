"""report.json: the machine-readable record of a release and its audits.

The field contract is in DESIGN.md ("report.json"); ``schema`` names its version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import jsonschema
import numpy as np

from policies import Policy
from policies.noise import keep_probability
from policies.steps import PerturbRatings
from publisher.core.ratings import ITEM, RATING, Ratings, Scale

__all__ = [
    "REPORT_SCHEMA",
    "build_report",
    "distributions",
    "headline",
    "privacy_budget",
    "render_audit_table",
    "render_comparison",
    "report_schema",
    "validate_report",
]

REPORT_SCHEMA = "publisher.report/1"


def privacy_budget(policy: Policy, scale: Scale) -> dict[str, Any]:
    """The differential-privacy components of a policy and what they cover.

    Only randomized response on ratings is differentially private here, and only
    locally, per rating value.
    """
    components: list[dict[str, Any]] = []
    for step in policy.steps:
        if isinstance(step, PerturbRatings):
            components.append(
                {
                    "step": step.name,
                    "mechanism": f"{scale.k}-ary randomized response",
                    "epsilon": float(step.epsilon),
                    "delta": 0.0,
                    "scope": "each rating value, locally",
                    "keep_probability": keep_probability(step.epsilon, scale.k),
                }
            )
    per_rating = sum(c["epsilon"] for c in components)
    parts = []
    if components:
        parts.append(
            f"Each released rating value is {per_rating:g}-locally differentially private "
            "(randomized response). A customer with n ratings has n x "
            f"{per_rating:g} for the vector of their rating values (basic composition). Which "
            "items a customer rated, when, and how many are NOT covered."
        )
    aggregate_total = None
    if policy.aggregates is not None:
        from policies.aggregates import budget_components, total_epsilon

        components += budget_components(policy.aggregates)
        aggregate_total = total_epsilon(policy.aggregates)
        parts.append(
            f"The aggregates under aggregates/ are together {aggregate_total:g}-differentially "
            "private for each customer (all of their ratings; at most "
            f"{policy.aggregates.max_ratings_per_user} per customer counted), by sequential "
            "composition. The item catalogue and the date range are treated as public."
        )
    if policy.aggregates is None or policy.aggregates.microdata:
        parts.append(
            "No step that shapes the published ratings table is differentially private"
            + (
                " other than randomized response on rating values"
                if components and any(c["step"] == "perturb_ratings" for c in components)
                else ""
            )
            + "; its protection is measured by the audits, not guaranteed."
        )
    return {
        "unit": "one customer (all of their ratings)",
        "components": components,
        "per_rating_epsilon": per_rating if per_rating else None,
        "aggregates_epsilon": aggregate_total,
        "statement": " ".join(parts),
    }


def distributions(original: Ratings, released: Ratings) -> dict[str, Any]:
    """Rating histograms and item-popularity curves before and after the policy.

    Popularity curves keep about 100 log-spaced ranks, enough to plot.
    """

    def popularity(table: Ratings) -> list[list[int]]:
        counts = np.sort(np.bincount(table.frame[ITEM].to_numpy()))[::-1]
        counts = counts[counts > 0]
        if not len(counts):
            return []
        ranks = np.unique(np.geomspace(1, len(counts), 100).astype(int))
        return [[int(r), int(counts[r - 1])] for r in ranks]

    scale = original.scale

    def histogram(table: Ratings) -> list[int]:
        index = scale.to_index(table.frame[RATING].to_numpy())
        return np.bincount(index, minlength=scale.k).tolist()

    return {
        "rating_histogram": {
            "values": scale.values().tolist(),
            "original": histogram(original),
            "released": histogram(released),
        },
        "item_popularity": {"original": popularity(original), "released": popularity(released)},
    }


def build_report(
    *,
    policy: Policy,
    meta: dict[str, Any],
    source: dict[str, Any],
    released_counts: dict[str, int],
    steps: Sequence[Any],
    audits: dict[str, Any],
    verdict: str,
    gate: dict[str, Any] | None = None,
    utility: dict[str, Any] | None = None,
    distributions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble report.json.

    Parameters
    ----------
    policy : Policy
    meta : dict
        Tool, creation time, policy digest, randomness, pseudonymization.
    source : dict
        Input name, format, digest, scale, counts.
    released_counts : dict
    steps : sequence of StepRecord
    audits : dict
        ``linkage`` and ``uniqueness`` lists (from ``AuditReport.to_dict``).
    verdict : {"pass", "fail", "not-gated"}
    gate : dict, optional
        The thresholds and which of them failed.
    utility : dict, optional
        Utility figures; None until measured.

    Returns
    -------
    dict
    """
    return {
        "schema": REPORT_SCHEMA,
        "verdict": verdict,
        "gate": gate or {"thresholds": policy.gate.to_dict(), "failures": []},
        "tool": meta["tool"],
        "created": meta["created"],
        "policy": {**meta["policy"], "description": policy.description.strip()},
        "input": source,
        "released": released_counts,
        "randomness": meta["randomness"],
        "pseudonymization": meta["pseudonymization"],
        "steps": [record.to_dict() for record in steps],
        "linkage": audits["linkage"],
        "uniqueness": audits["uniqueness"],
        "utility": utility,
        "privacy_budget": privacy_budget(policy, Scale.parse(source["scale"])),
        "distributions": distributions,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _risk_cell(side: dict[str, Any]) -> str:
    lo, hi = side["reidentified_ci"]
    return f"{_pct(side['reidentified'])} [{100 * lo:.1f}-{100 * hi:.1f}]"


def render_audit_table(report: dict[str, Any]) -> str:
    """Plain-text tables of the linkage and uniqueness audits, for the terminal.

    Parameters
    ----------
    report : dict
        report.json.

    Returns
    -------
    str
    """
    lines = []
    linkage = report["linkage"]
    if linkage:
        first = linkage[0]
        lines.append(
            f"Re-identification (Scoreboard-RH, {first['targets']} targets, claim at "
            f"eccentricity >= {first['phi']:g}; random guess {_pct(first['baseline'])}); "
            "95% Wilson intervals"
        )
        width = max(len(entry["description"]) for entry in linkage)
        lines.append(f"  {'adversary':<{width}}  {'unprotected':<20} {'released':<20} false claims")
        notes: list[str] = []
        for entry in linkage:
            lines.append(
                f"  {entry['description']:<{width}}  {_risk_cell(entry['original']):<20} "
                f"{_risk_cell(entry['released']):<20} {_pct(entry['released']['false_claims'])}"
            )
            notes.extend(w for w in entry["warnings"] if w not in notes)
        lines.extend(f"  note: {note}" for note in notes)
    uniqueness = report["uniqueness"]
    if uniqueness:
        lines.append(
            "Users singled out by m of their own items (items / + exact ratings / + dates "
            "within 3 days)"
        )
        lines.append(f"  {'m':>3}  {'unprotected':<24} {'released':<24}")
        by_m: dict[int, dict[str, dict[str, Any]]] = {}
        for entry in uniqueness:
            by_m.setdefault(entry["known_items"], {})[entry["dataset"]] = entry

        def cell(entry: dict[str, Any] | None) -> str:
            if entry is None:
                return "-"
            return " / ".join(
                _pct(entry[f"unique_{mode}"]) for mode in ("items", "ratings", "ratings_dates")
            )

        for m, sides in sorted(by_m.items()):
            lines.append(
                f"  {m:>3}  {cell(sides.get('original')):<24} {cell(sides.get('released')):<24}"
            )
    return "\n".join(lines)


def report_schema() -> dict[str, Any]:
    """The JSON Schema of report.json shipped with the package."""
    text = (resources.files("publisher.reporting") / "schemas" / "report.schema.json").read_text(
        "utf-8"
    )
    return json.loads(text)


def validate_report(report: Any) -> list[str]:
    """Check a report.json document against the schema.

    Returns
    -------
    list of str
        One line per violation (``path: message``); empty when valid.
    """
    validator = jsonschema.Draft202012Validator(report_schema())
    problems = []
    for error in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    return problems


def render_comparison(reports: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """Re-identification side by side: unprotected, then each policy's release.

    Parameters
    ----------
    reports : sequence of (policy name, report.json)
        Reports of releases of the same data with the same adversaries.
    """
    if not reports or not reports[0][1]["linkage"]:
        return ""
    first = reports[0][1]["linkage"]
    width = max(len(e["description"]) for e in first)
    names = ["unprotected"] + [name for name, _ in reports]
    lines = [
        "Re-identified (95% Wilson interval), same adversaries on each release:",
        f"  {'adversary':<{width}}  " + " ".join(f"{n:<20}" for n in names),
    ]
    for k, entry in enumerate(first):
        cells = [_risk_cell(entry["original"])]
        cells += [_risk_cell(report["linkage"][k]["released"]) for _, report in reports]
        lines.append(f"  {entry['description']:<{width}}  " + " ".join(f"{c:<20}" for c in cells))
    lines.append(
        f"  {'gate verdict':<{width}}  {'':<20} "
        + " ".join(f"{report['verdict'].upper():<20}" for _, report in reports)
    )
    return "\n".join(lines)


def headline(report: dict[str, Any]) -> str:
    """One line for terminals: verdict and the worst adversary before and after."""
    linkage = report["linkage"]
    text = f"verdict {report['verdict'].upper()}"
    if linkage:
        worst = max(linkage, key=lambda e: e["released"]["reidentified"])
        text += (
            f"; worst adversary ({worst['description']}): {_risk_cell(worst['original'])} "
            f"re-identified unprotected, {_risk_cell(worst['released'])} released"
        )
    return text
