"""The terminal's view of report.json: the audit tables, the demo's comparison, a headline.

Every figure comes from report.json and is formatted by :mod:`publisher.reporting.format`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from publisher.core.adversary import CONFIDENCE, MATCH_MODES
from publisher.reporting.format import MISSING, attacker, pct, risk
from publisher.reporting.phrases import summary, uniqueness_modes
from publisher.reporting.render import claim_posterior, row_audit_lines
from publisher.reporting.report_json import attacked

__all__ = ["headline", "render_audit_table", "render_comparison", "verdict_lines"]


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
        models = len(first["adversary"].get("knowledge") or ["original"])
        scorers = len({a["scorer"] for a in first.get("portfolio") or []}) or 1
        lines.append(
            f"Re-identification, worst case of {models} knowledge models x {scorers} scorers "
            f"(claim at eccentricity >= {first['phi']:g}, the likelihood at posterior >= "
            f"{claim_posterior(report):g}; random guess {pct(first['baseline'])}); "
            f"{CONFIDENCE} Wilson intervals"
        )
        width = max(len(entry["description"]) for entry in linkage)
        cells = [
            (
                risk(entry["original"]) + attacker(entry["original"]),
                risk(entry["released"]) + attacker(entry["released"]),
            )
            for entry in linkage
        ]
        wide = [max(24, *(len(c[k]) for c in cells)) for k in (0, 1)]
        lines.append(
            f"  {'adversary':<{width}}  {'targets':>7}  {'unprotected':<{wide[0]}}  "
            f"{'released':<{wide[1]}}  false claims"
        )
        for entry, (original, released) in zip(linkage, cells, strict=True):
            lines.append(
                f"  {entry['description']:<{width}}  {entry['targets']:>7,}  "
                f"{original:<{wide[0]}}  {released:<{wide[1]}}  "
                f"{pct(entry['released']['false_claims'])}"
            )
        lines.extend(f"  note: {note}" for note in summary(report)["notes"])
    uniqueness = report["uniqueness"]
    if uniqueness:
        lines.append(f"Singled out by m of their own original ratings ({uniqueness_modes(report)})")
        lines.append(f"  {'m':>3}  {'unprotected':<30} {'released':<30}")
        by_m: dict[int, dict[str, dict[str, Any]]] = {}
        for entry in uniqueness:
            by_m.setdefault(entry["known_items"], {})[entry["dataset"]] = entry

        def cell(entry: dict[str, Any] | None) -> str:
            if entry is None:
                return MISSING
            return " / ".join(pct(entry.get(f"unique_{mode}")) for mode in MATCH_MODES)

        for m, sides in sorted(by_m.items()):
            lines.append(
                f"  {m:>3}  {cell(sides.get('original')):<30} {cell(sides.get('released')):<30}"
            )
    rows = row_audit_lines(report)
    if rows["dates"]:
        lines.append("True dates recovered by an attacker who knows the date steps")
        lines += [f"  {a:<16} {b:<40} {c}" for a, b, c in rows["dates"]]
    if rows["decoys"]:
        lines.append(rows["decoys"])
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
        "Re-identified, worst case over the knowledge models and scorers "
        f"({CONFIDENCE} Wilson interval), same adversaries on each release:",
        f"  {'adversary':<{width}}  " + " ".join(f"{n:<24}" for n in names),
    ]
    for k, entry in enumerate(first):
        cells = [risk(entry["original"])]
        cells += [risk(report["linkage"][k]["released"]) for _, report in reports]
        lines.append(f"  {entry['description']:<{width}}  " + " ".join(f"{c:<24}" for c in cells))
    lines.append(
        f"  {'gate verdict':<{width}}  {'':<24} "
        + " ".join(f"{report['verdict'].upper():<24}" for _, report in reports)
    )
    return "\n".join(lines)


def headline(report: dict[str, Any]) -> str:
    """One line for terminals: the verdict and the worst adversary on each side."""
    head = summary(report)
    text = f"verdict {report['verdict'].upper()}"
    if head["worst_released"] is not None:
        on_release = report["linkage"][head["worst_released"]["adversary"]]
        text += (
            f"; worst on the release ({on_release['description']}): "
            f"{risk(on_release['released'])} of the {attacked(on_release['targets'])}"
        )
    if head["worst_unprotected"] is not None:
        on_original = report["linkage"][head["worst_unprotected"]["adversary"]]
        text += (
            f"; worst on the unprotected data ({on_original['description']}): "
            f"{risk(on_original['original'])}"
        )
    return text


def verdict_lines(report: dict[str, Any]) -> list[str]:
    """The headline, then one line per failed gate check."""
    return [headline(report), *(f"  failed: {f}" for f in report["gate"]["failures"])]
