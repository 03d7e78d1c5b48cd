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

from audits import AuditReport
from policies import Policy
from policies.guarantees import privacy_statement
from publisher.core.adversary import MIN_TARGETS
from publisher.core.decision import GateDecision
from publisher.core.errors import InternalError
from publisher.core.ratings import ITEM, RATING, Ratings, Scale
from publisher.reporting.format import count, pct

__all__ = [
    "REPORT_SCHEMA",
    "attacked",
    "build_report",
    "distributions",
    "report_schema",
    "summarize",
    "validate_report",
]

#: Version 2 adds ``view``: ``review`` (every figure) or ``public`` (the allowed list of
#: :mod:`publisher.reporting.public`, every other field null). Version 3: ``linkage[]``
#: ``released`` and ``original`` are the worst case over the scorers' portfolio (with the
#: ``scorer``, and for ``original`` the table ``attacked``), every scorer's figures are
#: under ``scorers``; ``date_recovery`` and ``distinguishability`` are new. Version 4:
#: ``linkage[].review_warnings`` (caveats citing the original's figures, withheld from the
#: public view, which keeps ``warnings`` built from public fields alone) and
#: ``gate.ungated`` (the policy declares ``gate: none``). Version 5: the worst case is over
#: knowledge models x scorers (``linkage[].portfolio[]`` replaces ``scorers``; each figure
#: names its ``knowledge`` and claim ``rule``, with ``other_rule`` beside), and
#: ``linkage[].knowledge[]`` says what each model gave the attacker.
REPORT_SCHEMA = "publisher.report/5"


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


def _worst(linkage: list[dict[str, Any]], side: str) -> dict[str, Any] | None:
    """The adversary with the highest re-identification on one side, with its figures.

    None without adversaries, or when the side is withheld (the public view has no
    figures of the unprotected data).
    """
    if not linkage or any(entry[side] is None for entry in linkage):
        return None
    k = max(range(len(linkage)), key=lambda i: linkage[i][side]["reidentified"])
    entry = linkage[k]
    return {
        "adversary": k,
        "description": entry["description"],
        "reidentified": entry[side]["reidentified"],
        "reidentified_ci": entry[side]["reidentified_ci"],
        "targets": entry["targets"],
    }


def attacked(targets: int) -> str:
    """The targets a figure rests on, in words; inconclusive below :data:`MIN_TARGETS`.

    Examples
    --------
    >>> attacked(1000)
    '1,000 released customers attacked'
    >>> attacked(8)
    '8 released customers attacked (inconclusive: fewer than 30 targets decide nothing)'
    """
    text = f"{count(targets)} released customer{'' if targets == 1 else 's'} attacked"
    if targets < MIN_TARGETS:
        text += f" (inconclusive: fewer than {MIN_TARGETS} targets decide nothing)"
    return text


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """report.json ``summary``: the headline figures, picked once for every view.

    The worst adversary on the release and the worst on the unprotected data are picked
    separately (they need not be the same adversary). The risk drivers name only what
    the gate checks, so a summary never states a risk the verdict did not weigh.
    """
    linkage = report["linkage"]
    worst = _worst(linkage, "released")
    drivers = []
    if worst is not None:
        entry = linkage[worst["adversary"]]
        unprotected = (
            f" (the unprotected data: {pct(entry['original']['reidentified'])})"
            if entry["original"] is not None
            else ""
        )
        drivers.append(
            f"an adversary who knows {entry['description']} re-identifies "
            f"{pct(entry['released']['reidentified'])} of the {attacked(entry['targets'])}"
            f"{unprotected}"
        )
    for check in report["gate"]["checks"]:
        if check["check"] == "uniqueness" and check["measured"] is not None:
            share = pct(check["measured"])
            drivers.append(f"{check['description']}: {share} of released customers")
    notes: list[str] = []
    for entry in linkage:
        # the review warnings cite the original's figures: null in the public view
        for warning in [*entry["warnings"], *(entry.get("review_warnings") or [])]:
            if warning not in notes:
                notes.append(warning)
    notes.extend(report.get("uniqueness_warnings") or [])  # null in the public view
    return {
        "published": report["verdict"] != "fail",
        "worst_released": worst,
        "worst_unprotected": _worst(linkage, "original"),
        "targets": [entry["targets"] for entry in linkage],
        "drivers": drivers,
        "notes": notes,
    }


def build_report(
    *,
    policy: Policy,
    meta: dict[str, Any],
    source: dict[str, Any],
    released_counts: dict[str, int],
    steps: Sequence[Any],
    audits: AuditReport,
    gate: GateDecision,
    scale: Scale,
    distributions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble report.json (the review view) from the typed results, once.

    Parameters
    ----------
    policy : Policy
    meta : dict
        Tool, creation time, policy digest, randomness, pseudonymization.
    source : dict
        Input name, format, digest, scale, counts.
    released_counts : dict
    steps : sequence of StepRecord
    audits : audits.AuditReport
        Every audit's typed result; each renders its own section.
    gate : GateDecision
        The verdict, thresholds, checks and failures.
    scale : Scale
        The public rating scale (``source["scale"]`` is its text).
    distributions : dict, optional
        Rating histograms and popularity curves (:func:`distributions`).

    Returns
    -------
    dict
        Every figure finite (a NaN or infinity raises :class:`InternalError`), with
        its ``summary``.
    """
    sections = audits.to_dict()
    report = {
        "schema": REPORT_SCHEMA,
        "view": "review",
        "verdict": gate.verdict,
        "gate": gate.to_dict(),
        "tool": meta["tool"],
        "created": meta["created"],
        "policy": {
            **meta["policy"],
            "description": policy.description.strip(),
            "licence": policy.licence,
        },
        "input": source,
        "released": released_counts,
        "randomness": meta["randomness"],
        "pseudonymization": meta["pseudonymization"],
        "release": meta.get("release"),
        "steps": [record.to_dict() for record in steps],
        "linkage": sections["linkage"],
        "uniqueness": sections["uniqueness"],
        "date_recovery": sections["date_recovery"],
        "distinguishability": sections["distinguishability"],
        "uniqueness_warnings": sections["uniqueness_warnings"],
        "utility": sections["utility"],
        "privacy_budget": privacy_statement(policy, scale).to_dict(),
        "distributions": distributions,
        "model": _model_section(policy, audits),
    }
    report["summary"] = summarize(report)
    check_finite(report, "report")
    return report


def _model_section(policy: Policy, audits: AuditReport) -> dict[str, Any] | None:
    """report.json ``model``: what a model release declared and how well it predicts."""
    if policy.model is None:
        return None
    return {
        "declared": policy.model.to_dict(),
        "statement": policy.model.describe(),
        "utility": audits.model.to_dict() if audits.model is not None else None,
    }


def check_finite(value: Any, where: str) -> None:
    """Fail loudly on a NaN or infinity before it reaches report.json."""
    if isinstance(value, float) and not np.isfinite(value):
        raise InternalError(f"{where} is {value}; report figures must be finite")
    if isinstance(value, dict):
        for key, item in value.items():
            check_finite(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            check_finite(item, f"{where}[{k}]")


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
