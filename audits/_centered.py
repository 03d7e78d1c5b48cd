"""Compiled kernel of the length-centred scorer: Scoreboard-RH minus its chance expectation.

Scoreboard-RH rewards a record for every known item it rated, so a record of thousands
of ratings collects a high score for any auxiliary information and can crowd out the
target. The centred score subtracts what a record of the same length would score by
chance:

    Centred(aux, r) = Score(aux, r) - |r| * C(aux),
    C(aux) = sum over i in supp(aux) of wt(i) * S_i / R,

where Score and wt are Scoreboard-RH's, |r| is the number of ratings of record r,
R the number of ratings in the table, and S_i the sum over item i's ratings of their
similarity to the known rating of i. A record of length L that took its ratings at
random from the table's R ratings would hold L * supp(i) / R ratings of item i, each
as similar as item i's average rating (S_i / supp(i)), so |r| * C is its expected
Scoreboard-RH score. Claims, eccentricity and the entropic output are computed on the
centred scores over all records, as for Scoreboard-RH.

Raw scores are Scoreboard-RH's, accumulated by the same compiled helpers (float32,
branch-free touched list). Only records that rated a known item are visited. The
others score -|r| * C, which depends on their length alone: their maximum is found by
walking the records in order of length, and their moments and entropic sums come from
counts per distinct length, less the touched records'. A target whose items reach
most records is scored in whole-table passes instead, block by block: a block whose
largest centred score is below the running second best is passed over after one
vectorized pass.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from audits._kernels import (
    _BLOCK,
    _FAST,
    _add_item_dense,
    _add_item_sparse,
    _top_two,
    exp_nonpositive,
)

__all__ = ["centered_scoreboard"]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def centered_scoreboard(
    item_ptr: np.ndarray,
    post_record: np.ndarray,
    post_rating: np.ndarray,
    post_day: np.ndarray,
    weights: np.ndarray,
    record_length: np.ndarray,
    by_length: np.ndarray,
    distinct_length: np.ndarray,
    length_count: np.ndarray,
    length_slot: np.ndarray,
    aux_items: np.ndarray,
    aux_rating: np.ndarray,
    aux_day: np.ndarray,
    aux_len: np.ndarray,
    use_dates: bool,
    rating_sim: np.ndarray,
    date_sim: np.ndarray,
    true_record: np.ndarray,
    n_chunks: int,
    dense_share: float = 0.25,
) -> tuple[np.ndarray, ...]:
    """Centred scores of every record against each target's auxiliary information.

    Parameters
    ----------
    record_length : float64 array
        Ratings per record.
    by_length : int32 array
        Records sorted by (length, record number).
    distinct_length, length_count : int64 arrays
        The distinct lengths, ascending, and how many records have each.
    length_slot : int32 array
        Each record's position in ``distinct_length``.
    dense_share : float
        A target whose items' postings reach this share of the records is scored in
        whole-table passes instead of the touched list (speed only: same figures).

    Returns
    -------
    tuple of arrays
        As :func:`audits._kernels.scoreboard`: best, top, second, sigma, ties,
        true_score, true_probability, entropy_bits (scores centred).
    """
    n_records = len(record_length)
    n_targets, m = aux_items.shape
    sum_l = record_length.sum()
    sum_l2 = (record_length * record_length).sum()
    best = np.full(n_targets, -1, dtype=np.int32)
    top = np.zeros(n_targets)
    second = np.zeros(n_targets)
    sigma = np.zeros(n_targets)
    ties = np.zeros(n_targets, dtype=np.int64)
    true_score = np.zeros(n_targets)
    true_probability = np.zeros(n_targets)
    entropy_bits = np.zeros(n_targets)
    best_probability = np.zeros(n_targets)
    n_chunks = max(1, min(n_targets, n_chunks))
    n_levels = len(rating_sim)
    for chunk in prange(n_chunks):
        scores = np.zeros(n_records, dtype=np.float32)
        touched = np.empty(n_records + 1, dtype=np.int32)  # +1: the branch-free append
        touched_per_slot = np.zeros(len(distinct_length), dtype=np.int64)
        block = np.empty(_BLOCK, dtype=np.float64)
        rows = np.empty((m, n_levels), dtype=np.float32)
        first = chunk * n_targets // n_chunks
        stop = (chunk + 1) * n_targets // n_chunks
        for t in range(first, stop):
            postings = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                postings += item_ptr[item + 1] - item_ptr[item]
                for level in range(n_levels):
                    rows[j, level] = rating_sim[abs(aux_rating[t, j] - level)]
            dense = postings >= dense_share * n_records
            n_touched = 0
            c = 0.0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                w = np.float32(weights[item])
                if w == 0.0:
                    continue
                lo, hi = item_ptr[item], item_ptr[item + 1]
                if dense:
                    item_sum = _add_item_dense(
                        scores, post_record[lo:hi], post_rating[lo:hi], post_day[lo:hi], w,
                        rows[j], aux_day[t, j], date_sim, use_dates,
                    )  # fmt: skip
                else:
                    n_touched, item_sum = _add_item_sparse(
                        scores, touched, n_touched, post_record[lo:hi], post_rating[lo:hi],
                        post_day[lo:hi], w, rows[j], aux_day[t, j], date_sim, use_dates,
                    )  # fmt: skip
                c += np.float64(w) * item_sum
            c /= sum_l
            tr = true_record[t]
            # The true record's centred score comes out of the same scan as the top score,
            # by the same expression: computed apart, rounding (and fused multiply-adds)
            # could keep a correct best match from equalling the top (issue 25).
            if dense:
                result = _dense_target(scores, record_length, c, block, tr)
            else:
                result = _sparse_target(
                    scores, touched, n_touched, record_length, by_length, distinct_length,
                    length_count, length_slot, touched_per_slot, c, sum_l, sum_l2, tr,
                )  # fmt: skip
            (best[t], top[t], second[t], sigma[t], ties[t], true_probability[t],
             entropy_bits[t], true_score[t], best_probability[t]) = result  # fmt: skip
    return (
        best, top, second, sigma, ties, true_score, true_probability, entropy_bits,
        best_probability,
    )  # fmt: skip


@numba.njit(cache=True, fastmath=_FAST)
def _sparse_target(
    scores: np.ndarray,
    touched: np.ndarray,
    n_touched: int,
    record_length: np.ndarray,
    by_length: np.ndarray,
    distinct_length: np.ndarray,
    length_count: np.ndarray,
    length_slot: np.ndarray,
    touched_per_slot: np.ndarray,
    c: float,
    sum_l: float,
    sum_l2: float,
    tr: int,
) -> tuple[int, float, float, float, int, float, float, float, float]:
    """One target's summary from its touched records and the counts per length; resets."""
    n_records = len(record_length)
    m1 = -np.inf
    m2 = -np.inf
    arg = -1
    n_top = 0
    s1 = 0.0
    s2 = 0.0
    ts = 0.0
    if tr >= 0 and scores[tr] == 0.0:  # an untouched true record: as untouched ones score
        ts = -record_length[tr] * c
    for k in range(n_touched):
        r = touched[k]
        lc = record_length[r] * c
        raw = np.float64(scores[r])
        v = raw - lc
        if r == tr:
            ts = v
        s1 += raw
        s2 += v * v - lc * lc  # an untouched record of this length would add lc^2
        touched_per_slot[length_slot[r]] += 1
        m1, m2, arg, n_top = _top_two(v, r, m1, m2, arg, n_top)
    s1 -= c * sum_l
    s2 += c * c * sum_l2
    # untouched records: the shortest scores highest (-length * c, c >= 0)
    n_untouched = n_records - n_touched
    if n_untouched > 0:
        u = -1
        for k in range(n_records):
            if scores[by_length[k]] == 0.0:  # untouched
                u = by_length[k]
                break
        slot = length_slot[u]
        tied = length_count[slot] - touched_per_slot[slot]
        v = -record_length[u] * c
        if c == 0.0:
            tied = n_untouched
            v = 0.0
        if v > m1:
            m2 = (
                v
                if tied > 1
                else max(
                    m1,
                    _next_untouched(distinct_length, length_count, touched_per_slot, slot, c, v),
                )
            )
            m1 = v
            arg = u
            n_top = tied
        elif v == m1:
            m2 = m1
            arg = min(arg, u)
            n_top += tied
        elif v > m2:
            m2 = v
    mean = s1 / n_records
    sd = np.sqrt(max(s2 / n_records - mean * mean, 0.0))
    if sd > 0.0:
        inverse_sd = 1.0 / sd
        z = 0.0
        weighted = 0.0
        for k in range(n_touched):
            r = touched[k]
            x = (np.float64(scores[r]) - record_length[r] * c - m1) * inverse_sd
            e = exp_nonpositive(x)
            z += e
            weighted += e * x
        # the untouched records, by length: one exponential per distinct length
        for b in range(len(distinct_length)):
            free = length_count[b] - touched_per_slot[b]
            if free > 0:
                x0 = (-np.float64(distinct_length[b]) * c - m1) * inverse_sd
                e0 = free * exp_nonpositive(x0)
                z += e0
                weighted += e0 * x0
        p_true = exp_nonpositive((ts - m1) * inverse_sd) / z if tr >= 0 else 0.0
        h = np.log(z) - weighted / z
        p_best = 1.0 / z
    else:
        p_true = 1.0 / n_records if tr >= 0 else 0.0
        h = np.log(n_records)
        p_best = 1.0 / n_records
    for k in range(n_touched):
        r = touched[k]
        scores[r] = 0.0
        touched_per_slot[length_slot[r]] = 0
    return arg, m1, m2 if m2 > -np.inf else m1, sd, n_top, p_true, h / np.log(2.0), ts, p_best


