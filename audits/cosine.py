"""The cosine scorer: nearest neighbour by cosine on IDF-weighted item vectors.

The knowledge and every released record are vectors over the items, each entry weighted
by the item's inverse document frequency idf(i) = ln(N / supp(i)) (N records, supp(i)
those that rated i: a rare item says more). The record's entry for a known item also
carries how well its rating (and date) agrees with the known one, Scoreboard-RH's
similarity s in (0, 2]:

    Cosine(aux, r) = sum over known items i that r rated of idf(i)^2 * (1 + s_i(r)) / ||r||

with ||r|| = sqrt(sum over the items j of r of idf(j)^2) (the knowledge's own norm is
the same for every record and left out). Dividing by the record's norm is what sets it
apart from Scoreboard-RH: a record of thousands of ratings is long, so the items it
shares with the knowledge by chance are worth little. Claims by Scoreboard-RH's rule
(eccentricity over all records reaches phi) and, beside it, by the entropic posterior.
It runs in Scoreboard-RH's own compiled kernel, with these weights and a per-record
scale: the same speed.
"""

from __future__ import annotations

import numba
import numpy as np

from audits._index import IndexedTable
from audits._kernels import DENSE_SHARE, scoreboard
from audits.scoreboard import (
    AttackOutcome,
    AuxiliaryInformation,
    outcome_of,
    similarity_tables,
)

__all__ = ["attack_cosine", "idf_weights"]


def idf_weights(table: IndexedTable) -> tuple[np.ndarray, np.ndarray]:
    """Squared IDF per item (float64) and 1 / ||r|| per record (float32); cached."""
    cached = table.__dict__.get("cosine_scale")
    if cached is not None:
        return cached
    support = table.by_item.support().astype(np.float64)
    n = max(table.records.n, 1)
    with np.errstate(divide="ignore"):
        idf = np.where(support > 0, np.log(n / np.maximum(support, 1)), 0.0)
    squared = idf * idf
    by_record = table.by_record
    norms = np.sqrt(np.add.reduceat(squared[by_record.other], by_record.ptr[:-1]))
    norms = np.where(np.diff(by_record.ptr) > 0, norms, 0.0)
    scale = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-300), 0.0).astype(np.float32)
    table.__dict__["cosine_scale"] = (squared, scale)
    return squared, scale


def attack_cosine(
    table: IndexedTable,
    aux: AuxiliaryInformation,
    true_records: np.ndarray,
    phi: float,
    *,
    dense_share: float = DENSE_SHARE,
) -> AttackOutcome:
    """Run the cosine scorer of ``aux`` against every record of ``table``.

    Parameters and result as :func:`audits.scoreboard.attack`.
    """
    rating_sim, date_sim = similarity_tables(table, aux, true_records)
    squared, scale = idf_weights(table)
    index = table.by_item
    scored = scoreboard(
        index.ptr,
        index.other,
        index.rating,
        index.day,
        squared,
        table.records.n,
        aux.items,
        aux.rating,
        aux.day,
        aux.length,
        aux.use_dates and index.has_dates,
        (1.0 + rating_sim).astype(np.float32),
        date_sim,
        true_records.astype(np.int64),
        8 * numba.get_num_threads(),
        dense_share,
        scale,
    )
    return outcome_of(scored, true_records, phi, top_must_be_positive=True)
