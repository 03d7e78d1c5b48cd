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

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from audits._index import IndexedTable
from audits._kernels import DENSE_SHARE, scoreboard
from audits.stats import Risk, wilson_interval

__all__ = ["D0", "PHI_GRID", "RHO0", "AttackOutcome", "AuxiliaryInformation", "attack"]


#: Rating similarity scale of Scoreboard-RH (rating units).
RHO0 = 1.5


#: Date similarity scale of Scoreboard-RH (days).
D0 = 30.0


#: Eccentricity thresholds for the precision/recall curve of claims.
PHI_GRID = tuple(round(0.25 * k, 2) for k in range(21))


# exp(-4095 / 30) underflows any score difference that matters; longer gaps are clipped.
_DATE_TABLE_DAYS = 4096


@dataclass
class AuxiliaryInformation:
    """The adversary's knowledge of each target (rows), padded to ``known_items``."""

    targets: np.ndarray  # user codes
    items: np.ndarray  # (T, m) int32 item codes
    rating: np.ndarray  # (T, m) int64 scale positions
    day: np.ndarray  # (T, m) int64
    length: np.ndarray  # (T,) int64
    use_dates: bool


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
        The claim threshold.
    """

    correct: np.ndarray
    eccentricity: np.ndarray
    top1_credit: np.ndarray
    true_probability: np.ndarray
    entropy_bits: np.ndarray
    phi: float

    @property
    def n(self) -> int:
        """Number of targets attacked."""
        return len(self.correct)

    @property
    def claims(self) -> np.ndarray:
        """Whether the adversary claims a match (eccentricity >= phi)."""
        return self.eccentricity >= self.phi

    @property
    def n_reidentified(self) -> int:
        """Correct claims."""
        return int((self.claims & self.correct).sum())

    @property
    def n_false_claims(self) -> int:
        """Claims that name the wrong record."""
        return int((self.claims & ~self.correct).sum())

    def risk(self, confidence_level: float = 0.95) -> Risk:
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

    def to_dict(self, confidence_level: float = 0.95) -> dict[str, Any]:
        """The report.json fields of one side of the attack."""
        risk = self.risk(confidence_level)
        n = max(self.n, 1)
        return {
            "targets": self.n,
            "top1": float(self.top1_credit.mean()) if self.n else 0.0,
            "reidentified": risk.value,
            "reidentified_ci": list(risk.ci),
            "false_claims": self.n_false_claims / n,
            "claims": int(self.claims.sum()),
            "mean_true_probability": float(self.true_probability.mean()) if self.n else 0.0,
            "mean_entropy_bits": float(self.entropy_bits.mean()) if self.n else 0.0,
            "precision_recall": self.precision_recall(),
            "eccentricity_histogram": self.eccentricity_histogram(),
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
    index = table.by_item
    use_dates = aux.use_dates and index.has_dates
    scored = scoreboard(
        index.ptr,
        index.other,
        index.rating,
        index.day,
        table.weights,
        table.records.n,
        aux.items,
        aux.rating,
        aux.day,
        aux.length,
        use_dates,
        rating_sim,
        date_sim,
        true_records.astype(np.int64),
        8 * numba.get_num_threads(),
        dense_share,
    )
    # a top score of 0 means nobody shares a known item: no top-1 credit
    return outcome_of(scored, true_records, phi, top_must_be_positive=True)


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
    best, top, second, sigma, ties, true_score, p_true, entropy = scored
    with np.errstate(invalid="ignore", divide="ignore"):
        eccentricity = np.where(sigma > 0, (top - second) / sigma, 0.0)
    correct = (best == true_records) & (true_records >= 0)
    at_top = (true_records >= 0) & (true_score == top)
    if top_must_be_positive:
        at_top &= top > 0
    top1 = np.where(at_top, 1.0 / np.maximum(ties, 1), 0.0)
    return AttackOutcome(correct, eccentricity, top1, p_true, entropy, phi)
