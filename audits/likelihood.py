"""The policy-aware likelihood scorer: the posterior over released records, given the policy.

An attacker reads the bundle's policy.yaml: it says how the release was made. The scorer
turns that into a model of the release (a :class:`Channel`: randomized response's keep
probability, the date steps, deletions, the history cap, the sample of customers) and
scores every released record by the likelihood ratio of "this record is the target"
against "it is somebody else" (:mod:`audits._likelihood`):

* a known item the record rated adds log(omega + (1 - omega) s / q * f): s the chance one
  of the target's ratings survived (deletions, the cap), q the chance a record of this
  length holds the item by chance (its share of the release's ratings, length-aware),
  f = P(released value and date | the known ones) / P(released value and date): the value
  through randomized response and the adversary's rating tolerance, the date through
  the adversary's tolerance, jitter, re-dating and coarsening (a coarsened date matches
  by membership of its period);
* a known item it did not rate adds log of the chance a survivor is missing;
* omega is the share of wrong items the adversary declares (floored at 0.001: nobody is
  ruled out by one missing item).

The posterior of record r is prior x LR(r) normalized over the records and the chance,
from the sampling fraction, that the target is not released at all. The attacker claims
the best record when its posterior reaches the threshold (0.9 by default). Everything
the scorer uses comes from the public bundle: the policy, and the release's own counts
(each item's raters, its rating histogram, the release's date histogram).

Approximations, stated: record lengths are grouped into at most :data:`LENGTH_SLOTS`
geometric buckets; a customer at the history cap is assumed to have kept half of their
ratings; the background date distribution is the release's over all items; the steps'
randomness is modelled per rating (jitter is drawn per customer and day). Its claims'
precision is measured, not assumed: on the targets and on the control set.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from audits._index import IndexedTable
from audits._kernels import DENSE_SHARE
from audits._likelihood import likelihood_scoreboard
from audits.scoreboard import AttackOutcome, AuxiliaryInformation, outcome_of
from publisher.core.channel import IDENTITY, Channel
from publisher.core.periods import period_starts

__all__ = ["CAP_SURVIVAL", "IDENTITY", "LENGTH_SLOTS", "Channel", "attack_likelihood"]

#: Record lengths are grouped into at most this many geometric buckets.
LENGTH_SLOTS = 256
#: Share of a capped customer's ratings the scorer assumes survived the cap.
CAP_SURVIVAL = 0.5
#: The least wrong-item rate the scorer allows (no record is ruled out by one item).
MIN_WRONG_RATE = 1e-3


def _length_slots(table: IndexedTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each record's bucket, the buckets' mean lengths and counts (cached on the table)."""
    cached = table.__dict__.get("_likelihood_slots")
    if cached is not None:
        return cached
    lengths = table.by_record.support().astype(np.float64)
    top = max(float(lengths.max(initial=1.0)), 1.0)
    edges = np.unique(np.rint(np.geomspace(1.0, top + 1.0, LENGTH_SLOTS + 1)))
    slot = (np.searchsorted(edges, lengths, side="right") - 1).clip(0, len(edges) - 1)
    _, slot = np.unique(slot, return_inverse=True)
    count = np.bincount(slot).astype(np.int64)
    mean = np.bincount(slot, weights=lengths) / np.maximum(count, 1)
    # uint8 (at most LENGTH_SLOTS = 256 buckets): the kernel reads it once per posting, at
    # random; a quarter of int32's bytes keeps it in cache (480 KB for Netflix's customers)
    result = (slot.astype(np.uint8), mean, count)
    table.__dict__["_likelihood_slots"] = result
    return result


def _rating_tables(table: IndexedTable, channel: Channel, steps: int) -> tuple[np.ndarray, ...]:
    """Log P(released v | known a) (k x k) and each item's log P(released v) (items x k)."""
    k = table.ratings.scale.k
    # the adversary's value: the true one plus a uniform offset of -steps..steps, clipped
    offsets = np.arange(-steps, steps + 1)
    given = np.zeros((k, k))  # P(known a | true t), rows t
    for t in range(k):
        for a in np.clip(t + offsets, 0, k - 1):
            given[t, a] += 1.0 / len(offsets)
    true_given_known = given.T / np.maximum(given.T.sum(axis=1, keepdims=True), 1e-300)
    if channel.keep_probability is None or k < 2:
        noise = np.eye(k)
    else:
        keep = channel.keep_probability
        noise = np.full((k, k), (1 - keep) / (k - 1))
        np.fill_diagonal(noise, keep)
    known = np.log(np.maximum(true_given_known @ noise, 1e-12))
    background = table.__dict__.get("_likelihood_background")
    if background is None:  # depends on the table alone: computed once per table
        index = table.by_item
        n_items = len(index.ptr) - 1
        items = np.repeat(np.arange(n_items, dtype=np.int64), np.diff(index.ptr))
        counts = np.bincount(items * k + index.rating, minlength=n_items * k)
        counts = counts.reshape(n_items, k).astype(np.float64)
        background = np.log((counts + 0.5) / (counts.sum(axis=1, keepdims=True) + 0.5 * k))
        table.__dict__["_likelihood_background"] = background
    return known, background


