"""Scoreboard-RH: scoring every released record against an adversary's knowledge, and the outcome.

The adversary knows a few of a target's ratings, approximately, from elsewhere
(IMDb, a conversation): the auxiliary information is drawn from the ORIGINAL data.
Every released record is scored against it:

    Score(aux, r) = sum over i in supp(aux) of wt(i) * (exp(-|rating diff| / rho0)
                                                      + exp(-|day diff| / d0))

with wt(i) = 1 / ln|supp(i)| (|supp(i)| = released records that rated i),
rho0 = 1.5 and d0 = 30 days; an item r did not rate adds nothing, and the date
term is dropped when the adversary knows no dates (or the release has none). The
adversary claims the best-scoring record when its eccentricity
(max - max2) / sigma, with sigma the standard deviation of the scores over ALL
released records, reaches phi (default 1.5).

Guard: ln|supp(i)| is 0 for an item with one rater and the weight would be
infinite; we use wt(i) = 1 / ln(max(|supp(i)|, 2)), so an item with one rater
weighs as much as one with two (the largest finite weight, 1 / ln 2), and an item
nobody rated weighs 0.

References
----------
A. Narayanan and V. Shmatikov, "Robust De-anonymization of Large Sparse Datasets",
IEEE Symposium on Security and Privacy, 2008, sections 4-5.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from audits._index import IndexedTable
from audits._kernels import DENSE_SHARE, NO_ROWS, scoreboard
from audits.stats import Risk, wilson_interval
from publisher.core.adversary import CONFIDENCE_LEVEL, DEFAULT_POSTERIOR

__all__ = ["D0", "PHI_GRID", "RHO0", "AttackOutcome", "AuxiliaryInformation", "attack"]


#: Rating similarity scale of Scoreboard-RH (rating units).
RHO0 = 1.5


#: Date similarity scale of Scoreboard-RH (days).
D0 = 30.0


#: Eccentricity thresholds for the precision/recall curve of claims.
PHI_GRID = tuple(round(0.25 * k, 2) for k in range(21))

#: The posterior a claim by posterior needs, unless the policy says otherwise.
POSTERIOR_THRESHOLD = DEFAULT_POSTERIOR


# exp(-4095 / 30) underflows any score difference that matters; longer gaps are clipped.
_DATE_TABLE_DAYS = 4096


@dataclass
class AuxiliaryInformation:
    """The adversary's knowledge of each target (rows), padded to ``known_items``.

    The last three fields say how approximate it is, for scorers that model it (the
    likelihood scorer): the rating tolerance in scale steps, the date tolerance in days
    and the declared share of wrong items.
    """

    targets: np.ndarray  # user codes
    items: np.ndarray  # (T, m) int32 item codes
    rating: np.ndarray  # (T, m) int64 scale positions
    day: np.ndarray  # (T, m) int64
    length: np.ndarray  # (T,) int64
    use_dates: bool
    rating_steps: int = 0
    date_days: int = 0
    wrong_rate: float = 0.0


@dataclass
class AttackOutcome:
    """The attack's result against one table (released, original or control).

    Attributes
    ----------
    correct : bool array
        The best-scoring record is the target's own.
    eccentricity : float array
        (max - max2) / sigma per target.
    top1_credit : float array
        1 / ties when the true record shares the top score, else 0.
    true_probability, entropy_bits : float arrays
        The entropic de-anonymization output per target.
    phi : float
        The claim threshold of the eccentricity rule.
    best_probability : float array or None
        The posterior the scorer puts on its best record (None: no posterior).
    threshold : float or None
        Claims by posterior: the best record is claimed when its posterior reaches this;
        None claims by eccentricity (``phi``).
    posterior_threshold : float
        The posterior a claim by posterior needs when this attack is read by that rule
        (:meth:`with_rule`), whatever its own rule.
    """

    correct: np.ndarray
    eccentricity: np.ndarray
    top1_credit: np.ndarray
    true_probability: np.ndarray
    entropy_bits: np.ndarray
    phi: float
    best_probability: np.ndarray | None = None
    threshold: float | None = None
    posterior_threshold: float = POSTERIOR_THRESHOLD

    @property
    def n(self) -> int:
        """Number of targets attacked."""
        return len(self.correct)

    @property
    def rule(self) -> str:
        """How claims are made: ``eccentricity`` or ``posterior``."""
        return "eccentricity" if self.threshold is None else "posterior"

    @property
    def claims(self) -> np.ndarray:
        """Whether the adversary claims a match: eccentricity >= phi, or the posterior rule."""
        if self.threshold is not None and self.best_probability is not None:
            return self.best_probability >= self.threshold
        return self.eccentricity >= self.phi

    def by_posterior(self, threshold: float) -> AttackOutcome | None:
        """The same attack claiming at a posterior ``threshold`` (None without a posterior)."""
        if self.best_probability is None:
            return None
        return dataclasses.replace(self, threshold=threshold)

    def with_rule(self, rule: str) -> AttackOutcome | None:
        """The same attack claiming by ``rule`` (None: no posterior to claim by).

        Parameters
        ----------
        rule : {"eccentricity", "posterior"}
            ``posterior`` claims at :attr:`threshold` when the attack's own rule is the
            posterior, else at :attr:`posterior_threshold`.
        """
        if rule == "eccentricity":
            return dataclasses.replace(self, threshold=None)
        if rule != "posterior":
            raise ValueError(f"rule must be eccentricity or posterior, got {rule!r}")
        return self.by_posterior(
            self.threshold if self.threshold is not None else self.posterior_threshold
        )

    @property
    def other_rule(self) -> str:
        """The rule this attack does not claim by."""
        return "posterior" if self.rule == "eccentricity" else "eccentricity"

    @property
    def n_reidentified(self) -> int:
        """Correct claims."""
        return int((self.claims & self.correct).sum())

    @property
    def n_false_claims(self) -> int:
        """Claims that name the wrong record."""
        return int((self.claims & ~self.correct).sum())

    def risk(self, confidence_level: float = CONFIDENCE_LEVEL) -> Risk:
        """Re-identification rate with its Wilson interval."""
        rate = self.n_reidentified / self.n if self.n else 0.0
        return Risk(rate, wilson_interval(self.n_reidentified, self.n, confidence_level))

    def precision_recall(self) -> list[dict[str, float | None]]:
        """Precision and recall of the claims as phi varies over :data:`PHI_GRID`."""
        curve = []
        for phi in PHI_GRID:
            claims = self.eccentricity >= phi
            hits = int((claims & self.correct).sum())
            curve.append(
                {
                    "phi": phi,
                    "precision": hits / int(claims.sum()) if claims.any() else None,
                    "recall": hits / self.n if self.n else 0.0,
                }
            )
        return curve

    def claim_figures(self, confidence_level: float = CONFIDENCE_LEVEL) -> dict[str, Any]:
        """The claims' rule, rate with interval, false claims and precision."""
        risk = self.risk(confidence_level)
        claims = int(self.claims.sum())
        return {
            "rule": self.rule,
            "threshold": self.threshold if self.threshold is not None else self.phi,
            "reidentified": risk.value,
            "reidentified_ci": list(risk.ci),
            "false_claims": self.n_false_claims / max(self.n, 1),
            "claims": claims,
            "precision": self.n_reidentified / claims if claims else None,
        }

    def to_dict(
        self, confidence_level: float = CONFIDENCE_LEVEL, *, compact: bool = False
    ) -> dict[str, Any]:
        """The report.json fields of one side of the attack.

        ``compact`` leaves out the precision/recall curve and the eccentricity histogram
        (every attack of the portfolio is listed; those two serve the worst case's plots).
        """
        risk = self.risk(confidence_level)
        n = max(self.n, 1)
        # every scorer with a posterior also claims by it (beside its own rule)
        other = self.with_rule(self.other_rule)
        posterior = other.claim_figures(confidence_level) if other is not None else None
        return {
            "targets": self.n,
            "rule": self.rule,
            "threshold": self.threshold if self.threshold is not None else self.phi,
            "top1": float(self.top1_credit.mean()) if self.n else 0.0,
            "reidentified": risk.value,
            "reidentified_ci": list(risk.ci),
            "false_claims": self.n_false_claims / n,
            "claims": int(self.claims.sum()),
            "other_rule": posterior,
            "mean_true_probability": float(self.true_probability.mean()) if self.n else 0.0,
            "mean_entropy_bits": float(self.entropy_bits.mean()) if self.n else 0.0,
            **(
                {}
                if compact
                else {
                    "precision_recall": self.precision_recall(),
                    "eccentricity_histogram": self.eccentricity_histogram(),
                }
            ),
        }

    def eccentricity_histogram(self) -> dict[str, list]:
        """Counts of eccentricities (capped at 8) when the best record is right or wrong."""
        edges = np.arange(0, 8.25, 0.25)
        capped = np.minimum(self.eccentricity, 7.999)
        return {
            "edges": edges.tolist(),
            "correct": np.histogram(capped[self.correct], edges)[0].tolist(),
            "wrong": np.histogram(capped[~self.correct], edges)[0].tolist(),
        }


