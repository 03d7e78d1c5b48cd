"""The linkage audit: who is attacked, with what knowledge, and the honest statistics.

The adversary knows a few of a target's ratings, approximately, from elsewhere (IMDb, a
conversation): the auxiliary information is drawn from the ORIGINAL data, and every
released record is scored against it by Scoreboard-RH (:mod:`audits.scoreboard`). The
same attack on the unprotected data (targets drawn from all of its eligible customers),
on a control set of customers the policy removed, and a random-guess baseline make the
figure honest.

The attack is a portfolio of two scorers run on the same knowledge: Scoreboard-RH,
exactly as published, and the length-centred score (:mod:`audits.centered`), robust to
records of thousands of ratings. Each side reports the WORST CASE over the portfolio,
the scorer that re-identifies most; the gate reads it. The unprotected side also
attacks the original passed through the policy's suppression steps with fresh
randomness (an attacker of the unprotected data can always apply them first), and its
figure is the worst over every attack on the original.

References
----------
A. Narayanan and V. Shmatikov, "Robust De-anonymization of Large Sparse Datasets",
IEEE Symposium on Security and Privacy, 2008, sections 4-5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audits._index import IndexedTable
from audits.centered import SCORERS, attack_centered
from audits.frames import check_aligned
from audits.scoreboard import PHI_GRID, AttackOutcome, AuxiliaryInformation, attack
from audits.stats import Risk, wilson_interval
from publisher.core.adversary import DEFAULT_PHI, DEFAULT_TARGETS, Adversary
from publisher.core.ratings import Ratings

__all__ = [
    "PHI_GRID",
    "SCORERS",
    "AttackOutcome",
    "AuxiliaryInformation",
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


def eligible_items(original: IndexedTable, adversary: Adversary) -> np.ndarray:
    """Item codes the adversary may know: all rated items, minus the top N by raters."""
    support = original.by_item.support()
    eligible = support > 0
    if adversary.exclude_top:
        top = np.argsort(-support, kind="stable")[: adversary.exclude_top]
        eligible[top] = False
    return eligible


def eligible_users(
    original: IndexedTable, adversary: Adversary, eligible: np.ndarray
) -> np.ndarray:
    """User codes with at least ``true_items`` eligible ratings in the original."""
    index = original.by_record
    if eligible.all() or not adversary.exclude_top:
        counts = index.support()  # every rated item is eligible: no per-rating pass needed
    else:
        counts = np.add.reduceat(eligible[index.other].astype(np.int32), index.ptr[:-1])
    return original.records.codes[counts >= adversary.true_items]


def draw_auxiliary(
    original: IndexedTable,
    adversary: Adversary,
    targets: np.ndarray,
    eligible: np.ndarray,
    rng: np.random.Generator,
) -> AuxiliaryInformation:
    """Draw each target's auxiliary information from its ORIGINAL ratings.

    Parameters
    ----------
    original : IndexedTable
        The unprotected data.
    adversary : Adversary
    targets : numpy.ndarray
        User codes, each with at least ``adversary.true_items`` eligible ratings.
    eligible : numpy.ndarray
        Boolean mask of the item codes the adversary may know.
    rng : numpy.random.Generator

    Returns
    -------
    AuxiliaryInformation
    """
    m = adversary.known_items
    n = len(targets)
    scale = original.ratings.scale
    index = original.by_record
    items = np.zeros((n, m), np.int32)
    rating = np.zeros((n, m), np.int64)
    day = np.zeros((n, m), np.int64)
    length = np.full(n, m, np.int64)
    pool = np.flatnonzero(eligible)
    t_units = math.floor(adversary.rating_tolerance)
    step_per_unit = 1.0 / scale.step
    d = adversary.date_tolerance_days or 0
    for row, code in enumerate(targets):
        record = original.records.of_code[code]
        lo, hi = index.ptr[record], index.ptr[record + 1]
        own_items = index.other[lo:hi]
        candidates = np.flatnonzero(eligible[own_items])
        chosen = rng.choice(candidates, size=adversary.true_items, replace=False)
        k = adversary.true_items
        items[row, :k] = own_items[chosen]
        offsets = np.rint(rng.integers(-t_units, t_units + 1, size=k) * step_per_unit)
        rating[row, :k] = np.clip(index.rating[lo + chosen] + offsets, 0, scale.k - 1)
        day[row, :k] = index.day[lo + chosen] + rng.integers(-d, d + 1, size=k)
        if adversary.wrong_items:
            # Items the target did not rate; a table so dense that fewer remain gets fewer.
            unrated = np.setdiff1d(pool, own_items, assume_unique=True)
            w = min(adversary.wrong_items, len(unrated))
            items[row, k : k + w] = rng.choice(unrated, size=w, replace=False)
            rating[row, k : k + w] = rng.integers(0, scale.k, size=w)
            days = index.day[lo:hi]
            day[row, k : k + w] = rng.integers(days.min(), days.max() + 1, size=w)
            length[row] = k + w
    return AuxiliaryInformation(
        targets=np.asarray(targets),
        items=items,
        rating=rating,
        day=day,
        length=length,
        use_dates=adversary.date_tolerance_days is not None,
    )


@dataclass(frozen=True)
class UnprotectedAttack:
    """One adversary's attack on the unprotected data, drawn once and reusable.

    The targets are drawn from every customer of the original data who is eligible for
    the adversary (not only those a policy later releases), so the figure depends on
    the data, the adversary and the random draw alone: every release of the same data
    can show the same unprotected figure.

    Attributes
    ----------
    adversary : Adversary
    outcome : AttackOutcome
        Scoreboard-RH.
    centered : AttackOutcome
        The centred scorer, on the same targets and knowledge.
    targets : numpy.ndarray
        User codes of the targets.
    aux : AuxiliaryInformation
        Their knowledge, reused to attack the original through the policy's steps.
    """

    adversary: Adversary
    outcome: AttackOutcome
    centered: AttackOutcome
    targets: np.ndarray
    aux: AuxiliaryInformation


def attack_unprotected(
    original: IndexedTable,
    adversary: Adversary,
    *,
    n_targets: int = DEFAULT_TARGETS,
    phi: float = DEFAULT_PHI,
    rng: np.random.Generator,
) -> UnprotectedAttack:
    """Scoreboard-RH on the unprotected data, targets drawn from all eligible customers.

    Parameters
    ----------
    original : IndexedTable
    adversary : Adversary
    n_targets : int
        Customers attacked (fewer if fewer are eligible).
    phi : float
    rng : numpy.random.Generator
        Draws the targets and their auxiliary information.

    Returns
    -------
    UnprotectedAttack
    """
    eligible = eligible_items(original, adversary)
    candidates = eligible_users(original, adversary, eligible)
    targets = rng.choice(candidates, size=min(n_targets, len(candidates)), replace=False)
    targets.sort()
    aux = draw_auxiliary(original, adversary, targets, eligible, rng)
    truth = original.records.of_code[targets]
    outcome = attack(original, aux, truth, phi)
    centered = attack_centered(original, aux, truth, phi)
    return UnprotectedAttack(adversary, outcome, centered, targets, aux)


@dataclass
class LinkageResult:
    """One adversary's attack on the release, on the unprotected data and on the control set.

    ``released`` and ``original`` are Scoreboard-RH's outcomes (the published attack);
    ``portfolio`` holds every scorer's, by scorer name: ``released``, ``original`` (the
    attack on the unprotected data, :func:`attack_unprotected`: targets drawn from all
    of its eligible customers, independently of the release) and ``simulated`` (the
    same targets and knowledge against the original passed through the policy's
    suppression steps; None without them). Reports and the gate read the worst case.
    """

    adversary: Adversary
    n_eligible: int
    released: AttackOutcome
    original: AttackOutcome
    control: AttackOutcome | None
    baseline: float
    #: Caveats built from the release and the policy alone (the public view keeps them).
    warnings: list[str] = field(default_factory=list)
    portfolio: dict[str, dict[str, AttackOutcome | None]] = field(default_factory=dict)
    #: User codes of the control set (customers the policy removed), distinct.
    control_targets: np.ndarray | None = None
    #: Caveats that cite figures of the attack on the original: the review copy only.
    review_warnings: list[str] = field(default_factory=list)

    def _sides(self) -> dict[str, dict[str, AttackOutcome | None]]:
        return self.portfolio or {
            "scoreboard-rh": {"released": self.released, "original": self.original}
        }

    def worst_released(self) -> tuple[str, AttackOutcome]:
        """The scorer that re-identifies most on the release, and its outcome."""
        found = [
            (name, sides["released"])
            for name, sides in self._sides().items()
            if sides.get("released") is not None
        ]
        return max(found, key=lambda pair: pair[1].risk().value)  # type: ignore[union-attr,return-value]

    def worst_original(self) -> tuple[str, str, AttackOutcome]:
        """The attack on the original that re-identifies most: scorer, table, outcome.

        The table is ``original`` or ``policy-simulated``.
        """
        found = [
            (name, "original" if side == "original" else "policy-simulated", outcome)
            for name, sides in self._sides().items()
            for side, outcome in sides.items()
            if side in ("original", "simulated") and outcome is not None
        ]
        return max(found, key=lambda triple: triple[2].risk().value)

    def to_dict(self, confidence_level: float = 0.95) -> dict[str, Any]:
        """The report.json ``linkage`` entry: worst cases first, then every scorer."""
        scorer, worst = self.worst_released()
        by, table, unprotected = self.worst_original()
        out: dict[str, Any] = {
            "adversary": self.adversary.to_dict(),
            "description": self.adversary.describe(),
            "targets": self.released.n,
            "eligible_users": self.n_eligible,
            "phi": self.released.phi,
            "baseline": self.baseline,
            "released": {**worst.to_dict(confidence_level), "scorer": scorer},
            "original": {
                **unprotected.to_dict(confidence_level),
                "scorer": by,
                "attacked": table,
            },
            "scorers": {
                name: {
                    side: outcome.to_dict(confidence_level) if outcome is not None else None
                    for side, outcome in sides.items()
                }
                for name, sides in self._sides().items()
            },
            "control": None,
            "warnings": self.warnings,
            "review_warnings": self.review_warnings,
        }
        if self.control is not None:
            n = self.control.n
            claims = int(self.control.claims.sum())
            out["control"] = {
                "targets": n,
                "false_claims": claims / n if n else 0.0,
                "false_claims_ci": list(wilson_interval(claims, n, confidence_level)),
            }
        return out


def attack_simulated(
    table: IndexedTable, unprotected: UnprotectedAttack, phi: float
) -> dict[str, AttackOutcome]:
    """Both scorers against the policy-simulated original, by scorer name.

    The unprotected side's targets and knowledge are reused; a target the simulation
    removed cannot be found.
    """
    truth = table.records.of_code[unprotected.targets]
    return {
        "scoreboard-rh": attack(table, unprotected.aux, truth, phi),
        "centered": attack_centered(table, unprotected.aux, truth, phi),
    }


def exceeds(result: LinkageResult, confidence_level: float = 0.95) -> bool:
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
    """Scoreboard-RH against a release, its original and a control set.

    Parameters
    ----------
    original, released : Ratings or IndexedTable
        The unprotected table and the release. User codes and item codes must be
        shared (the pipeline keeps them stable).
    adversary : Adversary
    n_targets : int
        Released users attacked (fewer if fewer are eligible).
    phi : float
        Eccentricity threshold for a claim.
    rng : numpy.random.Generator
        Draws the targets and their auxiliary information.
    unprotected : UnprotectedAttack, optional
        The attack on the unprotected data, when already drawn (one per adversary,
        shared by every release of the same data); otherwise drawn here from ``rng``
        first.
    simulated : IndexedTable or dict, optional
        The original passed through the policy's suppression steps with fresh
        randomness, attacked here with the unprotected side's targets and knowledge;
        or those attacks' outcomes by scorer, already run (:func:`attack_simulated`).

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
        simulated: IndexedTable | dict[str, AttackOutcome] | None = None,
    ) -> None:
        if n_targets < 1:
            raise ValueError(f"n_targets must be >= 1, got {n_targets}")
        if not phi > 0:
            raise ValueError(f"phi must be > 0, got {phi}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        self.original = original if isinstance(original, IndexedTable) else IndexedTable(original)
        self.released = released if isinstance(released, IndexedTable) else IndexedTable(released)
        check_aligned(self.original.ratings, self.released.ratings)
        self.adversary = adversary
        self.n_targets = n_targets
        self.phi = phi
        self.rng = rng
        if unprotected is not None and unprotected.adversary != adversary:
            raise ValueError("the unprotected attack was drawn for another adversary")
        self.unprotected = unprotected
        self.simulated = simulated
        self._result: LinkageResult | None = None

    def evaluate(self) -> LinkageAudit:
        """Draw targets and auxiliary information, run the attacks; returns ``self``."""
        adversary = self.adversary
        if self.unprotected is None:
            # The same stream for both sides: when the release keeps every eligible
            # customer, both attack the same targets with the same knowledge.
            fork = np.random.Generator(type(self.rng.bit_generator)())
            fork.bit_generator.state = self.rng.bit_generator.state
            self.unprotected = attack_unprotected(
                self.original, adversary, n_targets=self.n_targets, phi=self.phi, rng=fork
            )
        original = self.unprotected.outcome
        eligible = eligible_items(self.original, adversary)
        candidates = eligible_users(self.original, adversary, eligible)
        in_release = self.released.records.of_code[candidates] >= 0
        pool = candidates[in_release]
        targets = self.rng.choice(pool, size=min(self.n_targets, len(pool)), replace=False)
        targets.sort()
        aux = draw_auxiliary(self.original, adversary, targets, eligible, self.rng)
        truth = self.released.records.of_code[targets]
        released = attack(self.released, aux, truth, self.phi)
        portfolio: dict[str, dict[str, AttackOutcome | None]] = {
            "scoreboard-rh": {"released": released, "original": original, "simulated": None},
            "centered": {
                "released": attack_centered(self.released, aux, truth, self.phi),
                "original": self.unprotected.centered,
                "simulated": None,
            },
        }
        simulated = self.simulated
        if isinstance(simulated, IndexedTable):
            simulated = attack_simulated(simulated, self.unprotected, self.phi)
        for name, outcome in (simulated or {}).items():
            portfolio[name]["simulated"] = outcome
        removed = candidates[~in_release]
        control = None
        if len(removed):
            chosen = self.rng.choice(removed, size=min(self.n_targets, len(removed)), replace=False)
            chosen.sort()
            control_aux = draw_auxiliary(self.original, adversary, chosen, eligible, self.rng)
            control = attack(self.released, control_aux, np.full(len(chosen), -1), self.phi)
        baseline = 1.0 / max(self.released.records.n, 1)
        warnings = []
        if len(targets) == 0:
            warnings.append("no released user has enough ratings for this adversary")
        # The top-1 credit, not the claim rate: a Wilson upper bound on n <= N targets
        # is never below 1/N. Float slack on sums of 1/N.
        elif original.top1_credit.mean() <= 1.0 / self.original.records.n + 1e-12:
            warnings.append(
                "the attack on the original data is no better than the random-guess baseline; "
                "its figures on the release cannot be trusted as a measure of risk"
            )
        if 0 < len(targets) < self.n_targets:
            warnings.append(
                f"all {len(targets)} eligible released users were attacked "
                f"(fewer than the {self.n_targets} targets asked for)"
            )
        result = LinkageResult(
            adversary, len(pool), released, original, control, baseline, warnings, portfolio,
            control_targets=chosen if control is not None else None,
        )  # fmt: skip
        if len(targets) and exceeds(result):
            _, worst = result.worst_released()
            _, _, unprotected = result.worst_original()
            result.review_warnings.append(
                "the release is more re-identifiable than the unprotected data, beyond the "
                f"intervals ({risk_text(worst)} against {risk_text(unprotected)}), even "
                "for an attacker who applies the policy's suppression steps first"
            )
        self._result = result
        return self

    def results(self) -> LinkageResult:
        """The result of :meth:`evaluate`."""
        if self._result is None:
            raise RuntimeError("call evaluate() before results()")
        return self._result

    def risk(self, confidence_level: float = 0.95) -> Risk:
        """Re-identification rate on the release with its Wilson interval."""
        return self.results().released.risk(confidence_level)
