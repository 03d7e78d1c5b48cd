"""What a policy guarantees, collected from the steps and statistics that provide it.

Each differentially private step and aggregate statistic declares its own
:class:`~publisher.core.guarantee.Guarantee`; this module only composes them (sequential
composition, stated as the upper bound it is) and words what is and is not covered.
report.json's ``privacy_budget`` is :meth:`PrivacyStatement.to_dict`; every other view
renders that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.budget import exact, round_up
from policies.schema import Policy
from policies.steps import PerturbRatings
from publisher.core.guarantee import Guarantee
from publisher.core.ratings import Scale

__all__ = ["UNIT", "PrivacyStatement", "privacy_statement"]

#: The privacy unit of every guarantee stated: one customer with all of their ratings.
UNIT = "one customer (all of their ratings)"


@dataclass(frozen=True)
class PrivacyStatement:
    """Every DP component of a policy, their composition and a plain statement.

    Attributes
    ----------
    components : tuple of Guarantee
        In policy order: the steps', the aggregates', then the model's phases.
    per_rating_epsilon : float or None
        Sum of the randomized-response epsilons: each released rating value is at most
        this locally private (an upper bound when several steps are chained).
    aggregates_epsilon : float or None
        Sum of the aggregates' epsilons (sequential composition), rounded up.
    statement : str
        What is covered and what is not, in plain language.
    """

    components: tuple[Guarantee, ...]
    per_rating_epsilon: float | None
    aggregates_epsilon: float | None
    statement: str

    def to_dict(self) -> dict[str, Any]:
        """report.json ``privacy_budget``."""
        return {
            "unit": UNIT,
            "components": [c.to_dict() for c in self.components],
            "per_rating_epsilon": self.per_rating_epsilon,
            "aggregates_epsilon": self.aggregates_epsilon,
            "statement": self.statement,
        }


def _sum_up(epsilons: list[float]) -> float:
    """An exact sum of epsilons, rounded up to a float (never understates the loss)."""
    return round_up(sum((exact(e) for e in epsilons), start=exact(0)))


def privacy_statement(policy: Policy, scale: Scale) -> PrivacyStatement:
    """Collect the guarantees of ``policy``'s steps and statistics on data of ``scale``.

    Examples
    --------
    >>> from policies import parse_policy
    >>> policy = parse_policy(
    ...     "{name: p, gate: none, steps: [{perturb_ratings: {epsilon: 2}}, "
    ...     "{perturb_ratings: {epsilon: 1}}]}"
    ... )
    >>> privacy_statement(policy, Scale(1, 5, 1)).per_rating_epsilon
    3.0
    """
    steps = [
        g
        for k, step in enumerate(policy.steps)
        if (g := step.guarantee(scale, f"steps[{k}].{step.name}")) is not None
    ]
    parts: list[str] = []
    per_rating = _sum_up([g.epsilon for g in steps]) if steps else None
    if steps:
        chained = (
            f" ({' + '.join(f'{g.epsilon:g}' for g in steps)} over {len(steps)} chained "
            "randomized-response steps, by sequential composition: an upper bound)"
            if len(steps) > 1
            else ""
        )
        parts.append(
            f"Each released rating value is {per_rating:g}-locally differentially private"
            f"{chained}. A customer with n ratings has n x {per_rating:g} for the vector of "
            "their rating values (basic composition). Which items a customer rated, when, "
            "and how many are NOT covered."
        )
    aggregates: list[Guarantee] = []
    aggregate_total = None
    config = policy.aggregates
    if config is not None:
        aggregates = [stat.guarantee(config.max_ratings_per_user) for stat in config.statistics]
        aggregate_total = _sum_up([g.epsilon for g in aggregates])
        parts.append(
            f"The aggregates under aggregates/ are together {aggregate_total:g}-differentially "
            f"private for each customer (all of their ratings; at most "
            f"{config.max_ratings_per_user} per customer counted), by sequential composition. "
            + config.domain.describe(scale)
            + " The guarantee covers these tables as computed from fresh operating-system "
            "randomness or a seed mixed with the organizer's key; it does not cover the "
            "microdata, nor any figure of the original data published without noise."
        )
    model: list[Guarantee] = []
    if policy.model is not None:
        model = policy.model.guarantees(scale)
        m = policy.model
        who = "each customer (all of their ratings" + (
            f"; at most {m.max_ratings_per_user} per customer counted)"
            if m.max_ratings_per_user
            else ")"
        )
        if m.unit == "rating":
            who = "each rating (a customer with c ratings: c x epsilon, by group privacy)"
        delta = f", delta {m.delta:g}" if m.gaussian else ""
        parts.append(
            f"The recommender model under model/ is {m.epsilon:g}-differentially private"
            f"{delta} for {who}: three phases (global {m.phase_epsilon('global'):g}, items "
            f"{m.phase_epsilon('items'):g}, covariance {m.phase_epsilon('covariance'):g}) "
            "composed sequentially; the cleaned factors are post-processing. "
            + m.domain.describe(scale)
            + f" {m.holdout:.0%} of the ratings, held out to measure accuracy, are in no "
            "statistic. Not covered: floating-point attacks on the noise samplers, and any "
            "figure of the original published without noise (the review copy's utility)."
        )
    if policy.releases_microdata:
        parts.append(
            "No step that shapes the published ratings table is differentially private"
            + (" other than randomized response on rating values" if steps else "")
            + "; its protection is measured by the audits, not guaranteed."
        )
    pseudonyms = policy.pseudonymizer
    if pseudonyms is not None and pseudonyms.linkable:
        parts.append(
            "Pseudonyms are stable across the organizer's linkable releases "
            "(pseudonymize_users.linkable): those releases join customer by customer, so "
            "the epsilons above compose over them; the organizer's ledger refuses a release "
            f"that would take either running total above {pseudonyms.total_epsilon or 0:g}."
        )
    return PrivacyStatement(
        tuple(steps + aggregates + model), per_rating, aggregate_total, " ".join(parts)
    )


def policy_epsilons(policy: Policy) -> tuple[float | None, float | None]:
    """What one release of ``policy`` spends: per rating (randomized response), per customer.

    The sums of the steps' and statistics' epsilons (None where the policy has none): what
    a ledger of linkable releases adds up.
    """
    per_rating = [s.epsilon for s in policy.steps if isinstance(s, PerturbRatings)]
    config = policy.aggregates
    aggregate = [stat.epsilon for stat in config.statistics] if config is not None else []
    return (_sum_up(per_rating) if per_rating else None, _sum_up(aggregate) if aggregate else None)
