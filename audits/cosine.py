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

The centred cosine (:func:`attack_cosine_centered`) compares ratings instead of presence:
each rating is centred by its item's mean in the attacked table (what the item's raters
think of it on average, as in McSherry and Mironov's item-item kNN), so a record gains
where it departs from the crowd in the same direction as the knowledge and loses where
it departs the other way:

    CentredCosine(aux, r) = sum over known items i that r rated of
                            (a_i - mu_i) * (r_i - mu_i) / ||r - mu||

with ||r - mu|| = sqrt(sum over the items j of r of (r_j - mu_j)^2). No IDF weight: an
item every customer rated says nothing by its presence (idf 0) but still much by how
its rating departs from the mean. Dates play no part. Scores may be negative; the claim
rules are the same.
"""

from __future__ import annotations

import numpy as np

from audits._index import IndexedTable
from audits._kernels import DENSE_SHARE
from audits.scoreboard import (
    AttackOutcome,
    AuxiliaryInformation,
    outcome_of,
    score_records,
    similarity_tables,
)

__all__ = ["attack_cosine", "attack_cosine_centered", "centered_scale", "idf_weights"]


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
    scored = score_records(
        table,
        aux,
        true_records,
        weights=squared,
        rating_sim=(1.0 + rating_sim).astype(np.float32),
        date_sim=date_sim,
        use_dates=aux.use_dates,
        dense_share=dense_share,
        record_scale=scale,
    )
    return outcome_of(scored, true_records, phi, top_must_be_positive=True)


def centered_scale(table: IndexedTable) -> tuple[np.ndarray, np.ndarray]:
    """Each item's mean scale position (float64) and 1 / ||r - mu|| per record; cached.

    A record whose every rating equals its item's mean has no direction: its scale is 0
    and it scores 0 against any knowledge.
    """
    cached = table.__dict__.get("centered_cosine_scale")
    if cached is not None:
        return cached
    by_item, by_record = table.by_item, table.by_record
    n_items, n_records = len(by_item.ptr) - 1, len(by_record.ptr) - 1
    # bincount, not reduceat: items the release dropped have no postings
    support = np.diff(by_item.ptr)
    sums = np.bincount(by_record.other, weights=by_record.rating, minlength=n_items)
    mean = np.where(support > 0, sums / np.maximum(support, 1), 0.0)
    centred = by_record.rating.astype(np.float64) - mean[by_record.other]
    record = np.repeat(np.arange(n_records), np.diff(by_record.ptr))
    norms = np.sqrt(np.bincount(record, weights=centred * centred, minlength=n_records))
    scale = np.where(norms > 1e-12, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    table.__dict__["centered_cosine_scale"] = (mean, scale)
    return mean, scale


def attack_cosine_centered(
    table: IndexedTable,
    aux: AuxiliaryInformation,
    true_records: np.ndarray,
    phi: float,
    *,
    dense_share: float = DENSE_SHARE,
) -> AttackOutcome:
    """Run the centred cosine scorer of ``aux`` against every record of ``table``.

    Parameters and result as :func:`audits.scoreboard.attack`.
    """
    rating_sim, date_sim = similarity_tables(table, aux, true_records)
    mean, scale = centered_scale(table)
    k = len(rating_sim)
    # rows[t, j, v] = (a_tj - mu_i) * (v - mu_i) for target t's known item i = items[t, j]
    mu = mean[aux.items]  # (T, m)
    valid = np.arange(aux.items.shape[1])[None, :] < aux.length[:, None]
    known = np.where(valid, aux.rating - mu, 0.0)
    rows = known[:, :, None] * (np.arange(k)[None, None, :] - mu[:, :, None])
    scored = score_records(
        table,
        aux,
        true_records,
        weights=np.ones(len(mean)),
        rating_sim=rating_sim,
        date_sim=date_sim,
        use_dates=False,
        dense_share=dense_share,
        record_scale=scale,
        rating_rows=np.ascontiguousarray(rows, dtype=np.float32),
    )
    return outcome_of(scored, true_records, phi, top_must_be_positive=False)
