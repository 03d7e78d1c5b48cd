"""Compiled kernels (numba): the Scoreboard-RH scan and the anonymity-set count.

Both run in parallel over targets. Each worker owns a dense score buffer and a list
of the records it touched, so resetting costs only what was touched, and the
scores' mean and variance over *all* records come from running sums (records that
share no item with the auxiliary information score 0).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

__all__ = ["anonymity_sets", "scoreboard"]

# e^-30 = 9.4e-14: even 480,189 such terms shift the entropic output by < 5e-8.
_CUTOFF = 30.0


@numba.njit(parallel=True, cache=True, error_model="numpy")
def scoreboard(
    item_ptr: np.ndarray,
    post_record: np.ndarray,
    post_rating: np.ndarray,
    post_day: np.ndarray,
    weights: np.ndarray,
    n_records: int,
    aux_items: np.ndarray,
    aux_rating: np.ndarray,
    aux_day: np.ndarray,
    aux_len: np.ndarray,
    use_dates: bool,
    rating_sim: np.ndarray,
    date_sim: np.ndarray,
    true_record: np.ndarray,
    n_chunks: int,
) -> tuple[np.ndarray, ...]:
    """Score every record against each target's auxiliary information.

    Score(aux, r) = sum over aux items i of wt(i) * (rating_sim[|rating diff|] +
    date_sim[|day diff|]); records that did not rate i get nothing for i. Targets are
    split into ``n_chunks`` blocks run in parallel, each with its own score buffer.

    Returns
    -------
    best : int32 array
        The best-scoring record (lowest number among ties).
    top, second : float64 arrays
        The highest and second-highest score over all records.
    sigma : float64 array
        Standard deviation of the scores over all ``n_records`` records.
    ties : int64 array
        Number of records sharing the highest score.
    true_score : float64 array
        The true record's score (0 when ``true_record`` is -1).
    true_probability : float64 array
        Probability that Pr[r] proportional to exp(score / sigma) puts on the true record.
    entropy_bits : float64 array
        Entropy of that distribution, in bits.
    """
    n_targets = aux_items.shape[0]
    best = np.full(n_targets, -1, dtype=np.int32)
    top = np.zeros(n_targets)
    second = np.zeros(n_targets)
    sigma = np.zeros(n_targets)
    ties = np.zeros(n_targets, dtype=np.int64)
    true_score = np.zeros(n_targets)
    true_probability = np.zeros(n_targets)
    entropy_bits = np.zeros(n_targets)
    n_chunks = max(1, min(n_targets, n_chunks))
    last_day = len(date_sim) - 1
    for chunk in prange(n_chunks):
        # float32 halves the buffer (480K records: 1.9 MB) so more of it stays in cache
        scores = np.zeros(n_records, dtype=np.float32)
        touched = np.empty(n_records + 1, dtype=np.int32)  # +1: the branch-free append
        lo = chunk * n_targets // n_chunks
        hi = (chunk + 1) * n_targets // n_chunks
        for t in range(lo, hi):
            n_touched = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                w = weights[item]
                if w == 0.0:
                    continue
                ra = aux_rating[t, j]
                da = aux_day[t, j]
                lo = item_ptr[item]
                hi = item_ptr[item + 1]
                if use_dates:
                    for p in range(lo, hi):
                        r = post_record[p]
                        dd = min(abs(da - np.int64(post_day[p])), last_day)
                        s = rating_sim[abs(ra - np.int64(post_rating[p]))] + date_sim[dd]
                        # branch-free "first touch": always write, advance only if new
                        touched[n_touched] = r
                        n_touched += scores[r] == 0.0
                        scores[r] += np.float32(w * s)
                else:
                    for p in range(lo, hi):
                        r = post_record[p]
                        s = rating_sim[abs(ra - np.int64(post_rating[p]))]
                        touched[n_touched] = r
                        n_touched += scores[r] == 0.0
                        scores[r] += np.float32(w * s)
            # max, second max and ties over all records; untouched records score 0
            m1 = 0.0
            m2 = 0.0
            arg = -1
            n_top = 0
            s1 = 0.0
            s2 = 0.0
            for k in range(n_touched):
                r = touched[k]
                v = np.float64(scores[r])
                s1 += v
                s2 += v * v
                if v > m1:
                    m2 = m1
                    m1 = v
                    arg = r
                    n_top = 1
                elif v == m1:
                    n_top += 1
                    if r < arg:
                        arg = r
                    m2 = m1
                elif v > m2:
                    m2 = v
            untouched = n_records - n_touched
            if n_touched == 0 or m1 == 0.0:
                arg = 0
                n_top = n_records
                m2 = 0.0
            mean = s1 / n_records
            var = max(s2 / n_records - mean * mean, 0.0)
            sd = np.sqrt(var)
            tr = true_record[t]
            ts = np.float64(scores[tr]) if tr >= 0 else 0.0
            if sd > 0.0:
                # Records more than CUTOFF sigmas below the best add at most
                # n * e^-CUTOFF to a sum whose largest term is 1: skip their exp.
                floor = m1 - _CUTOFF * sd
                z = 0.0
                weighted = 0.0
                if -m1 / sd > -_CUTOFF:
                    z = untouched * np.exp(-m1 / sd)
                    weighted = z * (-m1 / sd)
                for k in range(n_touched):
                    v = np.float64(scores[touched[k]])
                    if v < floor:
                        continue
                    e = np.exp((v - m1) / sd)
                    z += e
                    weighted += e * (v - m1) / sd
                p_true = np.exp((ts - m1) / sd) / z if tr >= 0 else 0.0
                h = np.log(z) - weighted / z
            else:
                p_true = 1.0 / n_records if tr >= 0 else 0.0
                h = np.log(n_records)
            best[t] = arg
            top[t] = m1
            second[t] = m2
            sigma[t] = sd
            ties[t] = n_top
            true_score[t] = ts
            true_probability[t] = p_true
            entropy_bits[t] = h / np.log(2.0)
            for k in range(n_touched):
                scores[touched[k]] = 0.0
    return best, top, second, sigma, ties, true_score, true_probability, entropy_bits


@numba.njit(cache=True)
def _find(items: np.ndarray, lo: int, hi: int, item: int) -> int:
    """Binary search of ``item`` in the sorted ``items[lo:hi]``; -1 if absent."""
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < item:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < len(items) and items[lo] == item else -1


@numba.njit(parallel=True, cache=True)
def anonymity_sets(
    item_ptr: np.ndarray,
    item_record: np.ndarray,
    record_ptr: np.ndarray,
    record_item: np.ndarray,
    record_rating: np.ndarray,
    record_day: np.ndarray,
    targets: np.ndarray,
    known: np.ndarray,
    day_tolerance: int,
    use_dates: bool,
) -> np.ndarray:
    """Count the records that match each target on all its known items.

    Parameters
    ----------
    targets : int array (T,)
        Record numbers.
    known : int array (T, m)
        Item codes each target is known by, rarest first (the scan starts there).

    Returns
    -------
    int64 array (T, 3)
        Anonymity-set sizes (the target included) when matching on (0) the items
        alone, (1) items and exact ratings, (2) items, exact ratings and dates within
        ``day_tolerance`` days (column 2 equals column 1 when ``use_dates`` is false).
    """
    n_targets, m = known.shape
    out = np.ones((n_targets, 3), dtype=np.int64)
    for t in prange(n_targets):
        u = targets[t]
        ratings = np.empty(m, dtype=np.int64)
        days = np.empty(m, dtype=np.int64)
        for j in range(m):
            pos = _find(record_item, record_ptr[u], record_ptr[u + 1], known[t, j])
            ratings[j] = record_rating[pos]
            days[j] = record_day[pos]
        first = known[t, 0]
        for p in range(item_ptr[first], item_ptr[first + 1]):
            v = item_record[p]
            if v == u:
                continue
            same_items = True
            same_ratings = True
            same_days = True
            for j in range(m):
                pos = _find(record_item, record_ptr[v], record_ptr[v + 1], known[t, j])
                if pos < 0:
                    same_items = False
                    break
                if record_rating[pos] != ratings[j]:
                    same_ratings = False
                if abs(np.int64(record_day[pos]) - days[j]) > day_tolerance:
                    same_days = False
            if same_items:
                out[t, 0] += 1
                if same_ratings:
                    out[t, 1] += 1
                    if same_days or not use_dates:
                        out[t, 2] += 1
    return out
