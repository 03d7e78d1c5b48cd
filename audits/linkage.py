"""The linkage audit: who is attacked, with what knowledge, by which scorers; honest statistics.

The adversary knows a few of a target's ratings, approximately, from elsewhere (IMDb, a
conversation). Which ones is a knowledge model (:mod:`audits.knowledge`: the target's
original ratings, those of items the release lists, or the popular ones), and every
released record is scored against that knowledge by every scorer of the portfolio
(:mod:`audits.portfolio`: Scoreboard-RH as published, the length-centred score, cosine
nearest neighbour, the policy-aware likelihood). Each adversary's figure is the WORST
CASE over knowledge models and scorers; the gate reads it. The same attacks on the
unprotected data (targets drawn from all of its eligible customers), on the original
passed through the policy's suppression steps (an attacker of the unprotected data can
apply them first), on a control set of customers the policy removed, and a
random-guess baseline make the figure honest.

References
----------
A. Narayanan and V. Shmatikov, "Robust De-anonymization of Large Sparse Datasets",
IEEE Symposium on Security and Privacy, 2008, sections 4-5.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audits._index import IndexedTable
from audits.frames import check_aligned
from audits.knowledge import (
    KnowledgePool,
    draw_knowledge,
    eligible_items,
    knowledge_pool,
    known_in_release,
)
from audits.knowledge import eligible_users as _eligible_users
from audits.likelihood import IDENTITY, Channel
from audits.portfolio import SCORERS, Context
from audits.scoreboard import PHI_GRID, POSTERIOR_THRESHOLD, AttackOutcome, AuxiliaryInformation
from audits.stats import Risk, wilson_interval
from publisher.core.adversary import CONFIDENCE_LEVEL, DEFAULT_PHI, DEFAULT_TARGETS, Adversary
from publisher.core.ratings import Ratings

__all__ = [
    "CLAIM_RULES",
    "PHI_GRID",
    "SCORERS",
    "Attack",
    "AttackOutcome",
    "AuxiliaryInformation",
    "Drawn",
    "LinkageAudit",
    "LinkageResult",
    "UnprotectedAttack",
    "attack_simulated",
    "attack_unprotected",
    "draw_auxiliary",
    "eligible_items",
    "eligible_users",
    "exceeds",
    "risk_text",
]

#: Sides of an attack: the release, the unprotected data, the policy-simulated original,
#: the control set (customers the policy removed, attacked on the release).
SIDES = ("released", "original", "simulated", "control")
#: How an attack claims: by eccentricity (phi) or by its posterior (a threshold).
CLAIM_RULES = ("eccentricity", "posterior")


def eligible_users(
    original: IndexedTable, adversary: Adversary, eligible: np.ndarray
) -> np.ndarray:
    """User codes with at least ``true_items`` ratings among the ``eligible`` items."""
    return _eligible_users(original, adversary, KnowledgePool("original", eligible, None))


def draw_auxiliary(
    original: IndexedTable,
    adversary: Adversary,
    targets: np.ndarray,
    eligible: np.ndarray,
    rng: np.random.Generator,
) -> AuxiliaryInformation:
    """The ``original`` knowledge model's draw (:func:`audits.knowledge.draw_knowledge`)."""
    pool = KnowledgePool("original", eligible, None)
    return draw_knowledge(original, adversary, targets, pool, rng)


@dataclass(frozen=True)
class Drawn:
    """Targets and their knowledge under one model, with each scorer's outcome on one table."""

    targets: np.ndarray
    aux: AuxiliaryInformation
    outcomes: dict[str, AttackOutcome]


