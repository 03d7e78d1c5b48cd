"""Compiled kernel of the policy-aware likelihood scorer (see :mod:`audits.likelihood`).

For each target it computes, for every released record r, the log likelihood ratio

    log LR(r) = sum over known items j of
                  [r rated j]     * log(omega + (1 - omega) * s / q * f)
                + [r did not]     * log((1 - (1 - omega) s - omega q) / (1 - q))

of "r is the target" against "r is somebody else", where q = q_j(|r|) is the chance a
record of |r| ratings holds item j, s = s(|r|) the chance one of the target's ratings
survived the policy, omega the rate of wrong items the adversary declares, and f the
ratio of the released rating's (and date's) probability given the known one to its
background probability. Terms that depend on r only through its length come from
per-length tables; only records that rated a known item are visited, the others score
their length's base. The posterior of record r is ``prior * LR(r)`` normalized over the
records and the chance ``1 - prior`` that the target is not in the release at all.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from audits._kernels import _FAST, exp_nonpositive

__all__ = ["likelihood_scoreboard", "log1p_unit"]


@numba.njit(cache=True, fastmath=_FAST)
def log1p_unit(y: float) -> float:
    """log(1 + y) for 0 <= y <= 1, as 2 atanh(y / (2 + y)); error below 1e-9.

    Examples
    --------
    >>> bool(abs(log1p_unit(0.5) - np.log1p(0.5)) < 1e-9)
    True
    """
    z = y / (2.0 + y)  # in [0, 1/3]
    z2 = z * z
    p = 1.0 / 17.0
    for k in (15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0, 1.0):
        p = p * z2 + 1.0 / k
    return 2.0 * z * p


@numba.njit(cache=True, fastmath=_FAST, inline="always")
def _log_add(a: float, b: float) -> float:
    """log(e^a + e^b)."""
    big = max(a, b)
    return big + log1p_unit(exp_nonpositive(-abs(a - b)))


@numba.njit(parallel=True, cache=True, error_model="numpy")
def likelihood_scoreboard(
    item_ptr: np.ndarray,
    post_record: np.ndarray,
    post_rating: np.ndarray,
    post_day: np.ndarray,
    length_slot: np.ndarray,
    slot_length: np.ndarray,
    slot_count: np.ndarray,
    item_share: np.ndarray,
    rating_known: np.ndarray,
    rating_background: np.ndarray,
    day_pmf: np.ndarray,
    period_start: np.ndarray,
    day_background: np.ndarray,
    day_origin: int,
    coarse: bool,
    survival: np.ndarray,
    log_omega: float,
    aux_items: np.ndarray,
    aux_rating: np.ndarray,
    aux_day: np.ndarray,
    aux_len: np.ndarray,
    use_dates: bool,
    log_absent: float,
    true_record: np.ndarray,
    n_chunks: int,
) -> tuple[np.ndarray, ...]:
    """Log likelihood ratios of every record for each target, and their posterior summary.

    Parameters
    ----------
    item_ptr, post_record, post_rating, post_day
        The released table's postings by item.
    length_slot : int32 array (records,)
        Each record's position among the distinct lengths.
    slot_length, slot_count : arrays (slots,)
        The distinct lengths (float64) and how many records have each (int64).
    item_share : float64 array (items,)
        Each item's raters over the table's ratings (supp(i) / R).
    rating_known : float64 array (k, k)
        log P(released value v | known value a), row a.
    rating_background : float64 array (items, k)
        log P(released value v) among item i's released ratings.
    day_pmf : float64 array (2W + 1,)
        P(true date after the policy's date noise = known day + offset), offsets -W..W.
    period_start : int64 array
        For day ``day_origin + x``: the first day of its released period (itself when
        dates are not coarsened).
    day_background : float64 array
        log P(released date = ``day_origin + x``) over the table's ratings.
    coarse : bool
        Released dates are period starts: a known day matches its period by membership.
    survival : float64 array (slots,)
        Chance a target rating survived into a record of each length.
    log_omega : float
        Log of the wrong-item rate the adversary declares (floored).
    log_absent : float
        log((1 - prior) / prior * records): the weight of "the target is not released".

    Returns
    -------
    tuple of arrays
        best, top, second, sigma, ties, true_score, true_probability, entropy_bits (as
        :func:`audits._kernels.scoreboard`, on log likelihood ratios) and best_probability
        (the posterior of the best record, the absent case counted).
    """
    n_records = len(length_slot)
    n_slots = len(slot_length)
    n_targets, m = aux_items.shape
    k = rating_known.shape[0]
    w = (len(day_pmf) - 1) // 2
    n_days = len(period_start)
    # how far a released date can sit from the known day, coarsening included
    reach = w + 367
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
    omega = np.exp(log_omega)
    for chunk in prange(n_chunks):
        scores = np.zeros(n_records, dtype=np.float64)
        seen = np.zeros(n_records, dtype=np.bool_)
        touched = np.empty(n_records, dtype=np.int32)
        base = np.zeros(n_slots)
        rated_gain = np.empty((m, n_slots))  # log(omega + (1-omega) s/q) less the base term
        missed = np.empty((m, n_slots))
        rows = np.empty((m, k))
        dates = np.empty((m, 2 * reach + 1))
        free = np.empty(n_slots, dtype=np.int64)
        first = chunk * n_targets // n_chunks
        stop = (chunk + 1) * n_targets // n_chunks
        for t in range(first, stop):
            base[:] = 0.0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                share = item_share[item]
                log_keep_out = np.log1p(-min(share, 1.0 - 1e-12))
                for b in range(n_slots):
                    if share <= 0.0:
                        rated_gain[j, b] = 0.0
                        missed[j, b] = 0.0
                        continue
                    # a record of this length holds item j by chance with probability q
                    q = -np.expm1(slot_length[b] * log_keep_out)
                    s = survival[b]
                    keep = (1.0 - omega) * s + omega * q
                    miss = np.log(max(1.0 - keep, 1e-300)) - np.log(max(1.0 - q, 1e-300))
                    missed[j, b] = miss
                    base[b] += miss
                    # log of (1 - omega) s / q: the rated term is log(omega + that * f)
                    rated_gain[j, b] = np.log(max((1.0 - omega) * s, 1e-300)) - np.log(q)
                for v in range(k):
                    rows[j, v] = rating_known[aux_rating[t, j], v] - rating_background[item, v]
                dates[j, :] = -np.inf
                if use_dates:
                    for o in range(-w, w + 1):
                        x = aux_day[t, j] + o - day_origin
                        if 0 <= x < n_days:
                            e = period_start[x] - aux_day[t, j]
                            if -reach <= e <= reach:
                                slot = e + reach
                                p = day_pmf[o + w]
                                if dates[j, slot] == -np.inf:
                                    dates[j, slot] = np.log(p) if p > 0 else -np.inf
                                elif p > 0:
                                    dates[j, slot] = _log_add(dates[j, slot], np.log(p))
            n_touched = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                if item_share[item] <= 0.0:
                    continue
                for p in range(item_ptr[item], item_ptr[item + 1]):
                    r = post_record[p]
                    b = length_slot[r]
                    f = rows[j, post_rating[p]]
                    if use_dates:
                        x = np.int64(post_day[p]) - day_origin
                        e = np.int64(post_day[p]) - aux_day[t, j]
                        if -reach <= e <= reach and dates[j, e + reach] > -np.inf:
                            f += dates[j, e + reach] - day_background[x]
                        else:
                            f += -23.0 - day_background[x]  # e^-23: a date the model excludes
                    term = _log_add(log_omega, rated_gain[j, b] + f) - missed[j, b]
                    if not seen[r]:
                        seen[r] = True
                        touched[n_touched] = r
                        n_touched += 1
                    scores[r] += term
            # the records' full scores: their length's base plus what their items added
            m1 = -np.inf
            m2 = -np.inf
            arg = -1
            n_top = 0
            s1 = 0.0
            s2 = 0.0
            free[:] = slot_count
            for i in range(n_touched):
                r = touched[i]
                v = scores[r] + base[length_slot[r]]
                scores[r] = v
                free[length_slot[r]] -= 1
                s1 += v
                s2 += v * v
                if v > m1:
                    m2, m1, arg, n_top = m1, v, r, 1
                elif v == m1:
                    arg = min(arg, r)
                    n_top += 1
                    m2 = m1
                elif v > m2:
                    m2 = v
            for b in range(n_slots):
                if free[b] <= 0:
                    continue
                v = base[b]
                s1 += free[b] * v
                s2 += free[b] * v * v
                if v > m1:
                    m2 = m1 if free[b] == 1 else v
                    m1 = v
                    arg = -2 - b  # an untouched record of this length: resolved below
                    n_top = free[b]
                elif v == m1:
                    n_top += free[b]
                    m2 = m1
                elif v > m2:
                    m2 = v
            if arg <= -2:  # the best is untouched: the lowest-numbered record of that length
                want = -2 - arg
                for r in range(n_records):
                    if length_slot[r] == want and not seen[r]:
                        arg = r
                        break
            mean = s1 / n_records
            sd = np.sqrt(max(s2 / n_records - mean * mean, 0.0))
            z = 0.0
            weighted = 0.0
            for i in range(n_touched):
                x = scores[touched[i]] - m1
                e = exp_nonpositive(x)
                z += e
                weighted += e * x
            for b in range(n_slots):
                if free[b] > 0:
                    x = base[b] - m1
                    e = free[b] * exp_nonpositive(x)
                    z += e
                    weighted += e * x
            tr = true_record[t]
            ts = 0.0
            if tr >= 0:
                ts = scores[tr] if seen[tr] else base[length_slot[tr]]
            absent = log_absent - m1
            denominator = z + (np.exp(min(absent, 700.0)) if absent > -745.0 else 0.0)
            best[t] = arg
            top[t] = m1
            second[t] = m2 if m2 > -np.inf else m1
            sigma[t] = sd
            ties[t] = n_top
            true_score[t] = ts
            true_probability[t] = exp_nonpositive(ts - m1) / denominator if tr >= 0 else 0.0
            entropy_bits[t] = (np.log(z) - weighted / z) / np.log(2.0)
            best_probability[t] = 1.0 / denominator
            for i in range(n_touched):
                r = touched[i]
                scores[r] = 0.0
                seen[r] = False
    return (
        best, top, second, sigma, ties, true_score, true_probability, entropy_bits,
        best_probability,
    )  # fmt: skip
