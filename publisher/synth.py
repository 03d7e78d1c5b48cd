"""Synthetic ratings with the marginals of Netflix Prize or MovieLens, vectorized.

The Netflix Prize data (100,480,507 ratings, 480,189 customers, 17,770 movies) may
not be redistributed; this generator reproduces its published shape so the tool
can be measured at that scale:

* ratings per customer: log-normal with median 96 and mean 209;
* ratings per movie: log-normal with median 561 and mean 5,654, the most-rated
  movie capped at 48.5% of the customers (Netflix: 232,944 of 480,189) and every
  movie rated at least once. A customer cannot rate a movie twice, so heavy raters
  saturate the popular movies; the sampling weights are calibrated (see
  :func:`_calibrate_weights`) so that the counts after that saturation, not before,
  have the target shape;
* rating histogram 1-5 close to Netflix's (4.6%, 10.1%, 28.7%, 33.6%, 23.0%), from
  customer and movie biases plus noise, cut at the histogram's quantiles;
* dates from 1999-11-11 to 2005-12-31, uniform within a per-customer activity
  window (later starts are more likely, as the service grew); a movie released during
  those years (39% of Netflix's catalogue, by year as in its ``movie_titles.txt``) is
  rated only once out on DVD, so its ratings crowd its first months. Without that
  crowding, two known ratings with dates within 3 days singled out 78.2% of customers
  at full scale against the 68% Narayanan and Shmatikov measured; with it, 69.8%
  (``bench/ns_uniqueness.py``).

``scale`` multiplies the numbers of customers and movies. No (customer, movie)
pair repeats. Everything is drawn from one seeded generator.
"""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from publisher.core.errors import PublisherError
from publisher.core.ratings import EPOCH, row_chunks, sorted_unique
from publisher.engine.output import check_file_output

