"""Distinguishability: can an attacker tell rows a policy added or moved from real ones.

The auditor knows which released rows are synthetic: a (customer, item) pair the
original does not have is a decoy (``insert_ratings``); a real pair whose date differs
from the original's is a moved row (``redate_ratings``, counted only when no step moves
every date). A gradient-boosting classifier is trained on the rows of half the released
customers, told which are synthetic, and scored on the rows of the other half: its ROC
AUC says how well an attacker who learned what decoys look like picks them out (0.5:
not at all; 1: perfectly). The interval is a percentile bootstrap over held-out
customers. The features are what an attacker sees in the release, per row:

- the customer's ratings that day, and whether it is their first or last day;
- the day's place in the customer's first-to-last window, and the gap in days to the
  customer's nearest other day;
- the customer's number of ratings, the item's (log) number of ratings and the days
  since the item's first rating;
- the rating minus the item's mean and minus the customer's mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audits.evaluator import Evaluator
from audits.frames import matched_rows
from publisher.core.adversary import CONFIDENCE_LEVEL
from publisher.core.ratings import DATE, ITEM, RATING, USER, Ratings

__all__ = [
    "FEATURES",
    "DistinguishabilityAudit",
    "DistinguishabilityResult",
    "distinguishability",
    "row_features",
]

FEATURES = (
    "ratings_that_day",
    "first_or_last_day",
    "place_in_window",
    "gap_to_nearest_day",
    "customer_ratings",
    "item_ratings_log",
    "days_since_item_first",
    "rating_minus_item_mean",
    "rating_minus_customer_mean",
)

#: Most customers sampled (half to train, half to test): bounds the cost at any scale.
MAX_CUSTOMERS = 20_000

#: Bootstrap resamples of the held-out customers.
BOOTSTRAP = 200


@dataclass(frozen=True)
class DistinguishabilityResult:
    """The classifier's held-out ROC AUC, with its interval and what it was measured on."""

    auc: float | None
    auc_ci: tuple[float, float] | None
    synthetic_rows: int
    rows: int
    customers: int
    kinds: tuple[str, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The report.json ``distinguishability`` field."""
        return {
            "auc": self.auc,
            "auc_ci": list(self.auc_ci) if self.auc_ci is not None else None,
            "synthetic_rows": self.synthetic_rows,
            "rows": self.rows,
            "customers": self.customers,
            "kinds": list(self.kinds),
            "features": list(FEATURES),
            "note": self.note,
        }


def synthetic_rows(
    original: Ratings, released: Ratings, *, moved: bool, users: np.ndarray | None = None
) -> np.ndarray:
    """Which released rows are decoys, or (``moved``) real rows whose date was changed.

    With ``users``, only those customers' released rows, in table order.
    """
    pairs = matched_rows(original, released, users)
    label = np.ones(len(pairs.released), dtype=bool)
    label[pairs.released_at] = False  # a pair the original has is a real rating
    if moved and original.has_dates and released.has_dates:
        released_day = pairs.released[DATE].to_numpy()[pairs.released_at]
        true_day = pairs.original[DATE].to_numpy()[pairs.original_at]
        label[pairs.released_at] = released_day != true_day
    return label


def row_features(table: Ratings, rows: np.ndarray | None = None) -> pd.DataFrame:
    """The per-row features of :data:`FEATURES` (date features are 0 without dates).

    ``rows`` (a mask of whole customers) limits the rows described; item figures still
    come from the whole table.
    """
    full = table.frame
    all_items = full[ITEM].to_numpy()
    all_ratings = full[RATING].to_numpy().astype(float)
    n_items = max(len(table.item_ids), int(all_items.max()) + 1 if len(all_items) else 1)
    item_count = np.bincount(all_items, minlength=n_items)
    item_sum = np.bincount(all_items, weights=all_ratings, minlength=n_items)
    frame = full if rows is None else full[rows]
    users = frame[USER].to_numpy()
    items = frame[ITEM].to_numpy()
    ratings = frame[RATING].to_numpy().astype(float)
    _, user_index = np.unique(users, return_inverse=True)
    user_count = np.bincount(user_index)
    user_sum = np.bincount(user_index, weights=ratings)
    out = {
        "customer_ratings": user_count[user_index].astype(float),
        "item_ratings_log": np.log1p(item_count[items]),
        "rating_minus_item_mean": ratings - item_sum[items] / item_count[items],
        "rating_minus_customer_mean": ratings - user_sum[user_index] / user_count[user_index],
    }
    zeros = np.zeros(len(frame))
    if table.has_dates:
        days = frame[DATE].to_numpy().astype(np.int64)
        per_day = pd.Series(1, index=pd.MultiIndex.from_arrays([user_index, days]))
        day_count = per_day.groupby(level=[0, 1]).transform("size").to_numpy()
        first = pd.Series(days).groupby(user_index).transform("min").to_numpy()
        last = pd.Series(days).groupby(user_index).transform("max").to_numpy()
        all_days = full[DATE].to_numpy().astype(np.int64)
        first_day = pd.Series(all_days).groupby(all_items).min()
        item_first = first_day.reindex(items).to_numpy()
        out["ratings_that_day"] = day_count.astype(float)
        out["first_or_last_day"] = ((days == first) | (days == last)).astype(float)
        out["place_in_window"] = (days - first) / np.maximum(last - first, 1)
        out["gap_to_nearest_day"] = _gap_to_nearest_day(user_index, days)
        out["days_since_item_first"] = (days - item_first).astype(float)
    else:
        for name in ("ratings_that_day", "first_or_last_day", "place_in_window"):
            out[name] = zeros
        out["gap_to_nearest_day"] = zeros
        out["days_since_item_first"] = zeros
    return pd.DataFrame({name: out[name] for name in FEATURES})


def _gap_to_nearest_day(user_index: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Days from each row's day to the customer's nearest other day (0 if none)."""
    pairs = pd.DataFrame({"u": user_index, "d": days}).drop_duplicates().sort_values(["u", "d"])
    by_user = pairs.groupby("u")["d"]
    gap = np.fmin(by_user.diff(), -by_user.diff(-1)).fillna(0)
    lookup = pd.Series(gap.to_numpy(), index=pd.MultiIndex.from_frame(pairs))
    return lookup.reindex(pd.MultiIndex.from_arrays([user_index, days])).to_numpy(float)


def distinguishability(
    original: Ratings,
    released: Ratings,
    *,
    moved: bool,
    kinds: tuple[str, ...],
    rng: np.random.Generator,
) -> DistinguishabilityResult:
    """Train on half the released customers, score the other half; AUC with an interval.

    Parameters
    ----------
    original, released : Ratings
        Sharing user and item codes.
    moved : bool
        Count real rows with a changed date as synthetic (``redate_ratings``).
    kinds : tuple of str
        The steps that made synthetic rows, for the report.
    rng : numpy.random.Generator
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    all_users = released.frame[USER].to_numpy()
    present = np.unique(all_users)
    sample = rng.choice(present, size=min(MAX_CUSTOMERS, len(present)), replace=False)
    train_users = sample[: len(sample) // 2]
    test_users = sample[len(sample) // 2 :]
    # Only the sampled customers' rows are labelled and described: bounded at any scale.
    rows = np.isin(all_users, sample)
    label = synthetic_rows(original, released, moved=moved, users=sample)
    users = all_users[rows]
    n_synthetic = int(label.sum())
    if n_synthetic == 0 or n_synthetic == len(label):
        return DistinguishabilityResult(
            None, None, n_synthetic, len(label), len(sample), kinds,
            "no row to tell apart: every row is real" if n_synthetic == 0
            else "every row is synthetic",
        )  # fmt: skip
    features = row_features(released, rows).to_numpy()
    train = np.isin(users, train_users)
    test = np.isin(users, test_users)
    if len(np.unique(label[train])) < 2 or len(np.unique(label[test])) < 2:
        return DistinguishabilityResult(
            None, None, n_synthetic, len(label), len(sample), kinds,
            "too few synthetic rows to train and test on",
        )  # fmt: skip
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.1, random_state=int(rng.integers(2**31))
    )
    model.fit(features[train], label[train])
    score = model.predict_proba(features[test])[:, 1]
    truth = label[test]
    auc = float(roc_auc_score(truth, score))
    # Bootstrap over held-out customers (their rows move together): a resample is a
    # weight per customer, the number of times it was drawn. The rows are sorted by score
    # once; each resample's AUC is then a weighted rank sum, linear in the rows.
    _, owner = np.unique(users[test], return_inverse=True)
    n_owners = int(owner.max()) + 1
    order = np.argsort(score, kind="stable")
    ranked = _Ranked(score[order], truth[order])
    owner = owner[order]
    boot = []
    for _ in range(BOOTSTRAP):
        weight = np.bincount(rng.integers(0, n_owners, size=n_owners), minlength=n_owners)
        value = ranked.auc(weight[owner].astype(float))
        if value is not None:
            boot.append(value)
    tail = (1 - CONFIDENCE_LEVEL) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    return DistinguishabilityResult(
        auc, (float(low), float(high)), n_synthetic, len(label), len(sample), kinds
    )


class _Ranked:
    """Scores sorted ascending with their labels: weighted ROC AUC in one pass.

    AUC = P(score of a synthetic row > score of a real one) + half the ties, each row
    counted with its weight; equal scores form one group.
    """

    def __init__(self, scores: np.ndarray, labels: np.ndarray) -> None:
        self.labels = labels
        # group id of each row: rows with equal scores share one
        self.group = np.r_[0, np.cumsum(scores[1:] != scores[:-1])]
        self.n_groups = int(self.group[-1]) + 1 if len(scores) else 0

    def auc(self, weight: np.ndarray) -> float | None:
        """The weighted AUC, or None when a class has no weight."""
        positive = np.bincount(self.group, weights=weight * self.labels, minlength=self.n_groups)
        negative = np.bincount(self.group, weights=weight * ~self.labels, minlength=self.n_groups)
        total_pos, total_neg = positive.sum(), negative.sum()
        if total_pos == 0 or total_neg == 0:
            return None
        below = np.cumsum(negative) - negative  # real weight strictly below each group
        return float((positive * (below + negative / 2)).sum() / (total_pos * total_neg))


class DistinguishabilityAudit(Evaluator[DistinguishabilityResult]):
    """:func:`distinguishability` in the audits' shape: construct, ``evaluate()``, ``results()``."""

    def __init__(
        self,
        original: Ratings,
        released: Ratings,
        *,
        moved: bool,
        kinds: tuple[str, ...],
        rng: np.random.Generator,
    ) -> None:
        self.original, self.released, self.rng = original, released, rng
        self.moved, self.kinds = moved, kinds

    def _run(self) -> DistinguishabilityResult:
        return distinguishability(
            self.original, self.released, moved=self.moved, kinds=self.kinds, rng=self.rng
        )
