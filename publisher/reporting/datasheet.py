"""DATASHEET.md: what the bundle holds, where it came from and what was done to it.

The datasheet follows the spirit of Gebru et al., "Datasheets for Datasets"
(CACM 2021): source, processing, intended use and licence, in plain language.
Its privacy section states only what the steps guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policies import Policy
from policies.noise import keep_probability
from policies.steps import PerturbRatings
from publisher.core.ratings import Scale
from publisher.reporting.escape import escape

__all__ = ["render_datasheet"]

_WHAT = {
    "pseudonymize_users": "user ids replaced by keyed HMAC-SHA256 pseudonyms",
    "drop_rare_items": "ratings of items with fewer than {min_raters} raters removed",
    "drop_sparse_users": "users with fewer than {min_ratings} ratings removed",
    "cap_user_ratings": "at most {max_ratings} ratings kept per user, chosen at random",
    "sample_users": "a random {fraction:.0%} of the users kept",
    "coarsen_dates": "dates rounded down to the first day of the {to}",
    "drop_dates": "dates removed",
    "jitter_dates": "every date moved by a random 0 to {max_days} days either way",
    "perturb_ratings": "ratings replaced by randomized response (epsilon {epsilon:g} per rating)",
    "delete_ratings": "{fraction:.1%} of the ratings deleted at random",
    "insert_ratings": "decoy ratings added ({fraction:.1%} of the table)",
    "redate_ratings": "{fraction:.1%} of the ratings moved by 1 to {max_days} days",
}


def _fmt(counts: dict[str, int]) -> tuple[str, str, str]:
    return f"{counts['ratings']:,}", f"{counts['users']:,}", f"{counts['items']:,}"


def _privacy_notes(policy: Policy, scale_k: int) -> list[str]:
    notes = [
        "- User ids are keyed pseudonyms (HMAC-SHA256, truncated). The key is not in this "
        "bundle. Pseudonyms hide the original ids; they do **not** prevent re-identification "
        "from the ratings themselves (Narayanan and Shmatikov, IEEE S&P 2008).",
        "- Item ids are published as they are: items are public.",
    ]
    rr = [s for s in policy.steps if isinstance(s, PerturbRatings)]
    if rr:
        eps = rr[-1].epsilon
        notes.append(
            f"- Each rating value passed through k-ary randomized response ({scale_k} values, "
            f"epsilon {eps:g}; kept with probability {keep_probability(eps, scale_k):.2f}). "
            "This is local differential privacy for each rating value only: a user with n "
            f"ratings has n x {eps:g} for the vector of their values by composition, and which "
            "items they rated, when, and how many are not protected by it."
        )
    notes.append(
        "- No other step is differentially private. Suppression, sampling, capping and date "
        "coarsening reduce risk; the risk that remains is measured by the audits, not "
        "guaranteed."
    )
    return notes


def render_datasheet(
    policy: Policy,
    source: dict[str, Any],
    steps: Sequence[Any],
    released: dict[str, int],
    meta: dict[str, Any],
    files: Sequence[str],
) -> str:
    """Render the bundle's DATASHEET.md.

    Parameters
    ----------
    policy : Policy
    source : dict
        ``name``, ``format``, ``sha256``, ``scale``, ``dates``, ``counts`` of the input.
    steps : sequence of StepRecord
    released : dict
        Ratings, users and items published.
    meta : dict
        The manifest's metadata (tool, created, randomness, pseudonymization).
    files : sequence of str
        The data files in the bundle.

    Returns
    -------
    str
        Markdown.
    """
    scale = Scale.parse(source["scale"])
    lines = [
        f"# Datasheet: {escape(source['name'])}, released under policy {escape(policy.name)}",
        "",
        f"Created {meta['created']} by {meta['tool']['name']} {meta['tool']['version']}.",
        "",
        "## Source",
        "",
        f"- Input: {escape(source['name'])} ({source['format']}), SHA-256 `{source['sha256']}`",
        f"- Rating scale: {scale.minimum:g} to {scale.maximum:g} in steps of {scale.step:g}",
        f"- Dates: {'yes (day resolution)' if source['dates'] else 'none in the input'}",
        "- Before the policy: {} ratings, {} users, {} items".format(*_fmt(source["counts"])),
        "- Published: {} ratings, {} users, {} items".format(*_fmt(released)),
        "",
        "## What was done",
        "",
        escape(policy.description) or "(the policy has no description)",
        "",
        "| # | step | what it did | ratings | users | items |",
        "|---|---|---|---|---|---|",
    ]
    for i, record in enumerate(steps, 1):
        what = _WHAT.get(record.name, record.name).format(**record.config)
        b, a = _fmt(record.before), _fmt(record.after)
        lines.append(
            f"| {i} | `{record.name}` | {what} | {b[0]} -> {a[0]} | {b[1]} -> {a[1]} "
            f"| {b[2]} -> {a[2]} |"
        )
    if not steps:
        lines.append("| - | (none) | the data was published unchanged | | | |")
    randomness = (
        "a fixed seed (reproducible; for tests and audits, not for production releases)"
        if meta["randomness"] == "seeded"
        else "fresh operating-system entropy"
    )
    key = (
        "the organizer's key, so pseudonyms are stable across releases under that key and the "
        "manifest is signed"
        if meta["pseudonymization"] == "organizer-key"
        else "a fresh random key that was discarded, so these pseudonyms cannot be reproduced "
        "or linked to any other release"
    )
    lines += [
        "",
        f"Randomness came from {randomness}. Pseudonyms were computed with {key}.",
        "",
        "## Privacy",
        "",
        *_privacy_notes(policy, scale.k),
        "",
        "## Intended use",
        "",
        "Research on recommendation and rating prediction, and teaching. Not for: "
        "re-identifying, profiling or contacting the people behind the ratings, or joining "
        "this data with other sources to that end.",
        "",
        "## Licence",
        "",
        escape(policy.licence),
        "",
        "## Files",
        "",
        *[f"- {escape(name)}" for name in files],
        "- `MANIFEST.json`: SHA-256 and size of every file; check with `publisher verify`.",
        "",
    ]
    return "\n".join(lines)
