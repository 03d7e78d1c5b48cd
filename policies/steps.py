"""Anonymization and noise steps: small, validated, pure.

Each step is a frozen keyword-only dataclass (its ``repr`` is its exact
configuration) with one working method, ``transform(ratings, rng)``, which returns a
new :class:`~publisher.core.ratings.Ratings` and never mutates its input or touches
global random state. ``changes_rows`` declares whether a step may add or remove
rows; property tests hold every step to it.

None of these steps is differentially private on its own. ``perturb_ratings``
gives each *rating value* local differential privacy (see :class:`PerturbRatings`);
dates, the set of rated items and the number of ratings are not protected by it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numba
import numpy as np
import pandas as pd

from policies.noise import keep_probability, randomized_response, uniform_offsets
from publisher.core.errors import InternalError, PolicyError
from publisher.core.guarantee import Guarantee
from publisher.core.ratings import (
    DATE,
    ITEM,
    RATING,
    USER,
    Ratings,
    Scale,
    present_codes,
    row_index_dtype,
    sorted_unique,
)
from publisher.core.validation import (
    check_choice,
    check_fraction,
    check_int,
    check_keys,
    check_number,
)

__all__ = [
    "STEPS",
    "CapUserRatings",
    "CoarsenDates",
    "DeleteRatings",
    "DropDates",
    "DropRareItems",
    "DropSparseUsers",
    "InsertRatings",
    "JitterDates",
    "PerturbRatings",
    "PseudonymizeUsers",
    "RedateRatings",
    "SampleUsers",
    "Step",
    "build_step",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Step:
    """Base class: a named, validated, pure transformation of a ratings table."""

    #: The step's key in a policy file.
    name: ClassVar[str] = ""
    #: Whether the step may add or remove rows.
    changes_rows: ClassVar[bool] = False

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:
        """Return a transformed copy of ``ratings``; never mutates the input."""
        raise NotImplementedError

    def describe(self) -> str:
        """What the step does to the data, in one plain phrase (datasheet and reports)."""
        raise NotImplementedError

    def guarantee(self, scale: Scale, component: str) -> Guarantee | None:
        """The differential-privacy guarantee the step provides; None for most steps.

        Parameters
        ----------
        scale : Scale
            The rating scale of the data it is applied to.
        component : str
            The step's place in the policy, e.g. ``steps[4].perturb_ratings``.
        """
        return None

    @classmethod
    def from_config(cls, config: Any, path: str) -> Step:
        """Build the step from its policy mapping, checking keys first."""
        names = [f.name for f in dataclasses.fields(cls) if f.repr]
        return cls(**check_keys(path, config, names))

    def to_config(self) -> dict[str, Any]:
        """The step's public parameters (secrets excluded), as written to a policy file."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.repr}


def _keep_rows(ratings: Ratings, mask: np.ndarray) -> Ratings:
    # Column by column with numpy's boolean take: frame.loc[mask] first turns the mask
    # into an int64 row indexer (800 MB at 100M ratings).
    frame = ratings.frame
    kept = {name: frame[name].to_numpy()[mask] for name in frame.columns}
    return ratings.with_frame(pd.DataFrame(kept, copy=False))


@numba.njit(cache=True)
def _rank_in_order(groups: np.ndarray, order: np.ndarray, n_groups: int) -> np.ndarray:
    """rank[r]: how many rows of r's group come before r in ``order``."""
    seen = np.zeros(n_groups, np.int64)
    rank = np.empty(len(groups), order.dtype)
    for k in range(len(order)):
        r = order[k]
        g = groups[r]
        rank[r] = seen[g]
        seen[g] += 1
    return rank


