"""Compiled kernels (numba): the Scoreboard-RH scan and the anonymity-set count.

Over 400 lines on purpose: the kernels share small compiled helpers (the binary search,
the vectorizing exp) that numba inlines per module, and numba's on-disk cache is kept
per module; one module compiles and caches them once.

Both run in parallel over targets. For Scoreboard-RH each worker owns a score buffer
over all records. A target whose known items have few raters is scored sparsely (a
list of the records it touched, so resetting costs only what was touched); one whose
items reach a sizeable share of the records is scored densely, and the per-record
passes (moments, maximum, the entropic sum) then run over the whole buffer as
vectorized loops. Both give the same figures: records that share no item with the
auxiliary information score 0 and are counted as such.

Speed notes (measured on the full-scale synthetic Netflix data, bench/RESULTS.md):
posting loops use unsigned indices and float32 tables so that they compile without
negative-index checks (2.3 -> 0.9 ns per posting); the exponential of the entropic
output is a polynomial that vectorizes (libm's ``exp`` does not); the maximum is
taken on the float32 bit patterns as int32, which preserves the order of the
non-negative scores and vectorizes where a float maximum does not.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

__all__ = [
    "NO_ROWS",
    "anonymity_sets",
    "exp_nonpositive",
    "known_values",
    "match_counts",
    "scoreboard",
]

# Clamp of the entropic exponent (in sigmas below the best score): e^-40 = 4.2e-18, so
# computing e^-40 instead of a smaller term moves a sum whose largest term is 1 by at
# most n * 4.2e-18 (2e-12 for 480,189 records).
_FLOOR = -40.0
# 1 / k! for k = 0..12: the Taylor polynomial of exp_nonpositive.
_INV_FACTORIAL = np.array([1.0 / np.prod(np.arange(1.0, k + 1)) for k in range(13)])
# A target is scored densely when its known items' postings reach this share of the
# records: below it the sparse touched list is cheaper than whole-buffer passes.
DENSE_SHARE = 0.25
#: ``scoreboard``'s ``rating_rows`` when the rating term comes from ``rating_sim``.
NO_ROWS = np.zeros((0, 1, 1), dtype=np.float32)
# Dense summaries look for the top two scores block by block: a block whose maximum
# is below the running second best is passed over after one vectorized pass.
_BLOCK = 4096
# Reassociation lets LLVM vectorize the float sums; no NaN/Inf assumption is made.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@numba.njit(cache=True, fastmath=_FAST)
def exp_nonpositive(x: float) -> float:
    """e^x for x <= 0, computed as e^-40 below -40; relative error below 5e-11.

    A Taylor polynomial of degree 12 at x / 64 (|x / 64| <= 0.625: truncation error
    3.6e-13) squared six times, which multiplies the relative error by 64. Plain
    arithmetic, so a loop calling it vectorizes.

    Examples
    --------
    >>> bool(abs(exp_nonpositive(-1.0) / np.exp(-1.0) - 1) < 5e-11)
    True
    """
    y = max(x, _FLOOR) * (1.0 / 64.0)
    p = _INV_FACTORIAL[12]
    for k in range(11, -1, -1):
        p = p * y + _INV_FACTORIAL[k]
    for _ in range(6):
        p = p * p
    return p


@numba.njit(cache=True, inline="always")
def _similarity(
    rating_row: np.ndarray,
    rating: int,
    known_day: np.int32,
    day: np.int32,
    last: np.int32,
    date_sim: np.ndarray,
    use_dates: bool,
) -> np.float32:
    """Rating (and date) similarity of one posting to one known rating, float32."""
    s = rating_row[rating]
    if use_dates:
        gap = abs(known_day - day)
        gap = gap if gap < last else last
        s += date_sim[np.uint32(gap)]
    return s


@numba.njit(cache=True, fastmath=_FAST)
def _add_item_dense(
    scores: np.ndarray,
    records: np.ndarray,
    ratings: np.ndarray,
    days: np.ndarray,
    weight: np.float32,
    rating_row: np.ndarray,
    known_day: int,
    date_sim: np.ndarray,
    use_dates: bool,
) -> float:
    """Add one known item's similarity to every record that rated it.

    Returns the sum of the similarities (before weighting), which the centred scorer
    needs (:mod:`audits._centered`); Scoreboard-RH ignores it.
    """
    last = np.int32(len(date_sim) - 1)
    day = np.int32(known_day)
    total = 0.0
    for k in range(len(records)):
        s = _similarity(rating_row, ratings[k], day, days[k], last, date_sim, use_dates)
        total += np.float64(s)
        scores[np.uint32(records[k])] += weight * s
    return total


@numba.njit(cache=True, fastmath=_FAST)
def _add_item_sparse(
    scores: np.ndarray,
    touched: np.ndarray,
    n_touched: int,
    records: np.ndarray,
    ratings: np.ndarray,
    days: np.ndarray,
    weight: np.float32,
    rating_row: np.ndarray,
    known_day: int,
    date_sim: np.ndarray,
    use_dates: bool,
) -> tuple[int, float]:
    """As :func:`_add_item_dense`, appending first-touched records.

    Returns the count of touched records and the sum of the similarities.
    """
    last = np.int32(len(date_sim) - 1)
    day = np.int32(known_day)
    total = 0.0
    for k in range(len(records)):
        r = np.uint32(records[k])
        s = _similarity(rating_row, ratings[k], day, days[k], last, date_sim, use_dates)
        total += np.float64(s)
        # branch-free "first touch": always write, advance only if new (a touched
        # record's score is > 0: every similarity and weight used is)
        touched[np.uint32(n_touched)] = r
        n_touched += scores[r] == 0.0
        scores[r] += weight * s
    return n_touched, total


@numba.njit(cache=True, inline="always")
def _top_two(
    v: float, r: int, m1: float, m2: float, arg: int, n_top: int
) -> tuple[float, float, int, int]:
    """One step of the running best and second-best score, best record, ties.

    Among ties the lowest record number is the best.
    """
    if v > m1:
        return v, m1, r, 1
    if v == m1:
        return m1, m1, min(arg, r), n_top + 1
    if v > m2:
        return m1, v, arg, n_top
    return m1, m2, arg, n_top


@numba.njit(cache=True, fastmath=_FAST)
def _block_moments(scores: np.ndarray, bits: np.ndarray) -> tuple[float, float, int]:
    """Sum, sum of squares and largest bit pattern of one block of scores."""
    s1 = 0.0
    s2 = 0.0
    block_max = 0
    for k in range(len(scores)):
        v = np.float64(scores[k])
        s1 += v
        s2 += v * v
        block_max = max(block_max, bits[k])
    return s1, s2, block_max


@numba.njit(cache=True, fastmath=_FAST)
def _dense_summary(scores: np.ndarray) -> tuple[float, float, int, int, float, float]:
    """Best and second-best score, best record, ties, sum and sum of squares."""
    bits = scores.view(np.int32)  # order-preserving for non-negative floats
    m1 = 0.0
    m2 = 0.0
    m2_bits = np.int32(0)
    arg = -1
    n_top = 0
    s1 = 0.0
    s2 = 0.0
    n = len(scores)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        # slices, not offsets: loops over range(len) vectorize (no negative-index checks)
        b_s1, b_s2, block_max = _block_moments(scores[b0:b1], bits[b0:b1])
        s1 += b_s1
        s2 += b_s2
        if block_max == 0 or block_max < m2_bits:
            continue  # nothing here reaches the second best
        for k in range(b0, b1):
            m1, m2, arg, n_top = _top_two(np.float64(scores[k]), k, m1, m2, arg, n_top)
        m2_bits = np.array([np.float32(m2)]).view(np.int32)[0]
    return m1, m2, arg, n_top, s1, s2


@numba.njit(cache=True, fastmath=_FAST)
def _dense_entropy(scores: np.ndarray, m1: float, inverse_sd: float) -> tuple[float, float]:
    """Sum over all records of e = exp((v - m1) / sd) and of e * (v - m1) / sd; resets."""
    z = 0.0
    weighted = 0.0
    for k in range(len(scores)):
        x = (np.float64(scores[k]) - m1) * inverse_sd
        e = exp_nonpositive(x)
        z += e
        weighted += e * x
        scores[k] = 0.0
    return z, weighted


@numba.njit(cache=True, fastmath=_FAST)
def _sparse_summary(
    scores: np.ndarray, touched: np.ndarray, n_touched: int
) -> tuple[float, float, int, int, float, float]:
    """As :func:`_dense_summary` over the touched records (the others score 0)."""
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
        m1, m2, arg, n_top = _top_two(v, r, m1, m2, arg, n_top)
    return m1, m2, arg, n_top, s1, s2


@numba.njit(cache=True, fastmath=_FAST)
def _sparse_entropy(
    scores: np.ndarray, touched: np.ndarray, n_touched: int, m1: float, inverse_sd: float
) -> tuple[float, float]:
    """As :func:`_dense_entropy` over the touched records only; resets them."""
    z = 0.0
    weighted = 0.0
    for k in range(n_touched):
        r = touched[k]
        x = (np.float64(scores[r]) - m1) * inverse_sd
        e = exp_nonpositive(x)
        z += e
        weighted += e * x
    for k in range(n_touched):
        scores[touched[k]] = 0.0
    return z, weighted


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
    dense_share: float,
    record_scale: np.ndarray,
    rating_rows: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Score every record against each target's auxiliary information.

    Score(aux, r) = sum over aux items i of wt(i) * (rating_sim[|rating diff|] +
    date_sim[|day diff|]), accumulated in float32; records that did not rate i get
    nothing for i. Targets are split into ``n_chunks`` blocks run in parallel.

    Parameters
    ----------
    rating_sim, date_sim : float32 arrays
        Similarity by absolute rating difference (scale steps) and by day gap
        (longer gaps use the last entry).
    dense_share : float
        Score a target densely when its items' postings reach this share of
        ``n_records`` (0: always, inf: never); the figures do not depend on it.
    record_scale : float32 array
        When not empty, each record's accumulated score is multiplied by its entry
        before the summary (the cosine scorer divides by the record's norm).
    rating_rows : float32 array
        When not empty, (targets, known items, scale positions): the term of target t's
        known item j for a record that rated it at position v, used instead of
        ``rating_sim`` (the centred cosine: a product of centred ratings).

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
    best_probability : float64 array
        The probability it puts on the best record (the entropic attacker's posterior).
    """
    n_targets, m = aux_items.shape
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
        rows = np.empty((m, n_levels), dtype=np.float32)
        first = chunk * n_targets // n_chunks
        stop = (chunk + 1) * n_targets // n_chunks
        for t in range(first, stop):
            postings = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                postings += item_ptr[item + 1] - item_ptr[item]
                for v in range(n_levels):
                    if len(rating_rows):
                        rows[j, v] = rating_rows[t, j, v]
                    else:
                        rows[j, v] = rating_sim[abs(aux_rating[t, j] - v)]
            dense = postings >= dense_share * n_records
            n_touched = 0
            for j in range(aux_len[t]):
                item = aux_items[t, j]
                w = np.float32(weights[item])
                if w == 0.0:
                    continue
                lo, hi = item_ptr[item], item_ptr[item + 1]
                if dense:
                    _add_item_dense(
                        scores,
                        post_record[lo:hi],
                        post_rating[lo:hi],
                        post_day[lo:hi],
                        w,
                        rows[j],
                        aux_day[t, j],
                        date_sim,
                        use_dates,
                    )
                else:
                    n_touched, _ = _add_item_sparse(
                        scores,
                        touched,
                        n_touched,
                        post_record[lo:hi],
                        post_rating[lo:hi],
                        post_day[lo:hi],
                        w,
                        rows[j],
                        aux_day[t, j],
                        date_sim,
                        use_dates,
                    )
            if len(record_scale):
                if dense:
                    for r in range(n_records):
                        scores[r] *= record_scale[r]
                else:
                    for k in range(n_touched):
                        scores[touched[k]] *= record_scale[touched[k]]
            if dense:
                m1, m2, arg, n_top, s1, s2 = _dense_summary(scores)
            else:
                m1, m2, arg, n_top, s1, s2 = _sparse_summary(scores, touched, n_touched)
            if m1 == 0.0:  # nobody shares an item: every record ties at 0
                arg = 0
                n_top = n_records
                m2 = 0.0
            mean = s1 / n_records
            sd = np.sqrt(max(s2 / n_records - mean * mean, 0.0))
            tr = true_record[t]
            ts = np.float64(scores[tr]) if tr >= 0 else 0.0
            if sd > 0.0:
                inverse_sd = 1.0 / sd
                if dense:
                    z, weighted = _dense_entropy(scores, m1, inverse_sd)
                else:
                    z, weighted = _sparse_entropy(scores, touched, n_touched, m1, inverse_sd)
                    # untouched records score 0
                    x0 = -m1 * inverse_sd
                    e0 = (n_records - n_touched) * exp_nonpositive(x0)
                    z += e0
                    weighted += e0 * x0
                p_true = exp_nonpositive((ts - m1) * inverse_sd) / z if tr >= 0 else 0.0
                h = np.log(z) - weighted / z
                p_best = 1.0 / z
            else:
                if dense:
                    scores[:] = 0.0
                else:
                    for k in range(n_touched):
                        scores[touched[k]] = 0.0
                p_true = 1.0 / n_records if tr >= 0 else 0.0
                h = np.log(n_records)
                p_best = 1.0 / n_records
            best[t] = arg
            top[t] = m1
            second[t] = m2
            sigma[t] = sd
            ties[t] = n_top
            true_score[t] = ts
            true_probability[t] = p_true
            entropy_bits[t] = h / np.log(2.0)
            best_probability[t] = p_best
    return (
        best, top, second, sigma, ties, true_score, true_probability, entropy_bits,
        best_probability,
    )  # fmt: skip


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
def match_counts(
    item_ptr: np.ndarray,
    item_record: np.ndarray,
    record_ptr: np.ndarray,
    record_item: np.ndarray,
    record_rating: np.ndarray,
    record_day: np.ndarray,
    known_items: np.ndarray,
    known_ratings: np.ndarray,
    known_days: np.ndarray,
    own: np.ndarray,
    day_tolerance: int,
    use_dates: bool,
    period_of: np.ndarray,
    period_origin: int,
) -> tuple:
    """Count the records of a table that match what an adversary knows of each target.

    Parameters
    ----------
    item_ptr, item_record, record_ptr, record_item, record_rating, record_day
        The scanned table's item and record posting indexes.
    known_items, known_ratings, known_days : int arrays (T, m)
        What the adversary knows of each target: items (rarest first in the scanned
        table: the scan walks the first item's raters), rating positions and days.
    own : int array (T,)
        Each target's own record in the scanned table, -1 when it has none.
    period_of : int64 array (P, days)
        Row p: the first day of the period of day ``period_origin + x``, for each period
        of :data:`publisher.core.periods.PERIODS`; no rows when the table has no dates
        (then every column 3 + p equals column 0).

    Returns
    -------
    (int64 array (T, 3 + P), bool array (T, 3 + P))
        Matching records when matching on (0) the items alone, (1) items and exact
        ratings, (2) items, exact ratings and dates within ``day_tolerance`` days
        (column 2 equals column 1 when ``use_dates`` is false), (3 + p) items and the
        period p of each date (what dates coarsened to p tell); and whether the target's
        own record is among them.
    """
    n_targets, m = known_items.shape
    n_periods = period_of.shape[0]
    n_days = period_of.shape[1]
    width = 3 + max(n_periods, 1)
    sizes = np.zeros((n_targets, width), dtype=np.int64)
    own_match = np.zeros((n_targets, width), dtype=np.bool_)
    for t in prange(n_targets):
        first = known_items[t, 0]
        same_period = np.ones(max(n_periods, 1), dtype=np.bool_)
        for p in range(item_ptr[first], item_ptr[first + 1]):
            v = item_record[p]
            same_items = True
            same_ratings = True
            same_days = True
            same_period[:] = True
            for j in range(m):
                pos = _find(record_item, record_ptr[v], record_ptr[v + 1], known_items[t, j])
                if pos < 0:
                    same_items = False
                    break
                if record_rating[pos] != known_ratings[t, j]:
                    same_ratings = False
                if abs(np.int64(record_day[pos]) - known_days[t, j]) > day_tolerance:
                    same_days = False
                if n_periods:
                    a = known_days[t, j] - period_origin
                    b = np.int64(record_day[pos]) - period_origin
                    inside = 0 <= a < n_days and 0 <= b < n_days
                    for q in range(n_periods):
                        if not inside or period_of[q, a] != period_of[q, b]:
                            same_period[q] = False
            if same_items:
                sizes[t, 0] += 1
                own_match[t, 0] |= v == own[t]
                for q in range(len(same_period)):
                    if same_period[q]:
                        sizes[t, 3 + q] += 1
                        own_match[t, 3 + q] |= v == own[t]
                if same_ratings:
                    sizes[t, 1] += 1
                    own_match[t, 1] |= v == own[t]
                    if same_days or not use_dates:
                        sizes[t, 2] += 1
                        own_match[t, 2] |= v == own[t]
    return sizes, own_match


def known_values(
    record_ptr: np.ndarray,
    record_item: np.ndarray,
    record_rating: np.ndarray,
    record_day: np.ndarray,
    targets: np.ndarray,
    known: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The rating positions and days of each target's ``known`` items in its own record."""
    ratings = np.empty(known.shape, dtype=np.int64)
    days = np.empty(known.shape, dtype=np.int64)
    for t, record in enumerate(targets):
        lo, hi = record_ptr[record], record_ptr[record + 1]
        pos = lo + np.searchsorted(record_item[lo:hi], known[t])
        ratings[t] = record_rating[pos]
        days[t] = record_day[pos]
    return ratings, days


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
    """Count the records that match each target on all its known items, in one table.

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
    ratings, days = known_values(record_ptr, record_item, record_rating, record_day, targets, known)
    sizes, _ = match_counts(
        item_ptr, item_record, record_ptr, record_item, record_rating, record_day,
        known, ratings, days, targets.astype(np.int64), day_tolerance, use_dates,
        np.zeros((0, 0), np.int64), 0,
    )  # fmt: skip
    return sizes[:, :3]