@dataclass(frozen=True)
class UnprotectedAttack:
    """One adversary's attacks on the unprotected data, drawn once and reusable.

    The targets are drawn from every customer of the original data eligible for the
    adversary (not only those a policy later releases), so the figures depend on the data,
    the adversary and the draw alone: every release of the same data can show them.
    ``released`` knowledge on the unprotected data itself is ``original`` knowledge (every
    item is there), so it is not drawn twice.

    Attributes
    ----------
    adversary : Adversary
    drawn : dict of Drawn
        By knowledge model.
    """

    adversary: Adversary
    drawn: dict[str, Drawn]

    def of(self, model: str) -> Drawn:
        """The draw of ``model`` (``released`` is the ``original`` draw here)."""
        return self.drawn["original" if model == "released" else model]

    # the published attack, for callers that look at one draw
    @property
    def targets(self) -> np.ndarray:
        """The ``original`` model's targets."""
        return self.of("original").targets

    @property
    def aux(self) -> AuxiliaryInformation:
        """The ``original`` model's knowledge."""
        return self.of("original").aux

    @property
    def outcome(self) -> AttackOutcome:
        """Scoreboard-RH with ``original`` knowledge."""
        return self.of("original").outcomes["scoreboard-rh"]

    @property
    def centered(self) -> AttackOutcome:
        """The centred scorer with ``original`` knowledge."""
        return self.of("original").outcomes["centered"]


def _score_all(
    table: IndexedTable, aux: AuxiliaryInformation, truth: np.ndarray, context: Context
) -> dict[str, AttackOutcome]:
    return {name: scorer.attack(table, aux, truth, context) for name, scorer in SCORERS.items()}


def _draw(
    original: IndexedTable,
    adversary: Adversary,
    pool: KnowledgePool,
    candidates: np.ndarray,
    n_targets: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, AuxiliaryInformation]:
    targets = rng.choice(candidates, size=min(n_targets, len(candidates)), replace=False)
    targets.sort()
    return targets, draw_knowledge(original, adversary, targets, pool, rng)


def attack_unprotected(
    original: IndexedTable,
    adversary: Adversary,
    *,
    n_targets: int = DEFAULT_TARGETS,
    phi: float = DEFAULT_PHI,
    rng: np.random.Generator,
    threshold: float = POSTERIOR_THRESHOLD,
) -> UnprotectedAttack:
    """Every scorer on the unprotected data, per knowledge model, targets from all eligible.

    Parameters
    ----------
    original : IndexedTable
    adversary : Adversary
    n_targets : int
        Customers attacked per model (fewer if fewer are eligible).
    phi : float
    rng : numpy.random.Generator
        Draws the targets and their auxiliary information, model by model in the order of
        :data:`~publisher.core.adversary.KNOWLEDGE_MODELS`.
    threshold : float
        The posterior a claim by posterior needs.

    Returns
    -------
    UnprotectedAttack
    """
    context = Context(phi=phi, threshold=threshold, channel=IDENTITY)
    drawn = {}
    for model in _own_draws(adversary):
        pool = knowledge_pool(model, original, adversary)
        targets, aux = _draw(
            original, adversary, pool, _eligible_users(original, adversary, pool), n_targets, rng
        )
        truth = original.records.of_code[targets]
        drawn[model] = Drawn(targets, aux, _score_all(original, aux, truth, context))
    return UnprotectedAttack(adversary, drawn)


def _own_draws(adversary: Adversary) -> tuple[str, ...]:
    """The models drawn on the unprotected data (``released`` draws as ``original`` there)."""
    models = ["original" if m == "released" else m for m in adversary.knowledge]
    return tuple(dict.fromkeys(models))


@dataclass
class Attack:
    """One knowledge model and one scorer: its outcome on every side (None where not run)."""

    knowledge: str
    scorer: str
    released: AttackOutcome
    original: AttackOutcome | None = None
    simulated: AttackOutcome | None = None
    control: AttackOutcome | None = None
    #: Share of the customers eligible under this knowledge model whom the release keeps
    #: (the others are what the control set stands for).
    share_in_release: float = 1.0

    def precision(self, rule: str) -> float | None:
        """Claims that are right, for a target drawn from every eligible customer.

        An attacker does not know whether the customer they know is in the release. A
        target is in it with probability ``share_in_release``; otherwise any claim is
        false, at the rate measured on the control set (customers the policy removed,
        attacked on the release). ``rule``: ``eccentricity`` or ``posterior``. None
        when the rule makes no claim (or the scorer has no posterior).
        """
        on_release = self.released.with_rule(rule)
        if on_release is None or not on_release.n:
            return None
        p = self.share_in_release
        hits = p * on_release.n_reidentified / on_release.n
        claims = p * int(on_release.claims.sum()) / on_release.n
        if self.control is not None and self.control.n and p < 1:
            on_control = self.control.with_rule(rule)
            if on_control is not None:
                claims += (1 - p) * int(on_control.claims.sum()) / on_control.n
        return hits / claims if claims > 0 else None

    def precisions(self) -> dict[str, float | None]:
        """:meth:`precision` by each rule."""
        return {rule: self.precision(rule) for rule in CLAIM_RULES}

    def to_dict(self, confidence_level: float = CONFIDENCE_LEVEL) -> dict[str, Any]:
        """The report.json ``linkage[].portfolio[]`` entry."""
        out: dict[str, Any] = {"knowledge": self.knowledge, "scorer": self.scorer}
        for side in SIDES:
            outcome = getattr(self, side)
            out[side] = (
                outcome.to_dict(confidence_level, compact=True) if outcome is not None else None
            )
        out["share_in_release"] = self.share_in_release
        out["precision"] = self.precisions()
        return out