__all__ = ["PRESETS", "SynthPreset", "synthesize", "write_synthetic"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SynthPreset:
    """The marginals a synthetic dataset reproduces."""

    users: int
    items: int
    per_user_median: float
    per_user_mean: float
    per_item_median: float
    per_item_mean: float
    histogram: tuple[float, ...]
    values: tuple[float, ...]
    first_day: str
    last_day: str
    #: Shares of the movies first released in each year of the data's span (the rest
    #: are older): such a movie is rated only from its release on.
    release_years: tuple[tuple[int, float], ...] = ()


PRESETS = {
    "netflix": SynthPreset(
        users=480_189, items=17_770, per_user_median=96, per_user_mean=209,
        per_item_median=561, per_item_mean=5654,
        histogram=(0.046, 0.101, 0.287, 0.336, 0.230), values=(1, 2, 3, 4, 5),
        first_day="1999-11-11", last_day="2005-12-31",
        # movie_titles.txt: 6,937 of the 17,763 movies with a year came out 2000-2005
        release_years=((2000, 0.069), (2001, 0.067), (2002, 0.074), (2003, 0.072),
                       (2004, 0.081), (2005, 0.029)),
    ),
    # MovieLens latest-small: 610 users, 9,724 movies, 100,836 half-star ratings.
    "movielens": SynthPreset(
        users=610, items=9_724, per_user_median=70.5, per_user_mean=165.3,
        per_item_median=3, per_item_mean=10.4,
        histogram=(0.014, 0.028, 0.018, 0.075, 0.055, 0.199, 0.130, 0.266, 0.085, 0.131),
        values=(0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5),
        first_day="1996-03-29", last_day="2018-09-24",
    ),
}  # fmt: skip


def _lognormal(median: float, mean: float, size: int, rng: np.random.Generator) -> np.ndarray:
    # median = e^mu, mean = e^(mu + s^2 / 2)
    sigma = math.sqrt(2 * math.log(mean / median))
    return rng.lognormal(math.log(median), sigma, size)


#: Netflix's most-rated movie was rated by 232,944 of 480,189 customers.
MAX_ITEM_SHARE = 0.485


def _item_targets(spec: SynthPreset, n_items: int, n_users: int, total: int,
                  rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Ratings per item: log-normal with the preset's median, capped, summing to ``total``.

    Capping the most popular items loses mass that the mean needs back; rather than
    scaling every count (which would move the median), the log-normal's spread is
    widened by bisection until the capped counts sum to ``total``.
    """
    z = rng.standard_normal(n_items)
    cap = max(1.0, MAX_ITEM_SHARE * n_users)
    median = min(spec.per_item_median, total / n_items)
    floor = min(3.0, median)  # Netflix's least-rated movie has 3 ratings

    def counts(sigma: float) -> np.ndarray:
        return np.clip(median * np.exp(sigma * z), floor, cap)

    lo, hi = 0.0, 6.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if counts(mid).sum() < total else (lo, mid)
    out = counts(hi)
    return out * (total / out.sum())


def _inclusion_rates(
    weights: np.ndarray, draws: np.ndarray, start: np.ndarray | None = None
) -> np.ndarray:
    """Poisson draw rates lambda giving users ``draws`` distinct items on average.

    With draws by ``weights`` (summing to 1), item i is among a user's items with
    probability about 1 - exp(-lambda * w_i), lambda solving
    sum_i (1 - exp(-lambda * w_i)) = d (exact in the limit for draws with replacement
    until d are distinct, and for Efraimidis-Spirakis sampling). Newton's method,
    vectorized over the users, from ``start`` (default lambda = d).
    """
    lam = draws.astype(np.float64) if start is None else start.copy()
    for _ in range(100):
        e = np.exp(-np.outer(lam, weights))
        f = (1.0 - e).sum(axis=1) - draws
        if np.all(np.abs(f) < 1e-6 * draws):
            break
        slope = (e * weights).sum(axis=1)
        lam = np.maximum(lam - f / np.maximum(slope, 1e-300), lam / 2)
    return lam


def _calibrate_weights(target: np.ndarray, per_user: np.ndarray) -> np.ndarray:
    """Sampling weights whose expected counts after de-duplication match ``target``.

    Users are grouped in about 200 log-spaced bins of their rating counts (each bin
    represented by its mean count and its number of users, which keeps the heavy
    tail's mass), so one evaluation costs 200 x items exponentials; the weights are
    rescaled by target / expected until they agree within 0.5%.
    """
    edges = np.unique(np.rint(np.geomspace(1, per_user.max() + 1, 200)))
    bins = np.searchsorted(edges, per_user, side="right")
    members = np.bincount(bins)
    used = np.flatnonzero(members)
    levels = np.bincount(bins, weights=per_user)[used] / members[used]
    members = members[used]
    weights = target / target.sum()
    lam = None
    for _ in range(60):
        lam = _inclusion_rates(weights, levels, lam)
        expected = members @ (1.0 - np.exp(-np.outer(lam, weights)))
        ratio = target / np.maximum(expected, 1e-12)
        if np.max(np.abs(ratio - 1)) < 0.005:
            break
        weights = weights * ratio
        weights /= weights.sum()
    return weights


def _draw_heavy(users: np.ndarray, per_user: np.ndarray, weights: np.ndarray, n_users: int,
                rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Keys item * n_users + user of each heavy user's weighted sample without replacement."""
    keys = []
    for chunk in np.array_split(users, max(1, len(users) // 256)):
        if not len(chunk):
            continue
        scores = rng.exponential(size=(len(chunk), len(weights))) / weights
        for row, user in enumerate(chunk):
            d = int(per_user[user])
            items = np.argpartition(scores[row], d - 1)[:d]
            keys.append(items.astype(np.int64) * n_users + user)
    return np.sort(np.concatenate(keys)) if keys else np.empty(0, np.int64)


def _draw_light(
    need: np.ndarray, cumulative: np.ndarray, n_users: int, rng: np.random.Generator
) -> np.ndarray:
    """Sorted distinct keys item * n_users + user of ``need[u]`` weighted draws per user.

    Drawn in chunks of about 8 million so that the temporaries stay small.
    """
    owners = np.flatnonzero(need)
    ends = np.searchsorted(np.cumsum(need[owners]), np.arange(1, 64) * 8_000_000)
    keys = []
    for chunk in np.split(owners, np.unique(ends)):
        users = np.repeat(chunk.astype(np.int64), need[chunk])
        items = np.searchsorted(cumulative, rng.random(len(users)))
        keys.append(items * n_users + users)
    return sorted_unique(np.concatenate(keys)) if keys else np.empty(0, np.int64)


def synthesize(
    preset: str | SynthPreset, *, scale: float = 1.0, seed: int | None = None
) -> pd.DataFrame:
    """Draw a synthetic ratings table.

    Parameters
    ----------
    preset : {"netflix", "movielens"} or SynthPreset
    scale : float
        Multiplies the numbers of customers and movies (0 < scale <= 10).
    seed : int, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``user`` (int32, 1-based), ``item`` (int32, 1-based), ``rating``
        (float32), ``date`` (int32 days since 1970-01-01); sorted by item, then user.
    """
    spec = PRESETS[preset] if isinstance(preset, str) else preset
    if not 0 < scale <= 10:
        raise PublisherError(f"scale must be in (0, 10], got {scale}")
    rng = np.random.default_rng(seed)
    n_users = max(2, round(spec.users * scale))
    n_items = max(2, round(spec.items * scale))
    per_user = np.clip(np.rint(_lognormal(spec.per_user_median, spec.per_user_mean, n_users, rng)),
                       1, max(1, int(0.8 * n_items))).astype(np.int64)  # fmt: skip
    target = _item_targets(spec, n_items, n_users, int(per_user.sum()), rng)
    weights = _calibrate_weights(target, per_user)
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    # Heavy raters (more than an eighth of the items) are drawn exactly: weighted
    # sampling without replacement (Efraimidis-Spirakis: the d smallest of E_i / w_i
    # with E_i exponential), O(items) each. The others draw with replacement by
    # weight, drop repeated (user, item) pairs and top up whoever is left short; for
    # them a few rounds suffice. Keys are item * n_users + user: sorted keys are the
    # output order (by item, then user).
    heavy = per_user > n_items // 8
    parts = [_draw_heavy(np.flatnonzero(heavy), per_user, weights, n_users, rng)]
    need = np.where(heavy, 0, per_user)
    light_total = int(need.sum())
    drawn = _draw_light(need, cumulative, n_users, rng)
    have = np.bincount(drawn % n_users, minlength=n_users)
    extra: list[np.ndarray] = []
    for _ in range(15):
        need = np.where(heavy, 0, np.maximum(per_user - have, 0))
        if need.sum() <= 0.001 * light_total:  # a 0.1% shortfall is not worth a round
            break
        fresh = _draw_light(need, cumulative, n_users, rng)
        # drop pairs the short users already have (only theirs can repeat)
        short = need > 0
        taken = np.concatenate([drawn[short[drawn % n_users]], *extra])
        taken.sort(kind="stable")  # sorted runs: timsort merges them in O(n log runs)
        if len(taken):
            pos = np.minimum(np.searchsorted(taken, fresh), len(taken) - 1)
            fresh = fresh[taken[pos] != fresh]
        del taken
        extra.append(fresh)
        have += np.bincount(fresh % n_users, minlength=n_users)
    logger.debug("light raters short by %d of %d ratings", int(need.sum()), light_total)
    parts += [drawn, *extra]
    del drawn, extra
    # Every item is rated at least once (Netflix's least-rated movie has 3 ratings):
    # an item the draws missed gets one rating from a random user.
    rated = np.zeros(n_items, bool)
    for part in parts:
        rated[part // n_users] = True
    missed = np.flatnonzero(~rated)
    parts.append(missed * n_users + rng.integers(0, n_users, len(missed)))
    seen = np.concatenate(parts)
    del parts
    # In place; the parts are disjoint sorted runs, which timsort ("stable") merges
    # about 15x faster than quicksort sorts them (1.9 s -> 0.1 s for 26M keys).
    seen.sort(kind="stable")
    n = len(seen)
    users = np.empty(n, np.int32)
    items = np.empty(n, np.int32)
    for lo, hi in row_chunks(n):
        users[lo:hi] = seen[lo:hi] % n_users
        items[lo:hi] = seen[lo:hi] // n_users
    del seen
    # Ratings: biases plus noise, cut at the target histogram's quantiles. Chunks draw
    # the same numbers as one call would, with 8M-row temporaries instead of 100M.
    user_bias = rng.normal(0, 0.6, n_users)
    item_bias = rng.normal(0, 0.6, n_items)
    latent = np.empty(n)
    for lo, hi in row_chunks(n):
        latent[lo:hi] = user_bias[users[lo:hi]] + item_bias[items[lo:hi]]
        latent[lo:hi] += rng.normal(0, 1.0, hi - lo)
    cuts = np.quantile(latent, np.cumsum(spec.histogram)[:-1])
    values = np.asarray(spec.values, np.float32)
    ratings = np.empty(n, np.float32)
    for lo, hi in row_chunks(n):
        ratings[lo:hi] = values[np.searchsorted(cuts, latent[lo:hi])]
    del latent
    # Dates: a window per user, later starts more likely; uniform within it.
    first = int((np.datetime64(spec.first_day) - EPOCH).astype(int))
    last = int((np.datetime64(spec.last_day) - EPOCH).astype(int))
    span = last - first
    start = first + np.rint(span * rng.beta(2.0, 1.2, n_users)).astype(np.int64)
    length = np.rint(rng.exponential(span / 4, n_users)).astype(np.int64)
    width = np.minimum(start + length, last) - start + 1
    days = np.empty(n, np.int32)
    for lo, hi in row_chunks(n):
        u = users[lo:hi]
        days[lo:hi] = start[u] + np.floor(rng.random(hi - lo) * width[u])
    if spec.release_years:
        # A movie released during the span is rated only once out (on DVD, about four
        # months after the cinema): a rating drawn before that moves to a day between
        # the release and the end of the customer's window (or the month after the
        # release, for a window that closed before it). Ratings of new movies thus
        # crowd their first months, as on the real service.
        years = np.array([y for y, _ in spec.release_years])
        shares = np.array([p for _, p in spec.release_years])
        pick = rng.random(n_items)
        edges = np.cumsum(shares)
        year_of = np.searchsorted(edges, pick, side="right")  # == len(years): older
        jan1 = (np.array([f"{y}-01-01" for y in years], "datetime64[D]") - EPOCH).astype(int)
        out_on = np.full(n_items, first, np.int64)
        new = year_of < len(years)
        out_on[new] = jan1[year_of[new]] + rng.integers(0, 365, int(new.sum())) + 120
        out_on = np.minimum(out_on, last)
        end = np.minimum(start + length, last)
        for lo, hi in row_chunks(n):
            u, i = users[lo:hi], items[lo:hi]
            early = days[lo:hi] < out_on[i]
            if early.any():
                release = out_on[i[early]]
                room = np.maximum(end[u[early]] - release + 1, 30)
                moved = release + np.floor(rng.random(int(early.sum())) * room)
                days[lo:hi][early] = np.minimum(moved, last)
    users += 1  # 1-based ids, in place: these arrays become the frame's columns
    items += 1
    columns = {"user": users, "item": items, "rating": ratings, "date": days}
    return pd.DataFrame(columns, copy=False)  # no stacking copy of the int32 columns


def write_synthetic(
    frame: pd.DataFrame, out: str | Path, *, format: str = "parquet", overwrite: bool = False
) -> Path:
    """Write a synthetic table as Parquet or in the Netflix Prize text format.

    The Netflix form is one ``combined_data``-style file: a ``MovieID:`` line, then
    ``CustomerID,Rating,YYYY-MM-DD`` lines, movie after movie. The file is written to a
    hidden temporary sibling and renamed into place; an existing ``out`` is replaced
    only with ``overwrite``.
    """
    out = Path(out)
    if format not in ("parquet", "netflix"):
        raise PublisherError(f"unknown synth format {format!r}; use parquet or netflix")
    check_file_output(out, overwrite=overwrite)
    temp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
    try:
        _write(frame, temp, format)
        temp.replace(out)
    finally:
        temp.unlink(missing_ok=True)
    return out


def _write(frame: pd.DataFrame, temp: Path, format: str) -> None:
    if format == "parquet":
        table = pa.table({
            "user": pa.array(frame["user"].to_numpy()),
            "item": pa.array(frame["item"].to_numpy()),
            "rating": pa.array(frame["rating"].to_numpy()),
            "date": pa.array(frame["date"].to_numpy(), pa.int32()).cast(pa.date32()),
        })  # fmt: skip
        pq.write_table(table, temp, compression="zstd")
    elif format == "netflix":
        items = frame["item"].to_numpy()
        bounds = np.flatnonzero(np.diff(items)) + 1
        starts = np.r_[0, bounds]
        ends = np.r_[bounds, len(items)]
        stamps = pa.array(frame["date"].to_numpy(), pa.int32()).cast(pa.date32())
        dates = pc.strftime(stamps.cast(pa.timestamp("s")), format="%Y-%m-%d")
        body = pa.table({
            "user": pa.array(frame["user"].to_numpy()),
            "rating": pa.array(frame["rating"].to_numpy().astype(np.int8)),
            "date": dates,
        })  # fmt: skip
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with open(temp, "wb") as fh:
            for lo, hi in zip(starts, ends, strict=True):
                fh.write(f"{items[lo]}:\n".encode())
                sink = pa.BufferOutputStream()
                pacsv.write_csv(body.slice(lo, hi - lo), sink, options)
                fh.write(sink.getvalue().to_pybytes())
