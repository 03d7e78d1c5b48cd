"""The attacker who simulates the policy: the original through its suppression steps.

Every step of a policy is a randomized function of the original data, so an attacker of
the unprotected data can apply the steps that only remove ratings (rare items, sparse
customers, caps, sampling, deletions) and then attack. Its figure is a further attack
on the unprotected side: the unprotected risk is the worst of every attack on the
original (issue 17). When a release still exceeds it beyond the intervals, the step
that explains it is found by simulating each suppression step alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audits import AuditReport
from audits._index import IndexedTable
from audits.linkage import exceeds, risk_text
from audits.scoreboard import attack
from policies import Policy
from policies.steps import Step
from publisher.core.channel import IDENTITY, Channel
from publisher.core.ratings import Ratings, Scale

__all__ = [
    "attacker_channel",
    "explain_inversions",
    "simulate_policy",
    "suppression_steps",
]


def suppression_steps(policy: Policy) -> list[tuple[str, Step]]:
    """The policy's suppression steps, in order, with their ``steps[k].name`` labels.

    A suppression step is one that declares ``removes_only``: an attacker of the
    original can apply it (a property test checks the declaration).
    """
    return [
        (f"steps[{k}].{step.name}", step)
        for k, step in enumerate(policy.steps)
        if step.removes_only
    ]


def simulate_policy(
    original: Ratings, steps: list[tuple[str, Step]], seed: np.random.SeedSequence
) -> Ratings | None:
    """The original through ``steps`` with fresh randomness; None without steps."""
    if not steps:
        return None
    current = original
    for (_, step), child in zip(steps, seed.spawn(len(steps)), strict=True):
        current = step.transform(current, np.random.default_rng(child))
    return current


def attacker_channel(steps: Sequence[Step], scale: Scale) -> Channel:
    """The release as an attacker models it from the policy: every step's part, in order."""
    channel = IDENTITY
    for step in steps:
        channel = step.attacker_channel(channel, scale)
    return channel


def explain_inversions(
    original: Ratings,
    report: AuditReport,
    steps: list[tuple[str, Step]],
    seed: np.random.SeedSequence,
) -> dict[int, str]:
    """For each inverted adversary, the words naming the step that explains it.

    For an adversary whose release exceeds every attack on the original beyond the
    intervals, each suppression step is simulated alone and attacked with the
    unprotected side's knowledge (Scoreboard-RH); the step giving the highest figure
    is named. Without suppression steps the words say that none explains it.

    Returns
    -------
    dict
        Adversary index to the clause ending its inversion warning (its last review
        warning); adversaries not inverted are absent.
    """
    inverted = [
        k for k, result in enumerate(report.linkage) if result.released.n and exceeds(result)
    ]
    if not inverted or report.unprotected is None:
        return {}
    alone = {
        label: IndexedTable(simulate_policy(original, [(label, step)], child))  # type: ignore[arg-type]
        for (label, step), child in zip(steps, seed.spawn(len(steps)), strict=True)
    }
    out = {}
    for k in inverted:
        result, drawn = report.linkage[k], report.unprotected.attacks[k]
        figures = {
            label: attack(
                table, drawn.aux, table.records.of_code[drawn.targets], result.released.phi
            )
            for label, table in alone.items()
        }
        if figures:
            label, outcome = max(figures.items(), key=lambda pair: pair[1].risk().value)
            out[k] = (
                f"; {label} explains most of it: alone, it raises the attack on the "
                f"original to {risk_text(outcome)}"
            )
        else:
            out[k] = "; the policy has no suppression step to explain it"
    return out
