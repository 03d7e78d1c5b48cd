"""The terminal's view of report.json: the audit tables, the demo's comparison, a headline.

Every figure comes from report.json and is formatted by :mod:`publisher.reporting.format`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from publisher.reporting.format import pct, risk

__all__ = ["headline", "render_audit_table", "render_comparison"]


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
            f"eccentricity >= {first['phi']:g}; random guess {pct(first['baseline'])}); "
            "95% Wilson intervals"
        )
        width = max(len(entry["description"]) for entry in linkage)
        lines.append(f"  {'adversary':<{width}}  {'unprotected':<20} {'released':<20} false claims")
        notes: list[str] = []
        for entry in linkage:
            lines.append(
                f"  {entry['description']:<{width}}  {risk(entry['original']):<20} "
                f"{risk(entry['released']):<20} {pct(entry['released']['false_claims'])}"
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
                pct(entry[f"unique_{mode}"]) for mode in ("items", "ratings", "ratings_dates")
            )

        for m, sides in sorted(by_m.items()):
            lines.append(
                f"  {m:>3}  {cell(sides.get('original')):<24} {cell(sides.get('released')):<24}"
            )
    return "\n".join(lines)


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
        cells = [risk(entry["original"])]
        cells += [risk(report["linkage"][k]["released"]) for _, report in reports]
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
            f"; worst adversary ({worst['description']}): {risk(worst['original'])} "
            f"re-identified unprotected, {risk(worst['released'])} released"
        )
    return text
