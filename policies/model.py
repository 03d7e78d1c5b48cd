"""The policy's ``model:`` section: a differentially private recommender release.

McSherry and Mironov (KDD 2009) split a recommender into an aggregation phase that
can be made differentially private and a per-customer phase that needs only the
customer's own ratings. The release publishes the first phase's noisy statistics
(:mod:`policies.mcsherry`), cleaned by post-processing (:mod:`policies.cleaning`);
anyone builds the second phase from them (:mod:`audits.recommend`).

The section:

.. code-block:: yaml

    model:
      kind: mcsherry-mironov
      epsilon: 1.0            # the whole model's budget (theta in the paper)
      unit: customer          # or rating (the paper's unit)
      delta: 0                # > 0: Gaussian noise on the covariance phase
      split: {global: 0.02, items: 0.19, covariance: 0.79}
      beta_m: 15              # stabilises the per-item averages
      beta_p: 20              # stabilises each customer's own average (never released)
      clamp: 1.0              # B: centred ratings are clamped to [-B, B]
      rank: 20                # k of the cleaned factors
      max_ratings_per_user: 500
      domain: {items: {range: [1, 17770]}, scale: "1:5:1"}

The sensitivities each unit implies are stated in :class:`Sensitivity` and checked
by brute force in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.budget import Budget, Ledger, exact
from policies.domain import Domain
from publisher.core.errors import PolicyError
from publisher.core.guarantee import Guarantee
from publisher.core.ratings import Ratings, Scale
from publisher.core.validation import (
    MAX_CONTRIBUTION,
    MIN_EPSILON,
    ParameterError,
    check_choice,
    check_int,
    check_keys,
    check_number,
)

__all__ = ["KINDS", "PHASES", "UNITS", "ModelConfig", "Sensitivity", "Shrink"]

KINDS = ("mcsherry-mironov",)
UNITS = ("customer", "rating")
#: The three phases of the budget, in the order they are computed.
PHASES = ("global", "items", "covariance")
DEFAULT_SPLIT = {"global": 0.02, "items": 0.19, "covariance": 0.79}
#: The most items whose noisy item x item matrices are published beside the factors.
DEFAULT_MATRIX_ITEMS = 5_000
#: The most items a model may cover (a dense 20,000 x 20,000 float32 matrix is 1.6 GB).
MAX_MODEL_ITEMS = 20_000
MAX_RANK = 200


@dataclass(frozen=True)
class Shrink:
    """Cleaning constants: how strongly Cov/Wgt shrink towards their averages.

    Each is a multiple of the standard deviation of the noise added to one entry of
    ``Wgt`` (a public number: it depends on epsilon and the unit only), so that the same
    constants mean the same thing at every epsilon.
    """

    # 100 standard deviations: on MovieLens 100K (943 customers) the noisy covariance
    # holds nothing a predictor can use at epsilon 1-10, and this much shrinkage keeps the
    # predictions at the item and customer effects instead of below them.
    diagonal: float = 100.0
    off_diagonal: float = 100.0


@dataclass(frozen=True)
class Sensitivity:
    """How much one unit of privacy (customer or rating) can change each statistic.

    ``sum`` and ``count`` are L1 sensitivities (Laplace noise) of the global and the
    per-item tables; ``cov`` and ``wgt`` are L1 (Laplace, ``delta = 0``) or L2
    (Gaussian, ``delta > 0``) sensitivities of the item x item matrices, with the
    per-customer weight ``weight`` (``"1/c"``, ``"1/c^2"`` or ``"1/sqrt(c)"``, c the
    customer's ratings counted).
    """

    sum: float
    count: float
    cov: float
    wgt: float
    norm: str
    weight: str


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """The policy's ``model:`` section (see the module notes).

    Attributes
    ----------
    epsilon, delta : float
        The model's budget; delta > 0 selects Gaussian noise for the covariance phase.
    unit : {"customer", "rating"}
    split : dict of str to float
        Fractions of epsilon per phase (:data:`PHASES`), summing to at most 1.
    beta_m, beta_p, clamp : float
    rank : int
    max_ratings_per_user : int or None
        Ratings counted per customer (a random subset); None counts all.
    shrink : Shrink
    max_matrix_items : int
        Publish the noisy Cov and Wgt when the item domain has at most this many items.
    holdout : float
        Share of the ratings held out of the statistics to measure the model's accuracy.
    domain : Domain
        The declared items and scale (never taken from the data).
    """

    kind: str = "mcsherry-mironov"
    epsilon: float
    delta: float = 0.0
    unit: str = "customer"
    split: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLIT))
    beta_m: float = 15.0
    beta_p: float = 20.0
    clamp: float = 1.0
    rank: int = 20
    max_ratings_per_user: int | None = None
    shrink: Shrink = field(default_factory=Shrink)
    max_matrix_items: int = DEFAULT_MATRIX_ITEMS
    holdout: float = 0.1
    domain: Domain = field(default_factory=Domain)

    @classmethod
    def from_config(cls, config: Any, path: str, base: Path | None = None) -> ModelConfig:
        """Parse and validate the section; the split is checked against epsilon exactly.

        Raises
        ------
        PolicyError
            Naming the key; BudgetExceededError (a PolicyError) when the split overspends.
        """
        given = check_keys(
            path,
            config,
            (
                "kind", "epsilon", "delta", "unit", "split", "beta_m", "beta_p", "clamp",
                "rank", "max_ratings_per_user", "shrink", "max_matrix_items", "holdout",
                "domain",
            ),
            required=("kind", "epsilon"),
        )  # fmt: skip
        try:
            kind = check_choice("model", "kind", given["kind"], KINDS)
            epsilon = check_number("model", "epsilon", given["epsilon"], minimum=MIN_EPSILON)
            delta = check_number(
                "model", "delta", given.get("delta", 0), minimum=0, maximum=1, high_open=True
            )
            unit = check_choice("model", "unit", given.get("unit", "customer"), UNITS)
            beta_m = check_number("model", "beta_m", given.get("beta_m", 15), minimum=0)
            beta_p = check_number("model", "beta_p", given.get("beta_p", 20), minimum=0)
            clamp = check_number(
                "model", "clamp", given.get("clamp", 1.0), minimum=0, low_open=True, maximum=1e3
            )
            rank = check_int("model", "rank", given.get("rank", 20), minimum=1, maximum=MAX_RANK)
            matrix = check_int(
                "model",
                "max_matrix_items",
                given.get("max_matrix_items", DEFAULT_MATRIX_ITEMS),
                minimum=0,
                maximum=MAX_MODEL_ITEMS,
            )
            holdout = check_number(
                "model", "holdout", given.get("holdout", 0.1), minimum=0, maximum=0.5
            )
            bound = given.get("max_ratings_per_user")
            if bound is not None:
                bound = check_int(
                    "model", "max_ratings_per_user", bound, minimum=1, maximum=MAX_CONTRIBUTION
                )
        except ParameterError as exc:
            raise PolicyError(exc.at(path)) from None
        if unit == "rating" and bound is not None:
            raise PolicyError(
                f"{path}.max_ratings_per_user: with unit: rating every rating is counted (a "
                "random subset per customer would let one added rating change which others "
                "count, doubling the sensitivities); remove it or use unit: customer"
            )
        split = _split(given.get("split"), epsilon, f"{path}.split")
        shrink = _shrink(given.get("shrink"), f"{path}.shrink")
        domain = Domain.from_config(given.get("domain"), f"{path}.domain", base)
        if domain.items is None:
            raise PolicyError(
                f"{path}.domain.items: the model's item tables need their items declared "
                "('range: [FIRST, LAST]' or 'catalogue: FILE'); items taken from the data "
                "would reveal who rated a rare item"
            )
        if len(domain.items.ids) > MAX_MODEL_ITEMS:
            raise PolicyError(
                f"{path}.domain.items: {len(domain.items.ids):,} items; a model covers at most "
                f"{MAX_MODEL_ITEMS:,} (its item x item matrix is dense)"
            )
        if domain.dates is not None:
            raise PolicyError(f"{path}.domain.dates: a model counts no dates; remove it")
        if domain.scale is not None:
            _check_beta_p(unit, delta, beta_p, clamp, domain.scale, path)
        return cls(
            kind=kind,
            epsilon=epsilon,
            delta=delta,
            unit=unit,
            split=split,
            beta_m=beta_m,
            beta_p=beta_p,
            clamp=clamp,
            rank=min(rank, len(domain.items.ids)),
            max_ratings_per_user=bound,
            shrink=shrink,
            max_matrix_items=matrix,
            holdout=holdout,
            domain=domain,
        )

    @property
    def gaussian(self) -> bool:
        """Whether the covariance phase draws Gaussian noise ((epsilon, delta)-DP)."""
        return self.delta > 0

    def phase_epsilon(self, phase: str) -> float:
        """The epsilon of one phase (split evenly between its two statistics)."""
        return self.epsilon * self.split[phase]

    def scale(self, ratings: Ratings) -> Scale:
        """The declared scale, else the input's declared one (an inferred one is refused).

        Raises
        ------
        PolicyError
            Also when the scale rules out the Gaussian per-rating bound (see ``beta_p``):
            checked at load for a declared scale, here for the input's.
        """
        scale = self.domain.scale_of(
            ratings, "model.domain", "the sensitivities would depend on it"
        )
        _check_beta_p(self.unit, self.delta, self.beta_p, self.clamp, scale, "model")
        return scale

    def sensitivity(self, scale: Scale) -> Sensitivity:
        """The sensitivities of every statistic under this unit (see the module notes).

        With alpha = max - min of the scale and B the clamp:

        * unit ``rating``: one rating changes a sum by alpha/2 (ratings are centred on
          the scale's midpoint) and a count by 1; with weights ``1/c`` the covariance by
          at most ``2 B alpha + 3 B^2`` and Wgt by 3 in L1; with ``1/sqrt(c)`` by
          ``(1 + 2 sqrt 2) B^2`` and ``sqrt 2`` in L2 (the paper's bounds).
        * unit ``customer``: each customer's ratings weigh ``1/c`` in the sums and counts,
          so a customer changes each by at most alpha/2 and 1 in L1; in the covariance a
          weight ``1/c^2`` bounds the customer's whole term ``w r r^T`` by B^2 in L1
          (``(sum |r|)^2 <= c^2 B^2``) and Wgt by 1; with ``1/c``, by B^2 and 1 in L2
          (``||r r^T||_F = ||r||^2 <= c B^2``).
        """
        alpha = scale.maximum - scale.minimum
        b = self.clamp
        if self.unit == "rating":
            if self.gaussian:
                return Sensitivity(
                    alpha / 2, 1.0, (1 + 2 * math.sqrt(2)) * b * b, math.sqrt(2), "L2", "1/sqrt(c)"
                )
            return Sensitivity(alpha / 2, 1.0, 2 * b * alpha + 3 * b * b, 3.0, "L1", "1/c")
        if self.gaussian:
            return Sensitivity(alpha / 2, 1.0, b * b, 1.0, "L2", "1/c")
        return Sensitivity(alpha / 2, 1.0, b * b, 1.0, "L1", "1/c^2")

    def guarantees(self, scale: Scale) -> list[Guarantee]:
        """One guarantee per phase (each split evenly between its two statistics)."""
        sens = self.sensitivity(scale)
        who = "each customer (all of their ratings)" if self.unit == "customer" else "each rating"
        out = []
        for phase in PHASES:
            gaussian = phase == "covariance" and self.gaussian
            if phase == "covariance":
                details = {
                    "cov": sens.cov,
                    "wgt": sens.wgt,
                    "norm": sens.norm,
                    "weight": sens.weight,
                }
            else:
                details = {"sum": sens.sum, "count": sens.count, "norm": "L1"}
            out.append(
                Guarantee(
                    component=f"model.{phase}",
                    mechanism="analytic Gaussian" if gaussian else "Laplace",
                    epsilon=self.phase_epsilon(phase),
                    delta=self.delta if gaussian else 0.0,
                    scope=f"{who}, central",
                    covers=(
                        "the noisy item x item Cov and Wgt"
                        if phase == "covariance"
                        else f"the noisy {phase} sum and count"
                    )
                    + "; everything computed from them is post-processing",
                    details=details,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """As written in a policy (every default made explicit)."""
        return {
            "kind": self.kind,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "unit": self.unit,
            "split": dict(self.split),
            "beta_m": self.beta_m,
            "beta_p": self.beta_p,
            "clamp": self.clamp,
            "rank": self.rank,
            "max_ratings_per_user": self.max_ratings_per_user,
            "shrink": {"diagonal": self.shrink.diagonal, "off_diagonal": self.shrink.off_diagonal},
            "max_matrix_items": self.max_matrix_items,
            "holdout": self.holdout,
            "domain": self.domain.to_dict(),
        }

    def describe(self) -> str:
        """The unit and mechanism in one sentence."""
        noise = (
            f"Laplace noise, and Gaussian noise (delta {self.delta:g}) on the covariance"
            if self.gaussian
            else "Laplace noise"
        )
        who = "each customer (all of their ratings)" if self.unit == "customer" else "each rating"
        return (
            f"McSherry-Mironov recommender statistics, {self.epsilon:g}-differentially private "
            f"for {who}: {noise}."
        )


def _split(config: Any, epsilon: float, path: str) -> dict[str, float]:
    """The phases' fractions: each in (0, 1], summing to at most 1 (exactly)."""
    if config is None:
        return dict(DEFAULT_SPLIT)
    given = check_keys(path, config, PHASES, required=PHASES)
    ledger = Ledger(Budget(exact(epsilon)), label=path.rsplit(".", 1)[0] + ".epsilon")
    out = {}
    for phase in PHASES:
        try:
            share = check_number("split", phase, given[phase], minimum=0, low_open=True, maximum=1)
        except ParameterError as exc:
            raise PolicyError(exc.at(path)) from None
        ledger.spend(Budget(exact(epsilon) * exact(share)), f"{path}.{phase}")
        out[phase] = share
    return out


def _shrink(config: Any, path: str) -> Shrink:
    if config is None:
        return Shrink()
    given = check_keys(path, config, ("diagonal", "off_diagonal"))
    try:
        values = {k: check_number("shrink", k, v, minimum=0, maximum=1e6) for k, v in given.items()}
    except ParameterError as exc:
        raise PolicyError(exc.at(path)) from None
    return Shrink(**values)


def _check_beta_p(
    unit: str, delta: float, beta_p: float, clamp: float, scale: Scale, path: str
) -> None:
    """Refuse a Gaussian per-rating model whose beta_p the scale rules out.

    The paper's L2 bound on the covariance holds when ``beta_p >= alpha^2 / 4B^2``.
    """
    if unit != "rating" or delta <= 0:
        return
    alpha = scale.maximum - scale.minimum
    needed = alpha * alpha / (4 * clamp * clamp)
    if beta_p < needed:
        raise PolicyError(
            f"{path}.beta_p: the Gaussian per-rating bound needs beta_p >= alpha^2 / 4B^2 = "
            f"{needed:g} on the scale {scale} (McSherry-Mironov), got {beta_p:g}"
        )
