"""DATASHEET.md: what the bundle holds, where it came from and what was done to it.

The datasheet follows the spirit of Gebru et al., "Datasheets for Datasets"
(CACM 2021): source, processing, intended use and licence, in plain language. It is
rendered from the public view of report.json alone (:mod:`publisher.reporting.public`):
each step's description and each privacy guarantee are the ones the steps and
statistics declared (:mod:`policies.guarantees`), so the datasheet cannot state an
epsilon the report does not, nor a figure of the original data the bundle withholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from publisher.core.errors import InternalError
from publisher.core.ratings import Scale
from publisher.reporting.escape import code, escape
from publisher.reporting.format import counts_text
from publisher.reporting.phrases import UNGATED, has_microdata, is_public

__all__ = ["render_datasheet"]


def _privacy_notes(report: dict[str, Any]) -> list[str]:
    budget = report["privacy_budget"]
    notes = (
        [
            "- User ids are keyed pseudonyms (HMAC-SHA256, truncated). The key is not in this "
            "bundle. Pseudonyms hide the original ids; they do **not** prevent "
            "re-identification from the ratings themselves (Narayanan and Shmatikov, IEEE S&P "
            "2008).",
        ]
        if has_microdata(report)
        else ["- No user id, pseudonym or rating of any customer is in this bundle."]
    )
    notes.append("- Item ids are published as they are: items are public.")
    for component in budget["components"]:
        keep = (component.get("details") or {}).get("keep_probability")
        extra = f"; kept with probability {keep:.2f}" if keep is not None else ""
        notes.append(
            f"- {component['step']}: {component['mechanism']}, epsilon {component['epsilon']:g}, "
            f"delta {component['delta']:g}, over {component['scope']}{extra}: "
            f"{component['covers']}."
        )
    notes.append(f"- {budget['statement']}")
    return notes


def _published(report: dict[str, Any]) -> list[str]:
    """What the bundle holds, exactly: the ratings table (if any) and each DP table."""
    lines = []
    if has_microdata(report):
        lines.append(f"- Published: {counts_text(report['released'])} in `data/`")
    elif report.get("model") is not None:
        lines.append("- Published: no ratings table (a model release, `model:`)")
    else:
        lines.append("- Published: no ratings table (`aggregates.microdata: false`)")
    if report.get("model") is not None:
        declared = report["model"]["declared"]
        lines.append(
            f"- Published: `model/` (McSherry-Mironov recommender, unit {declared['unit']}, "
            f"epsilon {declared['epsilon']:g}, rank {declared['rank']}); predict with "
            "`publisher predict`"
        )
    for component in report["privacy_budget"]["components"]:
        if component["step"].startswith("aggregates."):
            name = component["step"].removeprefix("aggregates.")
            lines.append(
                f"- Published: `aggregates/{name}` ({component['mechanism']} noise, epsilon "
                f"{component['epsilon']:g})"
            )
    return lines


def render_datasheet(report: dict[str, Any], files: Sequence[str]) -> str:
    """Render the bundle's DATASHEET.md from its public report.json.

    Parameters
    ----------
    report : dict
        The public view of report.json of a published release.
    files : sequence of str
        The data files in the bundle.

    Returns
    -------
    str
        Markdown.
    """
    if not is_public(report):
        raise InternalError("the datasheet is rendered from the public view of report.json")
    source, policy = report["input"], report["policy"]
    scale = Scale.parse(source["scale"])
    lines = [
        f"# Datasheet: {escape(source['name'])}, released under policy {escape(policy['name'])}",
        "",
        f"Created {report['created']} by {report['tool']['name']} {report['tool']['version']}.",
        "",
        *([f"> **{UNGATED}.**", ""] if report["gate"].get("ungated") else []),
        "## Source",
        "",
        f"- Input: {escape(source['name'])} ({source['format']})",
        f"- Rating scale: {scale.minimum:g} to {scale.maximum:g} in steps of {scale.step:g}",
        f"- Dates: {'yes (day resolution)' if source['dates'] else 'none in the input'}",
        *_published(report),
        "- Not published: any exact figure of the original data (its counts, each step's "
        "counts, the attack on it, utility measured against it, its SHA-256). They are in "
        "the signed review copy the organizer keeps for the privacy reviewer.",
        "",
        "## What was done",
        "",
        escape(policy["description"]) or "(the policy has no description)",
        "",
        "| # | step | what it did |",
        "|---|---|---|",
    ]
    for i, step in enumerate(report["steps"], 1):
        lines.append(f"| {i} | `{step['name']}` | {step['description']} |")
    if not report["steps"]:
        unchanged = (
            "the data was published unchanged"
            if has_microdata(report)
            else "no ratings table was published"
        )
        lines.append(f"| - | (none) | {unchanged} |")
    randomness = {
        "seeded": "a fixed seed (reproducible by anyone; allowed only for policies without "
        "random noise)",
        "seeded-with-key": "a fixed seed mixed with the organizer's key (reproducible only by "
        "the key holder)",
        "os-entropy": "fresh operating-system entropy",
    }[report["randomness"]]
    key = (
        "the organizer's key, so pseudonyms are stable across releases under that key and the "
        "manifest is signed"
        if report["pseudonymization"] == "organizer-key"
        else "a fresh random key that was discarded, so these pseudonyms cannot be reproduced "
        "or linked to any other release"
    )
    if has_microdata(report):
        pseudonyms = f" Pseudonyms were computed with {key}."
    elif report["pseudonymization"] == "organizer-key":
        pseudonyms = " The manifest is signed with the organizer's key."
    else:
        pseudonyms = ""
    lines += [
        "",
        f"Randomness came from {randomness}.{pseudonyms}",
        "",
        "## Privacy",
        "",
        *_privacy_notes(report),
        "",
        "## Intended use",
        "",
        "Research on recommendation and rating prediction, and teaching. Not for: "
        "re-identifying, profiling or contacting the people behind the ratings, or joining "
        "this data with other sources to that end.",
        "",
        "## Licence",
        "",
        escape(policy["licence"]),
        "",
        "## Files",
        "",
        *[f"- {code(name)}" for name in files],
        "- `MANIFEST.json`: SHA-256 and size of every file; check with `publisher verify`.",
        "",
    ]
    return "\n".join(lines)
