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

Only records that rated a known item are visited (the touched list). The others score
-|r| * C, which depends on their length alone: their maximum is found by walking the
records in order of length, and their moments and entropic sums come from counts per
distinct length, less the touched records'.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from audits._kernels import _similarity, exp_nonpositive

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
    record_length : int64 array
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
    total = np.float64(record_length.sum())
    sum_l = total
    sum_l2 = np.float64((record_length.astype(np.float64) ** 2).sum())
    best = np.full(n_targets, -1, dtype=np.int32)
    top = np.zeros(n_targets)
    second = np.zeros(n_targets)
    sigma = np.zeros(n_targets)
    ties = np.zeros(n_targets, dtype=np.int64)
    true_score = np.zeros(n_targets)
    true_probability = np.zeros(n_targets)
    entropy_bits = np.zeros(n_targets)
    n_chunks = max(1, min(n_targets, n_chunks))
    n_levels = len(rating_sim)
    last = np.int32(len(date_sim) - 1)
    for chunk in prange(n_chunks):
        scores = np.zeros(n_records, dtype=np.float64)
        touched = np.empty(n_records, dtype=np.int32)
        seen = np.zeros(n_records, dtype=np.bool_)
        touched_per_slot = np.zeros(len(distinct_length), dtype=np.int64)
        rows = np.empty((m, n_levels), dtype=np.float32)
        first = chunk * n_targets // n_chunks
        stop = (chunk + 1) * n_targets // n_chunks
        for t in range(first, stop):
            n_touched = 0
            c = 0.0
            postings = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                postings += item_ptr[item + 1] - item_ptr[item]
                for level in range(n_levels):
                    rows[j, level] = rating_sim[abs(aux_rating[t, j] - level)]
            if postings >= dense_share * n_records:
                (best[t], top[t], second[t], sigma[t], ties[t], true_score[t],
                 true_probability[t], entropy_bits[t]) = _dense_target(
                    scores, item_ptr, post_record, post_rating, post_day, weights,
                    record_length, total, aux_items[t], aux_day[t], aux_len[t], rows,
                    use_dates, date_sim, true_record[t],
                )  # fmt: skip
                continue
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                w = np.float64(weights[item])
                if w == 0.0:
                    continue
                day = np.int32(aux_day[t, j])
                item_sum = 0.0
                for k in range(item_ptr[item], item_ptr[item + 1]):
                    r = post_record[k]
                    s = np.float64(
                        _similarity(rows[j], post_rating[k], day, post_day[k], last, date_sim,
                                    use_dates)
                    )  # fmt: skip
                    item_sum += s
                    if not seen[r]:
                        seen[r] = True
                        touched[n_touched] = r
                        n_touched += 1
                    scores[r] += w * s
                c += w * item_sum
            c /= total
            # touched records: centred scores, moments and the top two
            m1 = -np.inf
            m2 = -np.inf
            arg = -1
            n_top = 0
            s1 = 0.0
            s2 = 0.0
            for k in range(n_touched):
                r = touched[k]
                length = np.float64(record_length[r])
                v = scores[r] - length * c
                s1 += scores[r]
                s2 += v * v - (length * c) ** 2
                touched_per_slot[length_slot[r]] += 1
                if v > m1:
                    m2 = m1
                    m1 = v
                    arg = r
                    n_top = 1
                elif v == m1:
                    m2 = m1
                    arg = min(arg, r)
                    n_top += 1
                elif v > m2:
                    m2 = v
            s1 -= c * sum_l
            s2 += c * c * sum_l2
            # untouched records: the shortest scores highest (-length * c, c >= 0)
            n_untouched = n_records - n_touched
            if n_untouched > 0:
                u = -1
                for k in range(n_records):
                    if not seen[by_length[k]]:
                        u = by_length[k]
                        break
                slot = length_slot[u]
                tied = length_count[slot] - touched_per_slot[slot]
                v = -np.float64(record_length[u]) * c
                if c == 0.0:
                    tied = n_untouched
                    v = 0.0
                if v > m1:
                    m2 = (
                        v
                        if tied > 1
                        else max(
                            m1,
                            _next_untouched(
                                distinct_length, length_count, touched_per_slot, slot, c, v
                            ),
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
            tr = true_record[t]
            ts = scores[tr] - np.float64(record_length[tr]) * c if tr >= 0 else 0.0
            if sd > 0.0:
                inverse_sd = 1.0 / sd
                z = 0.0
                weighted = 0.0
                for k in range(n_touched):
                    r = touched[k]
                    length = np.float64(record_length[r])
                    x = (scores[r] - length * c - m1) * inverse_sd
                    e = exp_nonpositive(x)
                    z += e
                    weighted += e * x
                    x0 = (-length * c - m1) * inverse_sd  # taken out of the length counts
                    e0 = exp_nonpositive(x0)
                    z -= e0
                    weighted -= e0 * x0
                for b in range(len(distinct_length)):
                    x0 = (-np.float64(distinct_length[b]) * c - m1) * inverse_sd
                    e0 = length_count[b] * exp_nonpositive(x0)
                    z += e0
                    weighted += e0 * x0
                p_true = exp_nonpositive((ts - m1) * inverse_sd) / z if tr >= 0 else 0.0
                h = np.log(z) - weighted / z
            else:
                p_true = 1.0 / n_records if tr >= 0 else 0.0
                h = np.log(n_records)
            for k in range(n_touched):
                r = touched[k]
                scores[r] = 0.0
                seen[r] = False
                touched_per_slot[length_slot[r]] = 0
            best[t] = arg
            top[t] = m1
            second[t] = m2 if m2 > -np.inf else m1
            sigma[t] = sd
            ties[t] = n_top
            true_score[t] = ts
            true_probability[t] = p_true
            entropy_bits[t] = h / np.log(2.0)
    return best, top, second, sigma, ties, true_score, true_probability, entropy_bits


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


@numba.njit(cache=True, error_model="numpy")
def _dense_target(
    scores: np.ndarray,
    item_ptr: np.ndarray,
    post_record: np.ndarray,
    post_rating: np.ndarray,
    post_day: np.ndarray,
    weights: np.ndarray,
    record_length: np.ndarray,
    total: float,
    items: np.ndarray,
    days: np.ndarray,
    n_known: int,
    rows: np.ndarray,
    use_dates: bool,
    date_sim: np.ndarray,
    tr: int,
) -> tuple[int, float, float, float, int, float, float, float]:
    """One target scored in whole-table passes (its items reach most records)."""
    n_records = len(record_length)
    last = np.int32(len(date_sim) - 1)
    c = 0.0
    for j in range(n_known):
        item = items[j]
        w = np.float64(weights[item])
        if w == 0.0:
            continue
        day = np.int32(days[j])
        item_sum = 0.0
        for k in range(item_ptr[item], item_ptr[item + 1]):
            s = np.float64(
                _similarity(rows[j], post_rating[k], day, post_day[k], last, date_sim, use_dates)
            )
            item_sum += s
            scores[post_record[k]] += w * s
        c += w * item_sum
    c /= total
    m1 = -np.inf
    m2 = -np.inf
    arg = -1
    n_top = 0
    s1 = 0.0
    s2 = 0.0
    for r in range(n_records):
        v = scores[r] - np.float64(record_length[r]) * c
        s1 += v
        s2 += v * v
        if v > m1:
            m2 = m1
            m1 = v
            arg = r
            n_top = 1
        elif v == m1:
            m2 = m1
            n_top += 1
        elif v > m2:
            m2 = v
    mean = s1 / n_records
    sd = np.sqrt(max(s2 / n_records - mean * mean, 0.0))
    ts = scores[tr] - np.float64(record_length[tr]) * c if tr >= 0 else 0.0
    if sd > 0.0:
        inverse_sd = 1.0 / sd
        z = 0.0
        weighted = 0.0
        for r in range(n_records):
            x = (scores[r] - np.float64(record_length[r]) * c - m1) * inverse_sd
            e = exp_nonpositive(x)
            z += e
            weighted += e * x
            scores[r] = 0.0
        p_true = exp_nonpositive((ts - m1) * inverse_sd) / z if tr >= 0 else 0.0
        h = np.log(z) - weighted / z
    else:
        scores[:] = 0.0
        p_true = 1.0 / n_records if tr >= 0 else 0.0
        h = np.log(n_records)
    return arg, m1, m2 if m2 > -np.inf else m1, sd, n_top, ts, p_true, h / np.log(2.0)
