"""Compiled kernel of the policy-aware likelihood scorer (see :mod:`audits.likelihood`).

For each target it computes, for every released record r, the log likelihood ratio

    log LR(r) = sum over known items j of
                  [r rated j]     * log(omega + (1 - omega) * s / q * f)
                + [r did not]     * log((1 - (1 - omega) s - omega q) / (1 - q))

of "r is the target" against "r is somebody else", where q = q_j(|r|) is the chance a
record of |r| ratings holds item j, s = s(|r|) the chance one of the target's ratings
survived the policy, omega the rate of wrong items the adversary declares, and f the
ratio of the released rating's (and date's) probability given the known one to its
background probability (a released date outside every window the policy and the
adversary's tolerance allow has ratio e^EXCLUDED). Terms that depend on r only through
its length come from per-length tables; a posting's term, which depends on its record's
length slot and its value (and on its date only inside the known day's window), is
tabulated per known item, and the few postings inside the window get their own term in
a second pass. Only records that rated a known item are visited, the others score their
length's base; a target whose items reach a quarter of the records is scored over the
whole table in order instead (no list of touched records). The posterior of record r
is ``prior * LR(r)`` normalized over the records and the chance ``1 - prior`` that the
target is not in the release at all.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from audits._kernels import _FAST, DENSE_SHARE, _top_two, exp_nonpositive

__all__ = ["EXCLUDED", "likelihood_scoreboard", "log1p_unit", "log_add_fast"]

#: Log likelihood ratio of a released date the model excludes (outside every window the
#: policy and the adversary's tolerance allow) against the background: e^-23, about
#: 1e-10, so that such a match counts only through the declared wrong-item rate.
EXCLUDED = -23.0


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


#: log1p(e^-d) and its slope (per node step) at d = 0, 1/64, ..., 40 + 1/64: the nodes of
#: a cubic Hermite interpolant, error below 2e-11 (h^4 / 384 times the fourth
#: derivative's bound 1/8, h = 1/64).
_TAIL_PER_UNIT = 64
_TAIL_NODES = np.arange(40 * _TAIL_PER_UNIT + 2) / _TAIL_PER_UNIT
_TAIL_VALUE = np.log1p(np.exp(-_TAIL_NODES))
_TAIL_SLOPE = -1.0 / (1.0 + np.exp(_TAIL_NODES)) / _TAIL_PER_UNIT


@numba.njit(cache=True, fastmath=_FAST, inline="always")
def log_add_fast(a: float, b: float) -> float:
    """log(e^a + e^b) by a cubic Hermite table of log1p(e^-d); absolute error below 2e-11.

    A fraction of :func:`_log_add`'s time (no exponential, no division): it serves the
    postings inside a known day's window, one in twenty of all postings at Netflix scale.

    Examples
    --------
    >>> bool(abs(log_add_fast(-6.9, -1.0) - np.logaddexp(-6.9, -1.0)) < 2e-11)
    True
    """
    d = abs(a - b)
    big = max(a, b)
    if d >= 40.0:  # log1p(e^-40) = 4.2e-18
        return big
    u = d * _TAIL_PER_UNIT
    k = int(u)
    t = u - k
    t1 = 1.0 - t
    return big + (
        t1 * t1 * ((1.0 + 2.0 * t) * _TAIL_VALUE[k] + t * _TAIL_SLOPE[k])
        + t * t * ((3.0 - 2.0 * t) * _TAIL_VALUE[k + 1] - t1 * _TAIL_SLOPE[k + 1])
    )


@numba.njit(cache=True)
def _add_fixed_dense(
    scores: np.ndarray,
    records: np.ndarray,
    ratings: np.ndarray,
    length_slot: np.ndarray,
    fixed: np.ndarray,
) -> None:
    """Add each posting's tabulated term (its record's length slot, its value)."""
    for p in range(len(records)):
        r = records[p]
        scores[r] += fixed[length_slot[r], ratings[p]]


@numba.njit(cache=True)
def _add_fixed_sparse(
    scores: np.ndarray,
    seen: np.ndarray,
    touched: np.ndarray,
    n_touched: int,
    records: np.ndarray,
    ratings: np.ndarray,
    length_slot: np.ndarray,
    fixed: np.ndarray,
) -> int:
    """As :func:`_add_fixed_dense`, listing the records touched first; their new count."""
    for p in range(len(records)):
        r = records[p]
        if not seen[r]:
            seen[r] = True
            touched[n_touched] = r
            n_touched += 1
        scores[r] += fixed[length_slot[r], ratings[p]]
    return n_touched


@numba.njit(cache=True)
def _add_window(
    scores: np.ndarray,
    records: np.ndarray,
    ratings: np.ndarray,
    days: np.ndarray,
    length_slot: np.ndarray,
    offset: int,
    lo: int,
    hi: int,
    window: np.ndarray,
    rows: np.ndarray,
    gain: np.ndarray,
    missed: np.ndarray,
    fixed: np.ndarray,
    log_omega: float,
) -> None:
    """Replace the tabulated term of the postings inside the known day's window.

    A separate pass over the days alone: the test is cheap and rarely true (one posting
    in twenty at Netflix scale), and the tabulated pass stays free of it.
    """
    for p in range(len(days)):
        slot = np.int64(days[p]) - offset
        if lo <= slot <= hi:
            ratio = window[slot]
            if ratio > -np.inf:
                r = records[p]
                b = length_slot[r]
                v = ratings[p]
                term = log_add_fast(log_omega, gain[b] + rows[v] + ratio) - missed[b]
                scores[r] += term - fixed[b, v]


@numba.njit(cache=True, fastmath=_FAST)
def _dense_summary(
    scores: np.ndarray, base: np.ndarray, length_slot: np.ndarray
) -> tuple[float, float, int, int, float]:
    """Every record's full score (its length's base added in place), top two, sum.

    In record order, so that among ties the lowest record number is the best.
    """
    m1 = -np.inf
    m2 = -np.inf
    arg = -1
    n_top = 0
    s1 = 0.0
    for r in range(len(scores)):
        v = scores[r] + base[length_slot[r]]
        scores[r] = v
        s1 += v
        m1, m2, arg, n_top = _top_two(v, r, m1, m2, arg, n_top)
    return m1, m2, arg, n_top, s1


@numba.njit(cache=True, fastmath=_FAST)
def _dense_entropy(scores: np.ndarray, m1: float, mean: float) -> tuple[float, float, float]:
    """Sums over the records of e = exp(v - m1), of e * (v - m1) and of (v - mean)^2."""
    z = 0.0
    weighted = 0.0
    squares = 0.0
    for r in range(len(scores)):
        x = scores[r] - m1
        e = exp_nonpositive(x)
        z += e
        weighted += e * x
        d = scores[r] - mean
        squares += d * d
    return z, weighted, squares


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
    dense_share: float = DENSE_SHARE,
) -> tuple[np.ndarray, ...]:
    """Log likelihood ratios of every record for each target, and their posterior summary.

    Parameters
    ----------
    item_ptr, post_record, post_rating, post_day
        The released table's postings by item.
    length_slot : uint8 array (records,)
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
    dense_share : float
        Score a target densely (every record in order, no touched list) when its known
        items' postings reach this share of the records; the figures do not depend on
        it beyond the order of floating-point sums.

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
        fixed = np.empty((m, n_slots, k))  # the term of a posting without a date to weigh
        dates = np.empty((m, 2 * reach + 1))
        # the date's log ratio against the background per window slot, and the window
        window = np.empty((m, 2 * reach + 1))
        window_lo = np.empty(m, dtype=np.int64)
        window_hi = np.empty(m, dtype=np.int64)
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
                # A posting's term depends on its record's length slot and its value, and
                # on its date only inside the known day's window: outside it (nearly
                # every posting) the date's likelihood ratio is EXCLUDED, so the term is
                # tabulated once per known item instead of computed per posting.
                if share > 0.0:
                    excluded = EXCLUDED if use_dates else 0.0
                    for b in range(n_slots):
                        g = rated_gain[j, b] + excluded
                        for v in range(k):
                            fixed[j, b, v] = _log_add(log_omega, g + rows[j, v]) - missed[j, b]
                window_lo[j] = 2 * reach + 1
                window_hi[j] = -1
                if not use_dates:
                    continue
                dates[j, :] = -np.inf
                span_lo, span_hi = 2 * reach + 1, -1  # the slots the known day can reach
                for o in range(-w, w + 1):
                    x = aux_day[t, j] + o - day_origin
                    if 0 <= x < n_days:
                        e = period_start[x] - aux_day[t, j]
                        if -reach <= e <= reach:
                            slot = e + reach
                            span_lo, span_hi = min(span_lo, slot), max(span_hi, slot)
                            p = day_pmf[o + w]
                            if dates[j, slot] == -np.inf:
                                dates[j, slot] = np.log(p) if p > 0 else -np.inf
                            elif p > 0:
                                dates[j, slot] = _log_add(dates[j, slot], np.log(p))
                for slot in range(span_lo, span_hi + 1):
                    x = aux_day[t, j] + slot - reach - day_origin
                    window[j, slot] = -np.inf
                    if dates[j, slot] > -np.inf and 0 <= x < n_days:
                        window[j, slot] = dates[j, slot] - day_background[x]
                        window_lo[j] = min(window_lo[j], slot)
                        window_hi[j] = max(window_hi[j], slot)
            postings = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                postings += item_ptr[item + 1] - item_ptr[item]
            dense = postings >= dense_share * n_records
            n_touched = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                if item_share[item] <= 0.0:
                    continue
                lo, hi = item_ptr[item], item_ptr[item + 1]
                if dense:
                    _add_fixed_dense(
                        scores, post_record[lo:hi], post_rating[lo:hi], length_slot, fixed[j]
                    )
                else:
                    n_touched = _add_fixed_sparse(
                        scores, seen, touched, n_touched, post_record[lo:hi],
                        post_rating[lo:hi], length_slot, fixed[j],
                    )  # fmt: skip
                if use_dates and window_lo[j] <= window_hi[j]:
                    # a posting's window slot is its day less the known day's, plus reach
                    _add_window(
                        scores, post_record[lo:hi], post_rating[lo:hi], post_day[lo:hi],
                        length_slot, aux_day[t, j] - reach, window_lo[j], window_hi[j],
                        window[j], rows[j], rated_gain[j], missed[j], fixed[j], log_omega,
                    )  # fmt: skip
            # The spread is summed about the mean in a second pass: one target's scores
            # may agree to 1e-6 around -20, where s2 / n - mean^2 keeps two digits.
            if dense:
                m1, m2, arg, n_top, s1 = _dense_summary(scores, base, length_slot)
                mean = s1 / n_records
                z, weighted, squares = _dense_entropy(scores, m1, mean)
                sd = np.sqrt(squares / n_records)
                tr = true_record[t]
                ts = scores[tr] if tr >= 0 else 0.0
            else:
                # the records' full scores: their length's base plus what their items added
                m1 = -np.inf
                m2 = -np.inf
                arg = -1
                n_top = 0
                s1 = 0.0
                free[:] = slot_count
                for i in range(n_touched):
                    r = touched[i]
                    v = scores[r] + base[length_slot[r]]
                    scores[r] = v
                    free[length_slot[r]] -= 1
                    s1 += v
                    m1, m2, arg, n_top = _top_two(v, r, m1, m2, arg, n_top)
                for b in range(n_slots):
                    if free[b] <= 0:
                        continue
                    v = base[b]
                    s1 += free[b] * v
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
                z = 0.0
                weighted = 0.0
                squares = 0.0
                for i in range(n_touched):
                    x = scores[touched[i]] - m1
                    e = exp_nonpositive(x)
                    z += e
                    weighted += e * x
                    d = scores[touched[i]] - mean
                    squares += d * d
                for b in range(n_slots):
                    if free[b] > 0:
                        x = base[b] - m1
                        e = free[b] * exp_nonpositive(x)
                        z += e
                        weighted += e * x
                        d = base[b] - mean
                        squares += free[b] * d * d
                sd = np.sqrt(squares / n_records)
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
            if dense:
                scores[:] = 0.0
            for i in range(n_touched):
                r = touched[i]
                scores[r] = 0.0
                seen[r] = False
    return (
        best, top, second, sigma, ties, true_score, true_probability, entropy_bits,
        best_probability,
    )  # fmt: skip