@numba.njit(cache=True)
def _next_untouched(
    distinct_length: np.ndarray,
    length_count: np.ndarray,
    touched_per_slot: np.ndarray,
    slot: int,
    c: float,
    v: float,
) -> float:
    """The untouched score just below ``v`` (the next longer length with a free record)."""
    for b in range(slot + 1, len(distinct_length)):
        if length_count[b] - touched_per_slot[b] > 0:
            return -np.float64(distinct_length[b]) * c
    return v


@numba.njit(cache=True, fastmath=_FAST)
def _centre_block(
    scores: np.ndarray, lengths: np.ndarray, c: float, out: np.ndarray
) -> tuple[float, float, float]:
    """Centred scores of one block into ``out``: their sum, sum of squares and maximum."""
    s1 = 0.0
    s2 = 0.0
    block_max = -np.inf
    for k in range(len(scores)):
        v = np.float64(scores[k]) - lengths[k] * c
        out[k] = v
        s1 += v
        s2 += v * v
        block_max = max(block_max, v)
    return s1, s2, block_max


@numba.njit(cache=True, fastmath=_FAST)
def _centred_entropy(
    scores: np.ndarray, lengths: np.ndarray, c: float, m1: float, inverse_sd: float
) -> tuple[float, float]:
    """Sum over the records of e = exp((v - m1) / sd) and of e * (v - m1) / sd; resets."""
    z = 0.0
    weighted = 0.0
    for k in range(len(scores)):
        x = (np.float64(scores[k]) - lengths[k] * c - m1) * inverse_sd
        e = exp_nonpositive(x)
        z += e
        weighted += e * x
        scores[k] = 0.0
    return z, weighted