def _group_rank(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rank 0..n-1 of every row within its group, in O(rows).

    Ranks are positions in a random permutation (the one ``rng.permutation`` draws),
    held in int32 below 2**31 rows: 0.8 GB of temporaries at 100M rows, not 2.8.
    """
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    order = np.arange(len(groups), dtype=row_index_dtype(len(groups)))
    rng.shuffle(order)  # the same draws as rng.permutation(len(groups))
    return _rank_in_order(groups, order, int(groups.max()) + 1)


def period_starts(days: np.ndarray, period: str) -> np.ndarray:
    """The first day (int32 days since 1970-01-01) of each day's period.

    Parameters
    ----------
    days : numpy.ndarray
        Days since 1970-01-01 (within int32, as in a ratings table).
    period : {"day", "week", "month", "quarter", "year"}
        Weeks start on Monday.

    Examples
    --------
    >>> period_starts(np.array([13000]), "quarter").astype("datetime64[D]").astype(str).tolist()
    ['2005-07-01']
    """
    days = np.asarray(days)
    if len(days) == 0 or period == "day":
        return days.astype(np.int32)
    # Work out the start of every day in the observed range once, then look each row
    # up: one int32 gather instead of several 100M-row int64 and datetime64 copies.
    lo = int(days.min())
    span = np.arange(lo, int(days.max()) + 1, dtype=np.int64)
    if period == "week":
        # 1970-01-01 was a Thursday: (day + 3) % 7 counts days since Monday.
        starts = span - (span + 3) % 7
    else:
        months = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        step = {"month": 1, "quarter": 3, "year": 12}[period]
        starts = (months - months % step).astype("datetime64[M]").astype("datetime64[D]")
    return starts.astype(np.int32)[days - lo]


def _dates_or_none(ratings: Ratings, step: Step) -> np.ndarray | None:
    if not ratings.has_dates:
        logger.warning("%s: the data has no dates; nothing to do", step.name)
        return None
    return ratings.frame[DATE].to_numpy()


# ------------------------------------------------------------------ identifiers
@dataclass(frozen=True, kw_only=True)
class PseudonymizeUsers(Step):
    """Replace user ids with keyed pseudonyms: HMAC-SHA256(key, id), hex, truncated.

    Without the key the pseudonyms cannot be recomputed from ids; with the same key
    the same id always gets the same pseudonym, so releases under one key are
    linkable and releases under different keys are not. The key is bound by the
    pipeline and is never part of the policy, its ``repr`` or a bundle.

    Parameters
    ----------
    digest_chars : int
        Hex characters kept from the 64-character digest (16 to 64; 16 = 64 bits, so
        a collision among 480,189 users has probability about 6e-9, and one is
        detected and reported rather than merging two users).
    key : bytes
        The secret key (at least 16 bytes); set by the pipeline.
    """

    name: ClassVar[str] = "pseudonymize_users"
    digest_chars: int = 16
    key: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "digest_chars", self.digest_chars, minimum=16, maximum=64)
        if self.key is not None and (not isinstance(self.key, bytes) or len(self.key) < 16):
            raise PolicyError("the pseudonymization key must be at least 16 bytes")

    def describe(self) -> str:  # noqa: D102
        return "user ids replaced by keyed HMAC-SHA256 pseudonyms (the key is not published)"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        if self.key is None:
            raise InternalError("PseudonymizeUsers.transform called without a key")
        present = present_codes(ratings.frame[USER].to_numpy(), len(ratings.user_ids))
        pseudonyms = np.full(len(ratings.user_ids), "", dtype=object)
        for code in present:
            digest = hmac.new(self.key, str(ratings.user_ids[code]).encode(), hashlib.sha256)
            pseudonyms[code] = digest.hexdigest()[: self.digest_chars]
        if len(set(pseudonyms[present])) != len(present):
            raise PolicyError(
                "two users received the same pseudonym; raise pseudonymize_users.digest_chars"
            )
        return ratings.with_frame(ratings.frame, user_ids=pseudonyms, pseudonymized=True)


# --------------------------------------------------------------- suppression
@dataclass(frozen=True, kw_only=True)
class DropRareItems(Step):
    """Remove every rating of items rated by fewer than ``min_raters`` users.

    Rare items are the strongest fingerprints (Narayanan-Shmatikov weight them by
    1 / log of their support).
    """

    name: ClassVar[str] = "drop_rare_items"
    changes_rows: ClassVar[bool] = True
    min_raters: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "min_raters", self.min_raters, minimum=1)

    def describe(self) -> str:  # noqa: D102
        return f"ratings of items with fewer than {self.min_raters} raters removed"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        items = ratings.frame[ITEM].to_numpy()
        counts = np.bincount(items, minlength=len(ratings.item_ids))
        return _keep_rows(ratings, counts[items] >= self.min_raters)


@dataclass(frozen=True, kw_only=True)
class DropSparseUsers(Step):
    """Remove users with fewer than ``min_ratings`` ratings."""

    name: ClassVar[str] = "drop_sparse_users"
    changes_rows: ClassVar[bool] = True
    min_ratings: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "min_ratings", self.min_ratings, minimum=1)

    def describe(self) -> str:  # noqa: D102
        return f"users with fewer than {self.min_ratings} ratings removed"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        users = ratings.frame[USER].to_numpy()
        counts = np.bincount(users, minlength=len(ratings.user_ids))
        return _keep_rows(ratings, counts[users] >= self.min_ratings)


@dataclass(frozen=True, kw_only=True)
class CapUserRatings(Step):
    """Keep at most ``max_ratings`` ratings per user, chosen uniformly at random."""

    name: ClassVar[str] = "cap_user_ratings"
    changes_rows: ClassVar[bool] = True
    max_ratings: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "max_ratings", self.max_ratings, minimum=1)

    def describe(self) -> str:  # noqa: D102
        return f"at most {self.max_ratings} ratings kept per user, chosen at random"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        rank = _group_rank(ratings.frame[USER].to_numpy(), rng)
        return _keep_rows(ratings, rank < self.max_ratings)


@dataclass(frozen=True, kw_only=True)
class SampleUsers(Step):
    """Keep a uniform random sample of ``round(fraction * users)`` users (at least one)."""

    name: ClassVar[str] = "sample_users"
    changes_rows: ClassVar[bool] = True
    fraction: float

    def __post_init__(self) -> None:
        check_fraction(type(self).__name__, "fraction", self.fraction, allow_zero=False)

    def describe(self) -> str:  # noqa: D102
        return f"a random {self.fraction:.0%} of the users kept"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        users = ratings.frame[USER].to_numpy()
        present = present_codes(users, len(ratings.user_ids))
        n_keep = max(1, round(self.fraction * len(present)))
        chosen = rng.choice(present, size=n_keep, replace=False)
        keep = np.zeros(len(ratings.user_ids), dtype=bool)
        keep[chosen] = True
        return _keep_rows(ratings, keep[users])


@dataclass(frozen=True, kw_only=True)
class DeleteRatings(Step):
    """Delete ``round(fraction * ratings)`` ratings chosen uniformly at random."""

    name: ClassVar[str] = "delete_ratings"
    changes_rows: ClassVar[bool] = True
    fraction: float

    def __post_init__(self) -> None:
        check_number(
            type(self).__name__, "fraction", self.fraction, minimum=0, maximum=1, high_open=True
        )

    def describe(self) -> str:  # noqa: D102
        return f"{self.fraction:.1%} of the ratings deleted at random"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        n = ratings.n_ratings
        drop = rng.choice(n, size=round(self.fraction * n), replace=False)
        keep = np.ones(n, dtype=bool)
        keep[drop] = False
        return _keep_rows(ratings, keep)


@dataclass(frozen=True, kw_only=True)
class InsertRatings(Step):
    """Insert ``round(fraction * ratings)`` plausible decoy ratings.

    A decoy's user is drawn in proportion to activity and its item in proportion to
    popularity (each from a random existing rating), its rating from that item's
    own ratings, and its date uniformly within the user's activity window (not
    before the item's first rating). Pairs the user already rated are redrawn.
    """

    name: ClassVar[str] = "insert_ratings"
    changes_rows: ClassVar[bool] = True
    fraction: float

    def __post_init__(self) -> None:
        check_fraction(type(self).__name__, "fraction", self.fraction)

    def describe(self) -> str:  # noqa: D102
        return f"decoy ratings added ({self.fraction:.1%} of the table)"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        frame = ratings.frame
        n = len(frame)
        n_new = round(self.fraction * n)
        if n_new == 0 or n == 0:
            return ratings.with_frame(frame.copy())
        users = frame[USER].to_numpy()
        items = frame[ITEM].to_numpy()
        n_items = len(ratings.item_ids)
        existing = sorted_unique(users.astype(np.int64) * n_items + items)
        chosen = np.empty(0, dtype=np.int64)  # keys (user * n_items + item) of the decoys
        new_rows = np.empty(0, dtype=np.int64)  # index of the row lending item and rating
        new_users = np.empty(0, dtype=np.int32)
        for _ in range(20):  # redraw collisions; a few rounds suffice unless the table is dense
            need = n_new - len(new_users)
            if need == 0:
                break
            lend = rng.integers(0, n, size=2 * need)
            who = users[rng.integers(0, n, size=2 * need)]
            keys = who.astype(np.int64) * n_items + items[lend]
            first = np.zeros(len(keys), dtype=bool)
            first[np.unique(keys, return_index=True)[1]] = True
            fresh = first & ~np.isin(keys, existing) & ~np.isin(keys, chosen)
            take = np.flatnonzero(fresh)[:need]
            chosen = np.r_[chosen, keys[take]]
            new_rows = np.r_[new_rows, lend[take]]
            new_users = np.r_[new_users, who[take]].astype(np.int32)
        if len(new_users) < n_new:
            logger.warning(
                "insert_ratings: table too dense, inserted %d of %d", len(new_users), n_new
            )
        decoys = {
            USER: new_users,
            ITEM: items[new_rows],
            RATING: frame[RATING].to_numpy()[new_rows],
        }
        if ratings.has_dates:
            days = frame[DATE].to_numpy()
            first = pd.Series(days).groupby(users).min()
            last = pd.Series(days).groupby(users).max()
            item_first = pd.Series(days).groupby(items).min()
            lo = first.reindex(new_users).to_numpy()
            hi = last.reindex(new_users).to_numpy()
            day = lo + np.floor(rng.random(len(new_users)) * (hi - lo + 1)).astype(np.int64)
            floor = item_first.reindex(items[new_rows]).to_numpy()
            decoys[DATE] = np.maximum(day, floor).astype(np.int32)
        added = pd.DataFrame(decoys).astype(frame.dtypes.to_dict())
        return ratings.with_frame(pd.concat([frame, added], ignore_index=True))


# ---------------------------------------------------------------------- dates
@dataclass(frozen=True, kw_only=True)
class CoarsenDates(Step):
    """Round every date down to the first day of its week (Monday), month, quarter or year."""

    name: ClassVar[str] = "coarsen_dates"
    to: str

    def __post_init__(self) -> None:
        check_choice(type(self).__name__, "to", self.to, ("week", "month", "quarter", "year"))

    def describe(self) -> str:  # noqa: D102
        return f"dates rounded down to the first day of the {self.to}"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        days = _dates_or_none(ratings, self)
        if days is None:
            return ratings.with_frame(ratings.frame.copy())
        coarse = period_starts(days, self.to)
        return ratings.with_frame(ratings.frame.assign(**{DATE: coarse}))


@dataclass(frozen=True, kw_only=True)
class DropDates(Step):
    """Remove the date column entirely."""

    name: ClassVar[str] = "drop_dates"

    def describe(self) -> str:  # noqa: D102
        return "dates removed"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        return ratings.with_frame(ratings.frame.drop(columns=[DATE], errors="ignore"))


@dataclass(frozen=True, kw_only=True)
class JitterDates(Step):
    """Shift each date by an independent uniform integer number of days in [-max_days, max_days]."""

    name: ClassVar[str] = "jitter_dates"
    max_days: int

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "max_days", self.max_days, minimum=0)

    def describe(self) -> str:  # noqa: D102
        return f"every date moved by a random 0 to {self.max_days} days either way"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        days = _dates_or_none(ratings, self)
        if days is None:
            return ratings.with_frame(ratings.frame.copy())
        shifted = days + uniform_offsets(self.max_days, len(days), rng)
        return ratings.with_frame(ratings.frame.assign(**{DATE: shifted.astype(np.int32)}))


@dataclass(frozen=True, kw_only=True)
class RedateRatings(Step):
    """Move ``round(fraction * ratings)`` random ratings by 1 to ``max_days`` days, either way."""

    name: ClassVar[str] = "redate_ratings"
    fraction: float
    max_days: int

    def __post_init__(self) -> None:
        check_fraction(type(self).__name__, "fraction", self.fraction)
        check_int(type(self).__name__, "max_days", self.max_days, minimum=1)

    def describe(self) -> str:  # noqa: D102
        return f"{self.fraction:.1%} of the ratings moved by 1 to {self.max_days} days"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        days = _dates_or_none(ratings, self)
        if days is None:
            return ratings.with_frame(ratings.frame.copy())
        chosen = rng.choice(len(days), size=round(self.fraction * len(days)), replace=False)
        shifted = days.astype(np.int32)  # astype copies: the input frame stays untouched
        shifted[chosen] += uniform_offsets(self.max_days, len(chosen), rng, nonzero=True)
        return ratings.with_frame(ratings.frame.assign(**{DATE: shifted}))


# --------------------------------------------------------------------- ratings
@dataclass(frozen=True, kw_only=True)
class PerturbRatings(Step):
    """Replace each rating by k-ary randomized response on the rating scale.

    Each rating is kept with probability ``e^eps / (e^eps + k - 1)`` and otherwise
    replaced by one of the other ``k - 1`` values on the scale, uniformly. This makes
    each *rating value* ``epsilon``-locally differentially private. It does not
    hide which items a user rated or when; a user with ``n`` ratings has, by basic
    composition, ``n * epsilon`` for the vector of their rating values.

    Parameters
    ----------
    method : {"randomized_response"}
        The mechanism.
    epsilon : float
        Local privacy parameter per rating, > 0.
    """

    name: ClassVar[str] = "perturb_ratings"
    method: str = "randomized_response"
    epsilon: float

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_choice(owner, "method", self.method, ("randomized_response",))
        check_number(owner, "epsilon", self.epsilon, minimum=0, low_open=True)

    def keep_probability(self, k: int) -> float:
        """Probability that a rating on a ``k``-value scale is reported unchanged."""
        return keep_probability(self.epsilon, k)

    def guarantee(self, scale: Scale, component: str) -> Guarantee:
        """Each rating value is ``epsilon``-locally differentially private."""
        return Guarantee(
            component=component,
            mechanism=f"{scale.k}-ary randomized response",
            epsilon=float(self.epsilon),
            scope="each rating value, locally",
            covers=(
                f"each released rating value is {self.epsilon:g}-locally differentially "
                "private; which items a customer rated, when and how many are not covered"
            ),
            details={"keep_probability": self.keep_probability(scale.k)},
        )

    def describe(self) -> str:  # noqa: D102
        return f"ratings replaced by randomized response (epsilon {self.epsilon:g} per rating)"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        scale = ratings.scale
        index = scale.to_index(ratings.frame[RATING].to_numpy())
        noisy = randomized_response(index, scale.k, self.epsilon, rng)
        return ratings.with_frame(ratings.frame.assign(**{RATING: scale.values()[noisy]}))


#: Step classes by their policy key, in the order the documentation lists them.
STEPS: dict[str, type[Step]] = {
    cls.name: cls
    for cls in (
        PseudonymizeUsers,
        DropRareItems,
        DropSparseUsers,
        CapUserRatings,
        SampleUsers,
        CoarsenDates,
        DropDates,
        JitterDates,
        PerturbRatings,
        DeleteRatings,
        InsertRatings,
        RedateRatings,
    )
}


def build_step(entry: Any, path: str) -> Step:
    """Build one step from its policy entry, a one-key mapping ``{name: {params}}``.

    Raises
    ------
    PolicyError
        Naming ``path`` for an unknown step, a malformed entry or a bad parameter.
    """
    from publisher.core.validation import ParameterError

    if not isinstance(entry, dict) or len(entry) != 1:
        raise PolicyError(
            f"{path}: must be a mapping with one step name, e.g. '- drop_dates: {{}}'"
        )
    ((step_name, config),) = entry.items()
    if step_name not in STEPS:
        raise PolicyError(f"{path}: unknown step {step_name!r}; steps: {', '.join(STEPS)}")
    try:
        return STEPS[step_name].from_config(config, f"{path}.{step_name}")
    except ParameterError as exc:
        raise PolicyError(exc.at(f"{path}.{step_name}")) from None
    except TypeError as exc:  # a required parameter is missing
        missing = str(exc).rsplit(":", 1)[-1].strip()
        raise PolicyError(f"{path}.{step_name}: missing required key {missing}") from None
