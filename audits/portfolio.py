"""The attack portfolio: every scorer, as data. An adversary's figure is the worst case.

Each scorer scores every record of a table against a target's knowledge and returns an
:class:`~audits.scoreboard.AttackOutcome`. The audit runs every scorer on every
knowledge model (:mod:`audits.knowledge`); the report, the gate and the tuner read the
worst case. A new scorer is one entry here: the audit, the report and the gate see it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from audits._index import IndexedTable
from audits.centered import attack_centered
from audits.cosine import attack_cosine, attack_cosine_centered
from audits.likelihood import IDENTITY, Channel, attack_likelihood
from audits.scoreboard import POSTERIOR_THRESHOLD, AttackOutcome, AuxiliaryInformation, attack
from publisher.core.adversary import DEFAULT_PHI

__all__ = ["SCORERS", "Context", "Scorer"]


@dataclass(frozen=True)
class Context:
    """What a scorer needs beyond the table and the knowledge.

    Attributes
    ----------
    phi : float
        The eccentricity a claim needs (Scoreboard-RH's rule).
    threshold : float
        The posterior a claim by posterior needs.
    channel : Channel
        How the attacked table was made, as an attacker reads it from the public policy
        (the identity for the unprotected data).
    """

    phi: float = DEFAULT_PHI
    threshold: float = POSTERIOR_THRESHOLD
    channel: Channel = IDENTITY


@dataclass(frozen=True)
class Scorer:
    """One attack of the portfolio: its report name, its words, its function."""

    name: str
    description: str
    run: Callable[[IndexedTable, AuxiliaryInformation, np.ndarray, Context], AttackOutcome]

    def attack(
        self, table: IndexedTable, aux: AuxiliaryInformation, truth: np.ndarray, context: Context
    ) -> AttackOutcome:
        """Score ``aux`` against every record of ``table``; ``truth``: each target's record."""
        outcome = self.run(table, aux, truth, context)
        # the posterior rule claims at the audit's threshold for every scorer with a posterior
        return dataclasses.replace(outcome, posterior_threshold=context.threshold)


SCORERS: dict[str, Scorer] = {
    scorer.name: scorer
    for scorer in (
        Scorer(
            "scoreboard-rh",
            "Scoreboard-RH as published (Narayanan and Shmatikov 2008)",
            lambda t, a, r, c: attack(t, a, r, c.phi),
        ),
        Scorer(
            "centered",
            "the length-centred score: Scoreboard-RH minus what a record of its length "
            "scores by chance",
            lambda t, a, r, c: attack_centered(t, a, r, c.phi),
        ),
        Scorer(
            "cosine",
            "nearest neighbour by cosine on IDF-weighted item vectors",
            lambda t, a, r, c: attack_cosine(t, a, r, c.phi),
        ),
        Scorer(
            "cosine-centered",
            "nearest neighbour by cosine on IDF-weighted ratings, each centred by its item's mean",
            lambda t, a, r, c: attack_cosine_centered(t, a, r, c.phi),
        ),
        Scorer(
            "likelihood",
            "the policy-aware likelihood: the posterior over released records given the "
            "published policy, claiming at a posterior threshold",
            lambda t, a, r, c: attack_likelihood(
                t, a, r, c.phi, channel=c.channel, threshold=c.threshold
            ),
        ),
    )
}
