"""Differentially private aggregates released beside (or instead of) the microdata.

The privacy unit is one customer: all of their ratings. Before anything is
counted, each customer's contribution is bounded to ``max_ratings_per_user``
ratings (L), chosen uniformly at random. Adding or removing one customer then
changes:

* ``item_count`` (ratings per item): at most L counts, each by 1, so the L1
  sensitivity is L; two-sided geometric noise (diffprivlib ``Geometric``).
* ``rating_histogram`` (ratings per scale value), ``item_histogram`` (ratings per
  item and scale value), ``ratings_per_period`` (ratings per day, week, month,
  quarter or year): L1 sensitivity L each; geometric noise.
* ``item_mean``: half of its epsilon for a geometric count per item (sensitivity
  L), half for a Laplace sum of ratings centred on the scale's midpoint
  (sensitivity L * (max - min) / 2); mean = midpoint + sum / count, clipped to the
  scale; null where the noisy count is below 1.

Each statistic is epsilon_i-DP for the customer; together they are
(sum epsilon_i)-DP by sequential composition, tracked exactly by a
:class:`~policies.budget.Ledger` and, at run time, by diffprivlib's
``BudgetAccountant``. Negative noisy counts are clipped to 0 (post-processing,
free).

The rows of every table come from the policy's declared domain
(:mod:`policies.domain`), never from the data: item tables list the declared items,
``ratings_per_period`` the periods of the declared date range, histograms the values
of the declared scale. Ratings outside the domain are not counted (a per-rating rule,
so the sensitivities above still hold).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policies.budget import Budget, Ledger
from policies.domain import Domain
from policies.steps._base import group_rank
from publisher.core.errors import PolicyError
from publisher.core.guarantee import Guarantee
from publisher.core.periods import PERIODS, period_starts
from publisher.core.ratings import DATE, ITEM, RATING, USER, Ratings, Scale, days_to_dates
from publisher.core.validation import (
    MAX_CONTRIBUTION,
    MIN_EPSILON,
    ParameterError,
    check_choice,
    check_int,
    check_keys,
    check_number,
    shown,
)

__all__ = ["STATISTICS", "AggregatesConfig", "Statistic", "compute_aggregates", "in_domain"]

logger = logging.getLogger(__name__)

STATISTICS = ("item_count", "item_mean", "item_histogram", "rating_histogram", "ratings_per_period")


@dataclass(frozen=True, kw_only=True)
class Statistic:
    """One aggregate and its share of the budget.

    Parameters
    ----------
    name : str
        One of :data:`STATISTICS`.
    epsilon : float
        Its epsilon (> 0).
    period : str
        For ``ratings_per_period``: day, week, month, quarter or year.
    """

    name: str
    epsilon: float
    period: str = "month"

    def __post_init__(self) -> None:
        check_choice("Statistic", "name", self.name, STATISTICS)
        check_number("Statistic", "epsilon", self.epsilon, minimum=MIN_EPSILON)
        check_choice("Statistic", "period", self.period, PERIODS)

    def to_dict(self) -> dict[str, Any]:
        """As written in a policy."""
        out: dict[str, Any] = {"epsilon": self.epsilon}
        if self.name == "ratings_per_period":
            out["period"] = self.period
        return {self.name: out}

    def describe(self) -> str:
        """What the statistic counts, in one plain phrase."""
        return {
            "item_count": "ratings per item",
            "item_mean": "mean rating per item",
            "item_histogram": "ratings per item and rating value",
            "rating_histogram": "ratings per rating value",
            "ratings_per_period": f"ratings per {self.period}",
        }[self.name]

    def guarantee(self, max_ratings_per_user: int) -> Guarantee:
        """The statistic is ``epsilon``-DP for each customer (central model).

        Parameters
        ----------
        max_ratings_per_user : int
            The contribution bound L: at most L ratings of each customer are counted.
        """
        return Guarantee(
            component=f"aggregates.{self.name}",
            mechanism="geometric + Laplace" if self.name == "item_mean" else "geometric",
            epsilon=float(self.epsilon),
            scope=(
                f"one customer (at most {max_ratings_per_user} of their ratings counted), central"
            ),
            covers=(
                f"whether or not any one customer is in the data, the published "
                f"{self.describe()} are about equally likely ({self.epsilon:g}-differential "
                "privacy)"
            ),
        )


@dataclass(frozen=True, kw_only=True)
class AggregatesConfig:
    """The policy's ``aggregates:`` section.

    Parameters
    ----------
    epsilon : float
        The total budget for all aggregates.
    delta : float
        Declared delta (the mechanisms used are pure epsilon-DP; delta stays unspent).
    max_ratings_per_user : int
        Contribution bound L per customer.
    microdata : bool
        Whether the microdata is released too (false: aggregates only).
    statistics : tuple of Statistic
    domain : Domain
        The declared rows of every table (:mod:`policies.domain`).
    """

    epsilon: float
    delta: float = 0.0
    max_ratings_per_user: int
    microdata: bool = True
    statistics: tuple[Statistic, ...]
    domain: Domain = field(default_factory=Domain)

    @classmethod
    def from_config(cls, config: Any, path: str, base: Path | None = None) -> AggregatesConfig:
        """Parse the section, split the budget and check it is not overspent.

        Statistics without an ``epsilon`` share what the explicit ones leave, evenly.
        ``base`` is the folder a catalogue path is relative to (the policy file's).

        Raises
        ------
        PolicyError
            For bad keys or values; BudgetExceededError (a PolicyError) for overspending.
        """
        given = check_keys(
            path,
            config,
            ("epsilon", "delta", "max_ratings_per_user", "microdata", "statistics", "domain"),
            required=("epsilon", "max_ratings_per_user", "statistics"),
        )
        domain = Domain.from_config(given.get("domain"), f"{path}.domain", base)
        try:
            total = check_number("aggregates", "epsilon", given["epsilon"], minimum=MIN_EPSILON)
            delta = check_number("aggregates", "delta", given.get("delta", 0), minimum=0, maximum=1)
            bound = check_int(
                "aggregates",
                "max_ratings_per_user",
                given["max_ratings_per_user"],
                minimum=1,
                maximum=MAX_CONTRIBUTION,
            )
        except ParameterError as exc:
            raise PolicyError(exc.at(path)) from None
        microdata = given.get("microdata", True)
        if not isinstance(microdata, bool):
            raise PolicyError(f"{path}.microdata: must be true or false, got {shown(microdata)}")
        entries = given["statistics"]
        if not isinstance(entries, list) or not entries:
            raise PolicyError(f"{path}.statistics: must be a non-empty list")
        parsed: list[tuple[str, dict[str, Any], str]] = []
        for i, entry in enumerate(entries):
            where = f"{path}.statistics[{i}]"
            if isinstance(entry, str):
                entry = {entry: {}}
            if not isinstance(entry, dict) or len(entry) != 1:
                raise PolicyError(f"{where}: must be a statistic name or a one-key mapping")
            ((name, params),) = entry.items()
            if name not in STATISTICS:
                raise PolicyError(
                    f"{where}: unknown statistic {shown(name)}; statistics: {', '.join(STATISTICS)}"
                )
            allowed = ("epsilon", "period") if name == "ratings_per_period" else ("epsilon",)
            params = check_keys(f"{where}.{name}", params, allowed)
            # The tables are files named after their statistic: a second one would
            # silently replace the first, and its epsilon would be counted but not shown.
            same = [w for n, _, w in parsed if n == name]
            if same:
                raise PolicyError(
                    f"{where}: {name} is listed twice (also at {same[0]}); each statistic "
                    "may appear once"
                )
            parsed.append((name, params, where))
            _check_domain(name, domain, where, path)
        ledger = Ledger(Budget.of(total, delta), label=f"{path}.epsilon")
        explicit = [p for _, p, _ in parsed if "epsilon" in p]
        for name, params, where in parsed:
            if "epsilon" in params:
                try:
                    check_number(name, "epsilon", params["epsilon"], minimum=MIN_EPSILON)
                except ParameterError as exc:
                    raise PolicyError(exc.at(f"{where}.{name}")) from None
                ledger.spend(Budget.of(params["epsilon"]), f"{where}.{name}")
        implicit = len(parsed) - len(explicit)
        share = ledger.remaining().epsilon / implicit if implicit else None
        if implicit and share is not None and share <= 0:
            raise PolicyError(
                f"{path}.statistics: the explicit epsilons use the whole budget, leaving "
                f"nothing for the {implicit} statistic(s) without one"
            )
        statistics = []
        for name, params, where in parsed:
            epsilon = params.get("epsilon", _down(share) if share is not None else 0.0)
            try:
                statistics.append(
                    Statistic(name=name, epsilon=epsilon, period=params.get("period", "month"))
                )
            except ParameterError as exc:
                raise PolicyError(exc.at(f"{where}.{name}")) from None
        return cls(
            epsilon=total,
            delta=delta,
            max_ratings_per_user=bound,
            microdata=microdata,
            statistics=tuple(statistics),
            domain=domain,
        )

    def to_dict(self) -> dict[str, Any]:
        """As written in a policy (with every epsilon made explicit)."""
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "max_ratings_per_user": self.max_ratings_per_user,
            "microdata": self.microdata,
            "statistics": [s.to_dict() for s in self.statistics],
            "domain": self.domain.to_dict(),
        }

    def scale(self, ratings: Ratings) -> Scale:
        """The rating values of the tables: the domain's, else the input's declared scale.

        Raises
        ------
        PolicyError
            When neither the domain nor the input declares a scale (one inferred from
            the data would make the tables' rows and the sensitivity data-dependent).
        """
        return self.domain.scale_of(
            ratings, "aggregates.domain", "the tables' rows would depend on it"
        )

    def sensitivity(self, statistic: Statistic, scale: Scale) -> dict[str, float]:
        """L1 sensitivities under the contribution bound (see the module notes)."""
        bound = self.max_ratings_per_user
        if statistic.name == "item_mean":
            half_range = (scale.maximum - scale.minimum) / 2
            return {"count": bound, "sum": bound * half_range}
        return {"count": bound}


_ITEM_STATISTICS = ("item_count", "item_mean", "item_histogram")


def _check_domain(name: str, domain: Domain, where: str, path: str) -> None:
    """An item table needs declared items; a period table, declared dates."""
    if name in _ITEM_STATISTICS and domain.items is None:
        raise PolicyError(
            f"{where}: {name} needs the items it lists declared under {path}.domain.items "
            "('range: [FIRST, LAST]' or 'catalogue: FILE'); items taken from the data would "
            "reveal who rated a rare item"
        )
    if name == "ratings_per_period" and domain.dates is None:
        raise PolicyError(
            f"{where}: ratings_per_period needs its date range declared under "
            f"{path}.domain.dates ('{{from: YYYY-MM-DD, to: YYYY-MM-DD}}'); a range taken "
            "from the data would reveal the earliest and latest rating"
        )


def _down(value: Fraction) -> float:
    """The largest float <= value: an even split never sums above the total."""
    approx = float(value)
    return approx if Fraction(approx) <= value else math.nextafter(approx, 0.0)


def in_domain(ratings: Ratings, config: AggregatesConfig) -> pd.DataFrame:
    """The ratings the tables count: those inside the declared domain.

    Columns ``item`` (the row in the item domain, or the data's code when no item
    domain is declared), ``rating``, ``user`` and ``date`` when present. The rule looks
    at each rating alone (its item, date and value), never at other ratings.
    """
    frame = ratings.frame
    scale = config.scale(ratings)
    domain = config.domain
    keep = scale.on_scale(frame[RATING].to_numpy())
    items = frame[ITEM].to_numpy().astype(np.int64)
    if domain.items is not None:
        items = domain.items.positions(ratings.item_ids)[items]
        keep &= items >= 0
    if domain.dates is not None and DATE in frame.columns:
        days = frame[DATE].to_numpy()
        keep &= (days >= domain.dates.first) & (days <= domain.dates.last)
    out = frame.loc[keep].assign(**{ITEM: items[keep]})
    dropped = len(frame) - len(out)
    if dropped:
        # The count goes to the organizer's log only, never into the bundle.
        logger.info("aggregates: %d ratings outside the declared domain are not counted", dropped)
    return out


def _bound_contributions(frame: pd.DataFrame, bound: int, rng: np.random.Generator) -> pd.DataFrame:
    """Keep at most ``bound`` ratings per customer, chosen uniformly at random."""
    rank = group_rank(frame[USER].to_numpy(), rng)
    return frame.loc[rank < bound]


def _state(rng: np.random.Generator, seeded: bool) -> np.random.RandomState | None:
    # diffprivlib takes no Generator. Unseeded: None, so that it uses its secure
    # generator. Seeded: a RandomState whose whole MT19937 state comes from 256 bits of
    # ours; an int seed would give it 2^32 possible noise sequences, few enough to search.
    if not seeded:
        return None
    entropy = rng.integers(0, 2**63, size=4, dtype=np.uint64)
    return np.random.RandomState(np.random.MT19937(np.random.SeedSequence(entropy.tolist())))


def _geometric(
    counts: np.ndarray, epsilon: float, sensitivity: int, state: np.random.RandomState | None
) -> np.ndarray:
    from diffprivlib.mechanisms import Geometric  # here: importing policies stays light

    mechanism = Geometric(epsilon=epsilon, sensitivity=sensitivity, random_state=state)
    noisy = np.fromiter((mechanism.randomise(int(c)) for c in counts), np.int64, len(counts))
    return np.maximum(noisy, 0)


def compute_aggregates(
    ratings: Ratings,
    config: AggregatesConfig,
    rng: np.random.Generator,
    *,
    seeded: bool,
) -> dict[str, pd.DataFrame]:
    """Compute every configured statistic with its noise, over the declared domain.

    Parameters
    ----------
    ratings : Ratings
        The ORIGINAL table (the DP guarantee covers it).
    config : AggregatesConfig
    rng : numpy.random.Generator
        Draws the contribution bound's subsets, and diffprivlib's seeds when seeded.
    seeded : bool
        Reproducible noise (tests, keyed seeds) instead of diffprivlib's secure
        generator.

    Returns
    -------
    dict of str to pandas.DataFrame
        One table per statistic, by name; its rows are the declared domain's.

    Raises
    ------
    PolicyError
        When the tables' scale would come from the data (see :meth:`AggregatesConfig.scale`).
    """
    # diffprivlib loads scikit-learn (0.6 s): imported when aggregates are computed
    from diffprivlib.accountant import BudgetAccountant
    from diffprivlib.mechanisms import Laplace

    accountant = BudgetAccountant(epsilon=config.epsilon, delta=config.delta)
    scale = config.scale(ratings)
    domain = config.domain
    bounded = _bound_contributions(in_domain(ratings, config), config.max_ratings_per_user, rng)
    items = bounded[ITEM].to_numpy()
    index = scale.to_index(bounded[RATING].to_numpy()).astype(np.int64)
    item_ids = domain.items.ids if domain.items is not None else ratings.item_ids
    n_items = len(item_ids)
    out: dict[str, pd.DataFrame] = {}
    for stat in config.statistics:
        if stat.name == "ratings_per_period" and DATE not in bounded.columns:
            logger.warning("ratings_per_period: the data has no dates; statistic skipped")
            continue
        accountant.check(stat.epsilon, 0.0)
        sens = config.sensitivity(stat, scale)
        bound = int(sens["count"])
        state = _state(rng, seeded)
        if stat.name == "item_count":
            counts = np.bincount(items, minlength=n_items)
            frame = pd.DataFrame(
                {"item": item_ids, "count": _geometric(counts, stat.epsilon, bound, state)}
            )
        elif stat.name == "rating_histogram":
            counts = np.bincount(index, minlength=scale.k)
            frame = pd.DataFrame(
                {"rating": scale.values(), "count": _geometric(counts, stat.epsilon, bound, state)}
            )
        elif stat.name == "item_histogram":
            counts = np.bincount(items * scale.k + index, minlength=n_items * scale.k)
            frame = pd.DataFrame(
                {
                    "item": np.repeat(item_ids, scale.k),
                    "rating": np.tile(scale.values(), n_items),
                    "count": _geometric(counts, stat.epsilon, bound, state),
                }
            )
        elif stat.name == "ratings_per_period":
            assert domain.dates is not None  # checked at load
            starts = domain.dates.periods(stat.period)
            row = np.searchsorted(starts, period_starts(bounded[DATE].to_numpy(), stat.period))
            counts = np.bincount(row, minlength=len(starts))
            frame = pd.DataFrame(
                {
                    "period": days_to_dates(starts),
                    "count": _geometric(counts, stat.epsilon, bound, state),
                }
            )
        else:  # item_mean
            half = stat.epsilon / 2
            counts = _geometric(np.bincount(items, minlength=n_items), half, bound, state)
            mid = (scale.minimum + scale.maximum) / 2
            sums = np.bincount(items, weights=bounded[RATING].to_numpy() - mid, minlength=n_items)
            laplace = Laplace(
                epsilon=half, sensitivity=sens["sum"], random_state=_state(rng, seeded)
            )
            noisy_sums = np.fromiter((laplace.randomise(float(s)) for s in sums), float, n_items)
            with np.errstate(divide="ignore", invalid="ignore"):
                means = np.clip(mid + noisy_sums / counts, scale.minimum, scale.maximum)
            frame = pd.DataFrame(
                {
                    "item": item_ids,
                    "noisy_count": counts,
                    "mean": np.where(counts >= 1, means, np.nan),
                }
            )
        accountant.spend(stat.epsilon, 0.0)
        out[stat.name] = frame
    logger.info(
        "aggregates: %d statistics, epsilon %.4g of %.4g spent",
        len(out),
        accountant.spent_budget and sum(e for e, _ in accountant.spent_budget),
        config.epsilon,
    )
    return out