@numba.njit(cache=True, error_model="numpy")
def _dense_target(
    scores: np.ndarray,
    record_length: np.ndarray,
    c: float,
    block: np.ndarray,
    tr: int,
) -> tuple[int, float, float, float, int, float, float, float, float]:
    """One target in whole-table passes (its items reach most records); resets."""
    n_records = len(record_length)
    m1 = -np.inf
    m2 = -np.inf
    arg = -1
    n_top = 0
    s1 = 0.0
    s2 = 0.0
    ts = 0.0
    for b0 in range(0, n_records, _BLOCK):
        b1 = min(b0 + _BLOCK, n_records)
        # slices, not offsets: loops over range(len) vectorize (no negative-index checks)
        b_s1, b_s2, block_max = _centre_block(scores[b0:b1], record_length[b0:b1], c, block)
        s1 += b_s1
        s2 += b_s2
        if b0 <= tr < b1:
            ts = block[tr - b0]  # the value the scan compares, not a recomputation
        if block_max < m2:
            continue  # nothing here reaches the second best
        for k in range(b1 - b0):  # the block's own values: the scan sees what the max saw
            m1, m2, arg, n_top = _top_two(block[k], b0 + k, m1, m2, arg, n_top)
    mean = s1 / n_records
    sd = np.sqrt(max(s2 / n_records - mean * mean, 0.0))
    if sd > 0.0:
        inverse_sd = 1.0 / sd
        z, weighted = _centred_entropy(scores, record_length, c, m1, inverse_sd)
        p_true = exp_nonpositive((ts - m1) * inverse_sd) / z if tr >= 0 else 0.0
        h = np.log(z) - weighted / z
        p_best = 1.0 / z
    else:
        scores[:] = 0.0
        p_true = 1.0 / n_records if tr >= 0 else 0.0
        h = np.log(n_records)
        p_best = 1.0 / n_records
    return arg, m1, m2 if m2 > -np.inf else m1, sd, n_top, p_true, h / np.log(2.0), ts, p_best