@dataclass(frozen=True)
class KnowledgeStats:
    """What one knowledge model gave the attacker of the release."""

    model: str
    targets: int
    eligible: int
    known_in_release: float
    control_targets: int
    #: Eligible customers of the original (under this model) whom the release keeps.
    share_in_release: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The report.json ``linkage[].knowledge[]`` entry."""
        return {
            "model": self.model,
            "targets": self.targets,
            "eligible_users": self.eligible,
            "known_in_release": self.known_in_release,
            "control_targets": self.control_targets,
            "share_in_release": self.share_in_release,
        }


@dataclass
class LinkageResult:
    """One adversary's attacks: every knowledge model x scorer, on every side.

    ``attacks`` holds them all; ``released``, ``original`` and ``control`` are the worst
    case's outcomes (the figure reports and the gate read). The unprotected worst case is
    the worst over the original itself and the policy-simulated original.
    """

    adversary: Adversary
    attacks: list[Attack]
    knowledge: list[KnowledgeStats]
    baseline: float
    warnings: list[str] = field(default_factory=list)
    #: Caveats that cite figures of the attack on the original: the review copy only.
    review_warnings: list[str] = field(default_factory=list)
    #: User codes of the control set of the worst case (customers the policy removed).
    control_targets: np.ndarray | None = None

    def explained(self, clause: str) -> LinkageResult:
        """A copy whose inversion warning (the last review warning) ends with ``clause``."""
        warnings = [*self.review_warnings[:-1], self.review_warnings[-1] + clause]
        return dataclasses.replace(self, review_warnings=warnings)

    def get(self, knowledge: str, scorer: str) -> Attack:
        """The attack of one knowledge model and one scorer."""
        return next(a for a in self.attacks if (a.knowledge, a.scorer) == (knowledge, scorer))

    def worst(self) -> Attack:
        """The attack (knowledge model x scorer) that re-identifies most on the release."""
        return max(self.attacks, key=lambda a: a.released.risk().value)

    def worst_released(self) -> tuple[str, AttackOutcome]:
        """The worst case's scorer and its outcome on the release."""
        attack = self.worst()
        return attack.scorer, attack.released

    def worst_original(self) -> tuple[str, str, AttackOutcome]:
        """The attack on the original that re-identifies most: scorer, table, outcome.

        The table is ``original`` or ``policy-simulated``.
        """
        found = [
            (a, "original" if side == "original" else "policy-simulated", outcome)
            for a in self.attacks
            for side, outcome in (("original", a.original), ("simulated", a.simulated))
            if outcome is not None
        ]
        attack, table, outcome = max(found, key=lambda triple: triple[2].risk().value)
        return attack.scorer, table, outcome

    def _worst_original_attack(self) -> tuple[Attack, str, AttackOutcome]:
        found = [
            (a, side, outcome)
            for a in self.attacks
            for side, outcome in (("original", a.original), ("simulated", a.simulated))
            if outcome is not None
        ]
        return max(found, key=lambda triple: triple[2].risk().value)

    @property
    def released(self) -> AttackOutcome:
        """The worst case on the release."""
        return self.worst().released

    @property
    def original(self) -> AttackOutcome:
        """The worst case on the unprotected data."""
        return self.worst_original()[2]

    @property
    def control(self) -> AttackOutcome | None:
        """The worst case's attack on the control set (None when nobody was removed)."""
        return self.worst().control

    @property
    def n_eligible(self) -> int:
        """Released customers eligible under the worst case's knowledge model."""
        model = self.worst().knowledge
        return next(k.eligible for k in self.knowledge if k.model == model)

    def risk(self, confidence_level: float = CONFIDENCE_LEVEL) -> Risk:
        """The worst case's re-identification rate on the release, with its interval."""
        return self.released.risk(confidence_level)

    def to_dict(self, confidence_level: float = CONFIDENCE_LEVEL) -> dict[str, Any]:
        """The report.json ``linkage`` entry: the worst cases first, then every attack."""
        worst = self.worst()
        attack, table, unprotected = self._worst_original_attack()
        control = worst.control
        out: dict[str, Any] = {
            "adversary": self.adversary.to_dict(),
            "description": self.adversary.describe(),
            "targets": worst.released.n,
            "eligible_users": self.n_eligible,
            "phi": worst.released.phi,
            "baseline": self.baseline,
            "released": {
                **worst.released.to_dict(confidence_level),
                "scorer": worst.scorer,
                "knowledge": worst.knowledge,
            },
            # counts the control set: figures of removed customers (the review view only)
            "precision": worst.precisions(),
            "original": {
                **unprotected.to_dict(confidence_level),
                "scorer": attack.scorer,
                "knowledge": attack.knowledge,
                "attacked": "original" if table == "original" else "policy-simulated",
            },
            "knowledge": [k.to_dict() for k in self.knowledge],
            "portfolio": [a.to_dict(confidence_level) for a in self.attacks],
            "control": None,
            "warnings": self.warnings,
            "review_warnings": self.review_warnings,
        }
        if control is not None:
            n = control.n
            claims = int(control.claims.sum())
            out["control"] = {
                "targets": n,
                "false_claims": claims / n if n else 0.0,
                "false_claims_ci": list(wilson_interval(claims, n, confidence_level)),
            }
        return out