def attack(
    table: IndexedTable,
    aux: AuxiliaryInformation,
    true_records: np.ndarray,
    phi: float,
    *,
    dense_share: float = DENSE_SHARE,
) -> AttackOutcome:
    """Run Scoreboard-RH of ``aux`` against every record of ``table``.

    Parameters
    ----------
    table : IndexedTable
        The table attacked.
    aux : AuxiliaryInformation
    true_records : numpy.ndarray
        Each target's record number in ``table``, -1 when it has none (control).
    phi : float
    dense_share : float
        Speed only: score a target densely once its items' postings reach this share
        of the records (see :func:`audits._kernels.scoreboard`); the figures agree to
        float rounding whatever it is.

    Returns
    -------
    AttackOutcome
    """
    rating_sim, date_sim = similarity_tables(table, aux, true_records)
    scored = score_records(
        table,
        aux,
        true_records,
        weights=table.weights,
        rating_sim=rating_sim,
        date_sim=date_sim,
        use_dates=aux.use_dates,
        dense_share=dense_share,
    )
    # a top score of 0 means nobody shares a known item: no top-1 credit
    return outcome_of(scored, true_records, phi, top_must_be_positive=True)


def score_records(
    table: IndexedTable,
    aux: AuxiliaryInformation,
    true_records: np.ndarray,
    *,
    weights: np.ndarray,
    rating_sim: np.ndarray,
    date_sim: np.ndarray,
    use_dates: bool,
    dense_share: float,
    record_scale: np.ndarray | None = None,
    rating_rows: np.ndarray = NO_ROWS,
) -> tuple[np.ndarray, ...]:
    """:func:`audits._kernels.scoreboard` over ``table``'s item postings.

    The scorers that share Scoreboard-RH's kernel (Scoreboard-RH, both cosines) differ
    only in the item weights, the rating term (``rating_sim`` or ``rating_rows``), the
    per-record scale and whether dates count (never when the table has none).
    """
    index = table.by_item
    return scoreboard(
        index.ptr,
        index.other,
        index.rating,
        index.day,
        weights,
        table.records.n,
        aux.items,
        aux.rating,
        aux.day,
        aux.length,
        use_dates and index.has_dates,
        rating_sim,
        date_sim,
        true_records.astype(np.int64),
        8 * numba.get_num_threads(),
        dense_share,
        np.empty(0, np.float32) if record_scale is None else record_scale,
        rating_rows,
    )