def _released_days(table: IndexedTable) -> tuple[int, np.ndarray]:
    """The release's first day and its ratings per day from there (cached on the table).

    Computed once per table: every target, knowledge model and adversary shares it (at
    Netflix scale it is a pass over 100M dates, which per call cost more than scoring).
    """
    cached = table.__dict__.get("_likelihood_days")
    if cached is not None:
        return cached
    days = table.by_item.day
    first = int(days.min()) if len(days) else 0
    histogram = np.bincount(days - np.int32(first)).astype(np.float64) if len(days) else np.zeros(1)
    table.__dict__["_likelihood_days"] = (first, histogram)
    return first, histogram


def _date_tables(
    table: IndexedTable, aux: AuxiliaryInformation, channel: Channel
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The pmf of the released date around the known day, periods, background, origin."""
    d, j = aux.date_days, channel.shift_days
    pmf = np.ones(2 * d + 1) / (2 * d + 1)  # the true day, around the known one
    if j:
        pmf = np.convolve(pmf, np.ones(2 * j + 1) / (2 * j + 1))
    if channel.redate_fraction and channel.redate_days:
        move = np.ones(2 * channel.redate_days + 1)
        move[channel.redate_days] = 0.0
        moved = np.convolve(pmf, move / move.sum())
        pad = channel.redate_days
        pmf = (1 - channel.redate_fraction) * np.pad(pmf, pad) + channel.redate_fraction * moved
    w = (len(pmf) - 1) // 2
    first, histogram = _released_days(table)
    known = aux.day[aux.length[:, None] > np.arange(aux.day.shape[1])[None, :]]
    last = first + len(histogram) - 1
    # the span of the release's and the knowledge's days, padded by the widest window;
    # the background's smoothing spreads over these days only (from day 0, the epoch,
    # 0.5 a day outweighed a small release's own dates)
    lo = int(min(first, known.min(initial=first))) - w - 370
    hi = int(max(last, known.max(initial=last))) + w + 370
    span = np.arange(lo, hi + 1)
    starts = period_starts(span, channel.period).astype(np.int64) if len(span) else span
    counts = np.zeros(len(span))
    counts[first - lo : first - lo + len(histogram)] = histogram
    possible = starts == span  # a released date is always a period start
    smoothed = (counts + 0.5 * possible) / (counts.sum() + 0.5 * possible.sum())
    background = np.where(possible, np.log(np.maximum(smoothed, 1e-300)), 0.0)
    return pmf, starts, background, lo


def attack_likelihood(
    table: IndexedTable,
    aux: AuxiliaryInformation,
    true_records: np.ndarray,
    phi: float,
    *,
    channel: Channel = IDENTITY,
    threshold: float = 0.9,
    dense_share: float = DENSE_SHARE,
) -> AttackOutcome:
    """Score every record of ``table`` by the posterior of being each target.

    Parameters
    ----------
    table : IndexedTable
    aux : AuxiliaryInformation
    true_records : numpy.ndarray
        Each target's record number in ``table``, -1 when it has none.
    phi : float
        The eccentricity rule's threshold, reported beside the posterior rule.
    channel : Channel
        The release's making, as the public policy states it.
    threshold : float
        The posterior a claim needs.
    dense_share : float
        When a target is scored densely (see :func:`audits._kernels.scoreboard`).

    Returns
    -------
    AttackOutcome
        Claims by posterior.
    """
    if len(true_records) != len(aux.items):
        raise ValueError(f"{len(true_records)} true records for {len(aux.items)} targets")
    slot, slot_length, slot_count = _length_slots(table)
    index = table.by_item
    share = index.support().astype(np.float64) / max(len(index.other), 1)
    known, background = _rating_tables(table, channel, aux.rating_steps)
    use_dates = aux.use_dates and index.has_dates
    if use_dates:
        pmf, starts, day_background, origin = _date_tables(table, aux, channel)
    else:
        pmf, starts, day_background, origin = np.ones(1), np.zeros(1, np.int64), np.zeros(1), 0
    survival = np.full(len(slot_length), 1.0 - channel.deletion)
    if channel.cap is not None:
        survival[slot_length >= channel.cap] *= CAP_SURVIVAL
    n = max(table.records.n, 1)
    prior = min(max(channel.sample, 1e-12), 1.0)
    log_absent = math.log((1 - prior) / prior * n) if prior < 1 else -1e300
    scored = likelihood_scoreboard(
        index.ptr, index.other, index.rating, index.day, slot, slot_length, slot_count,
        share, known, background, pmf, starts, day_background, origin,
        channel.period != "day", survival, math.log(max(aux.wrong_rate, MIN_WRONG_RATE)),
        aux.items, aux.rating, aux.day, aux.length, use_dates, log_absent,
        true_records.astype(np.int64), 8 * numba.get_num_threads(), dense_share,
    )  # fmt: skip
    outcome = outcome_of(scored, true_records, phi, top_must_be_positive=False)
    return outcome.by_posterior(threshold)  # type: ignore[return-value]
