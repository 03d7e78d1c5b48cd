"""Synthetic ratings with the marginals of Netflix Prize or MovieLens, vectorized.

The Netflix Prize data (100,480,507 ratings, 480,189 customers, 17,770 movies) may
not be redistributed; this generator reproduces its published shape so the tool
can be measured at that scale:

* ratings per customer: log-normal with median 96 and mean 209;
* movie popularity: log-normal weights with median 561 and mean 5,654 ratings per
  movie (at scale 1), sampled without replacement per customer;
* rating histogram 1-5 close to Netflix's (4.6%, 10.1%, 28.7%, 33.6%, 23.0%), from
  customer and movie biases plus noise, cut at the histogram's quantiles;
* dates from 1999-11-11 to 2005-12-31, uniform within a per-customer activity
  window (later starts are more likely, as the service grew).

``scale`` multiplies the numbers of customers and movies. No (customer, movie)
pair repeats. Everything is drawn from one seeded generator.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from publisher.errors import PublisherError
from publisher.ratings import EPOCH, sorted_unique

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


PRESETS = {
    "netflix": SynthPreset(
        users=480_189, items=17_770, per_user_median=96, per_user_mean=209,
        per_item_median=561, per_item_mean=5654,
        histogram=(0.046, 0.101, 0.287, 0.336, 0.230), values=(1, 2, 3, 4, 5),
        first_day="1999-11-11", last_day="2005-12-31",
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
    weights = _lognormal(spec.per_item_median, spec.per_item_mean, n_items, rng)
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    # Draw with replacement by popularity, drop repeated (user, item) pairs, then top up
    # only the users left short. Keys are item * n_users + user: sorted keys are the
    # output order (by item, then user).
    rounds = []
    have = np.zeros(n_users, np.int64)
    seen = np.empty(0, np.int64)
    need = per_user
    for _ in range(8):
        total = int(need.sum())
        if total < 0.001 * per_user.sum():  # a 0.1% shortfall is not worth another sort
            break
        users = np.repeat(np.arange(n_users, dtype=np.int64), need)
        items = np.searchsorted(cumulative, rng.random(total)).astype(np.int64)
        fresh = sorted_unique(items * n_users + users)
        if len(seen):
            pos = np.minimum(np.searchsorted(seen, fresh), len(seen) - 1)
            fresh = fresh[seen[pos] != fresh]
        # Thin each user's draws to about what they still need (a Bernoulli draw per pair
        # keeps this O(n); the next round tops up any shortfall).
        owner = fresh % n_users
        drawn = np.bincount(owner, minlength=n_users)
        keep = rng.random(len(fresh)) * np.maximum(drawn[owner], 1) < need[owner]
        fresh = fresh[keep]
        rounds.append(fresh)
        have += np.bincount(fresh % n_users, minlength=n_users)
        # disjoint sorted arrays: a merge by sort is enough
        seen = np.sort(np.concatenate([seen, fresh])) if len(rounds) > 1 else fresh
        need = np.maximum(per_user - have, 0)
    keys = seen
    del rounds
    users = (keys % n_users).astype(np.int32)
    items = (keys // n_users).astype(np.int32)
    del keys, seen
    # Ratings: biases plus noise, cut at the target histogram's quantiles.
    latent = (rng.normal(0, 0.6, n_users)[users] + rng.normal(0, 0.6, n_items)[items]
              + rng.normal(0, 1.0, len(users)))  # fmt: skip
    cuts = np.quantile(latent, np.cumsum(spec.histogram)[:-1])
    ratings = np.asarray(spec.values, np.float32)[np.searchsorted(cuts, latent)]
    del latent
    # Dates: a window per user, later starts more likely; uniform within it.
    first = int((np.datetime64(spec.first_day) - EPOCH).astype(int))
    last = int((np.datetime64(spec.last_day) - EPOCH).astype(int))
    span = last - first
    start = first + np.rint(span * rng.beta(2.0, 1.2, n_users)).astype(np.int64)
    length = np.rint(rng.exponential(span / 4, n_users)).astype(np.int64)
    end = np.minimum(start + length, last)
    lo, hi = start[users], end[users]
    days = (lo + np.floor(rng.random(len(users)) * (hi - lo + 1))).astype(np.int32)
    return pd.DataFrame({"user": users + 1, "item": items + 1, "rating": ratings, "date": days})


def write_synthetic(frame: pd.DataFrame, out: str | Path, *, format: str = "parquet") -> Path:
    """Write a synthetic table as Parquet or in the Netflix Prize text format.

    The Netflix form is one ``combined_data``-style file: a ``MovieID:`` line, then
    ``CustomerID,Rating,YYYY-MM-DD`` lines, movie after movie.
    """
    out = Path(out)
    temp = out.with_name(f".{out.name}.tmp")
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
    else:
        raise PublisherError(f"unknown synth format {format!r}; use parquet or netflix")
    temp.replace(out)
    return out