def similarity_tables(
    table: IndexedTable, aux: AuxiliaryInformation, true_records: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rating and date similarity tables of a scorer, after checking its inputs.

    float32 tables: the kernels accumulate scores in float32 (see audits._kernels).
    """
    if len(true_records) != len(aux.items):
        raise ValueError(f"{len(true_records)} true records for {len(aux.items)} targets")
    scale = table.ratings.scale
    rating_sim = np.exp(-np.arange(scale.k) * scale.step / RHO0).astype(np.float32)
    date_sim = np.exp(-np.arange(_DATE_TABLE_DAYS) / D0).astype(np.float32)
    return rating_sim, date_sim


def outcome_of(
    scored: tuple[np.ndarray, ...],
    true_records: np.ndarray,
    phi: float,
    *,
    top_must_be_positive: bool,
) -> AttackOutcome:
    """An :class:`AttackOutcome` from a scoring kernel's eight arrays.

    ``top_must_be_positive``: a best score of 0 gives no top-1 credit (Scoreboard-RH,
    where 0 means no record shares a known item; centred scores may be negative).
    """
    best, top, second, sigma, ties, true_score, p_true, entropy = scored[:8]
    p_best = scored[8] if len(scored) > 8 else None
    with np.errstate(invalid="ignore", divide="ignore"):
        eccentricity = np.where(sigma > 0, (top - second) / sigma, 0.0)
    correct = (best == true_records) & (true_records >= 0)
    at_top = (true_records >= 0) & (true_score == top)
    if top_must_be_positive:
        at_top &= top > 0
    top1 = np.where(at_top, 1.0 / np.maximum(ties, 1), 0.0)
    return AttackOutcome(correct, eccentricity, top1, p_true, entropy, phi, p_best)