def attack_simulated(
    table: IndexedTable,
    unprotected: UnprotectedAttack,
    phi: float,
    *,
    original: IndexedTable | None = None,
    channel: Channel = IDENTITY,
    threshold: float = POSTERIOR_THRESHOLD,
    rng: np.random.Generator | None = None,
) -> dict[tuple[str, str], AttackOutcome]:
    """Every scorer against the policy-simulated original, by (knowledge model, scorer).

    ``original`` and ``popular`` knowledge reuse the unprotected side's targets and
    knowledge (a target the simulation removed cannot be found). ``released`` knowledge
    is the simulated release's own: drawn anew (with ``rng``, from ``original``) among the
    items the simulation keeps, for the unprotected side's targets that have enough of
    them.
    """
    context = Context(phi=phi, threshold=threshold, channel=channel)
    out: dict[tuple[str, str], AttackOutcome] = {}
    for model in unprotected.adversary.knowledge:
        drawn = unprotected.of(model)
        targets, aux = drawn.targets, drawn.aux
        if model == "released" and original is not None and rng is not None:
            present = table.by_item.support() > 0
            pool = knowledge_pool(model, original, unprotected.adversary, present)
            keep = np.isin(targets, _eligible_users(original, unprotected.adversary, pool))
            targets = targets[keep]
            aux = draw_knowledge(original, unprotected.adversary, targets, pool, rng)
        truth = table.records.of_code[targets]
        for name, outcome in _score_all(table, aux, truth, context).items():
            out[(model, name)] = outcome
    return out


def exceeds(result: LinkageResult, confidence_level: float = CONFIDENCE_LEVEL) -> bool:
    """Whether the release's worst case exceeds the unprotected one beyond both intervals.

    That is, the release's lower bound is above the unprotected side's upper bound.
    """
    _, worst = result.worst_released()
    _, _, unprotected = result.worst_original()
    return worst.risk(confidence_level).ci[0] > unprotected.risk(confidence_level).ci[1]


def risk_text(outcome: AttackOutcome) -> str:
    """A re-identification rate and its interval in words: ``12.3% [10.1%, 14.8%]``."""
    risk = outcome.risk()
    low, high = risk.ci
    return f"{100 * risk.value:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%]"


class LinkageAudit:
    """Every knowledge model x scorer against a release, its original and a control set.

    Parameters
    ----------
    original, released : Ratings or IndexedTable
        The unprotected table and the release. User codes and item codes must be
        shared (the pipeline keeps them stable): see :func:`audits.frames.paired_tables`
        to pair two DataFrames.
    adversary : Adversary
    n_targets : int
        Released users attacked per knowledge model (fewer if fewer are eligible).
    phi : float
        Eccentricity threshold for a claim (Scoreboard-RH's rule).
    rng : numpy.random.Generator
        Draws the targets and their auxiliary information.
    unprotected : UnprotectedAttack, optional
        The attacks on the unprotected data, when already drawn (one per adversary,
        shared by every release of the same data); otherwise drawn here from ``rng``.
    simulated : IndexedTable or dict, optional
        The original passed through the policy's suppression steps with fresh
        randomness, attacked here; or those attacks' outcomes, already run
        (:func:`attack_simulated`).
    channel : Channel
        How the release was made, as its public policy tells an attacker (the likelihood
        scorer's model).
    simulated_channel : Channel
        The same for the policy-simulated original (its suppression steps alone).
    threshold : float
        The posterior a claim by posterior needs.

    Examples
    --------
    >>> from publisher.core.ratings import Scale
    >>> table = Ratings.from_columns(
    ...     ["a", "a", "b", "b", "c"], [1, 2, 1, 3, 2], [5, 3, 4, 2, 1], scale=Scale(1, 5, 1))
    >>> audit = LinkageAudit(table, table, adversary=Adversary(known_items=2), n_targets=2,
    ...                      rng=np.random.default_rng(0))
    >>> result = audit.evaluate().results()
    >>> result.released.n, result.released.correct.tolist()
    (2, [True, True])
    """

    def __init__(
        self,
        original: Ratings | IndexedTable,
        released: Ratings | IndexedTable,
        *,
        adversary: Adversary,
        n_targets: int = DEFAULT_TARGETS,
        phi: float = DEFAULT_PHI,
        rng: np.random.Generator,
        unprotected: UnprotectedAttack | None = None,
        simulated: IndexedTable | dict[tuple[str, str], AttackOutcome] | None = None,
        channel: Channel = IDENTITY,
        simulated_channel: Channel = IDENTITY,
        threshold: float = POSTERIOR_THRESHOLD,
    ) -> None:
        if n_targets < 1:
            raise ValueError(f"n_targets must be >= 1, got {n_targets}")
        if not phi > 0:
            raise ValueError(f"phi must be > 0, got {phi}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        self.original = _indexed(original, "original")
        self.released = _indexed(released, "released")
        check_aligned(self.original.ratings, self.released.ratings)
        self.adversary = adversary
        self.n_targets = n_targets
        self.phi = phi
        self.rng = rng
        if unprotected is not None and unprotected.adversary != adversary:
            raise ValueError("the unprotected attack was drawn for another adversary")
        self.unprotected = unprotected
        self.simulated = simulated
        self.channel = channel
        self.simulated_channel = simulated_channel
        self.threshold = threshold
        self._result: LinkageResult | None = None

    def evaluate(self) -> LinkageAudit:
        """Draw targets and knowledge, run every attack; returns ``self``."""
        adversary = self.adversary
        if self.unprotected is None:
            # The same stream for both sides: when the release keeps every eligible
            # customer, both attack the same targets with the same knowledge.
            fork = np.random.Generator(type(self.rng.bit_generator)())
            fork.bit_generator.state = self.rng.bit_generator.state
            self.unprotected = attack_unprotected(
                self.original, adversary, n_targets=self.n_targets, phi=self.phi, rng=fork,
                threshold=self.threshold,
            )  # fmt: skip
        simulated = self.simulated
        if isinstance(simulated, IndexedTable):
            # its own stream (a jump ahead): the release's draws stay what they were
            bits = self.rng.bit_generator
            jumped = (
                np.random.Generator(bits.jumped())
                if hasattr(bits, "jumped")  # PCG64, Philox, MT19937
                # others: a stream seeded from a copy's next outputs (hashed by SeedSequence)
                else np.random.default_rng(copy.deepcopy(bits).random_raw(4).tolist())
            )
            simulated = attack_simulated(
                simulated, self.unprotected, self.phi, original=self.original,
                channel=self.simulated_channel, threshold=self.threshold, rng=jumped,
            )  # fmt: skip
        present = self.released.by_item.support() > 0
        context = Context(phi=self.phi, threshold=self.threshold, channel=self.channel)
        attacks: list[Attack] = []
        stats: list[KnowledgeStats] = []
        control_targets = {}
        for model in adversary.knowledge:
            pool = knowledge_pool(model, self.original, adversary, present)
            candidates = _eligible_users(self.original, adversary, pool)
            in_release = self.released.records.of_code[candidates] >= 0
            pool_released = candidates[in_release]
            targets, aux = _draw(
                self.original, adversary, pool, pool_released, self.n_targets, self.rng
            )
            truth = self.released.records.of_code[targets]
            outcomes = _score_all(self.released, aux, truth, context)
            removed = candidates[~in_release]
            controls: dict[str, AttackOutcome] = {}
            chosen = np.zeros(0, np.int64)
            if len(removed):
                chosen, control_aux = _draw(
                    self.original, adversary, pool, removed, self.n_targets, self.rng
                )
                controls = _score_all(self.released, control_aux, np.full(len(chosen), -1), context)
            control_targets[model] = chosen if len(removed) else None
            unprotected = self.unprotected.of(model).outcomes
            share = len(pool_released) / len(candidates) if len(candidates) else 1.0
            for name in SCORERS:
                attacks.append(
                    Attack(
                        model, name, outcomes[name], unprotected[name],
                        (simulated or {}).get((model, name)), controls.get(name), share,
                    )
                )  # fmt: skip
            stats.append(
                KnowledgeStats(
                    model, len(targets), len(pool_released), known_in_release(aux, present),
                    len(chosen), share,
                )
            )  # fmt: skip
        baseline = 1.0 / max(self.released.records.n, 1)
        result = LinkageResult(adversary, attacks, stats, baseline)
        result.control_targets = control_targets.get(result.worst().knowledge)
        result.warnings.extend(self._warnings(result))
        if result.released.n and exceeds(result):
            _, worst = result.worst_released()
            _, _, unprotected_worst = result.worst_original()
            result.review_warnings.append(
                "the release is more re-identifiable than the unprotected data, beyond the "
                f"intervals ({risk_text(worst)} against {risk_text(unprotected_worst)}), even "
                "for an attacker who applies the policy's suppression steps first"
            )
        self._result = result
        return self

    def _warnings(self, result: LinkageResult) -> list[str]:
        """Caveats built from the release and the policy alone (public)."""
        warnings = []
        targets = result.released.n
        chance = 1.0 / self.original.records.n + 1e-12
        if targets == 0:
            warnings.append("no released user has enough ratings for this adversary")
        # The top-1 credit, not the claim rate: a Wilson upper bound on n <= N targets
        # is never below 1/N. Float slack on sums of 1/N.
        elif all(
            a.original is None or a.original.top1_credit.mean() <= chance for a in result.attacks
        ):
            warnings.append(
                "the attack on the original data is no better than the random-guess baseline; "
                "its figures on the release cannot be trusted as a measure of risk"
            )
        if 0 < targets < self.n_targets:
            warnings.append(
                f"all {targets} eligible released users were attacked "
                f"(fewer than the {self.n_targets} targets asked for)"
            )
        return warnings

    def results(self) -> LinkageResult:
        """The result of :meth:`evaluate`."""
        if self._result is None:
            raise RuntimeError("call evaluate() before results()")
        return self._result

    def risk(self, confidence_level: float = CONFIDENCE_LEVEL) -> Risk:
        """The worst case's re-identification rate on the release, with its Wilson interval.

        The same figure the report and the gate read (the worst over knowledge models and
        scorers).
        """
        return self.results().risk(confidence_level)


def _indexed(table: Ratings | IndexedTable, name: str) -> IndexedTable:
    if isinstance(table, IndexedTable):
        return table
    if isinstance(table, Ratings):
        return IndexedTable(table)
    raise TypeError(
        f"{name} must be a Ratings table (or IndexedTable), got {type(table).__name__}; for "
        "two DataFrames, build the pair with audits.paired_tables(original, released, "
        "mapping=..., scale=...)"
    )


def knowledge_models(adversaries: Sequence[Adversary]) -> tuple[str, ...]:
    """Every knowledge model the adversaries use, in order."""
    return tuple(dict.fromkeys(m for a in adversaries for m in a.knowledge))
