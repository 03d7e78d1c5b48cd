"""What every step shares: the :class:`Step` base class and the row helpers steps use."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from publisher.core.channel import Channel
from publisher.core.guarantee import Guarantee
from publisher.core.jit import njit
from publisher.core.ratings import (
    DATE,
    Ratings,
    Scale,
    row_index_dtype,
)
from publisher.core.validation import (
    check_keys,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Step:
    """Base class: a named, validated, pure transformation of a ratings table."""

    #: The step's key in a policy file.
    name: ClassVar[str] = ""
    #: Whether the step may add or remove rows.
    changes_rows: ClassVar[bool] = False
    #: Whether the step draws randomness whose secrecy protects (noise, a random
    #: subset). A seeded release of such a step must mix the organizer's key into the
    #: seed, or anyone could replay the draws and undo them. True unless a step is a
    #: deterministic function of the data (and, for pseudonyms, of the key).
    randomized: ClassVar[bool] = True
    #: Whether the step only removes ratings, leaving every kept one as it was: an
    #: attacker of the original can apply it first (the policy-simulated attack).
    removes_only: ClassVar[bool] = False
    #: Whether the step needs a secret subkey (:meth:`with_key`): the engine derives one
    #: from the organizer's key; the step never sees the key itself.
    needs_key: ClassVar[bool] = False
    #: Whether the step moves dates, by up to :meth:`date_window_days` (the date
    #: recovery audit's window).
    moves_dates: ClassVar[bool] = False
    #: Whether the step adds or moves ratings an attacker might tell apart from real
    #: ones (decoys): the distinguishability audit measures it.
    distinguishable: ClassVar[bool] = False
    #: How each parameter orders protection, for the tuner's pruning: ``"up"`` (a
    #: larger value protects more), ``"down"``, or the values from least to most
    #: protective. A parameter not listed is not ordered.
    protection: ClassVar[Mapping[str, Any]] = {}

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:
        """Return a transformed copy of ``ratings``; never mutates the input."""
        raise NotImplementedError

    def describe(self) -> str:
        """What the step does to the data, in one plain phrase (datasheet and reports)."""
        raise NotImplementedError

    def attacker_channel(self, channel: Channel, scale: Scale) -> Channel:
        """``channel`` with this step's part, as an attacker reads it from the policy.

        The policy-aware likelihood scorer models the release by folding every step's
        part in order (:mod:`publisher.core.channel`). A step that changes nothing an
        attacker models (pseudonyms, dropping rare items, which leaves every kept rating
        as it was) keeps the channel as it is.
        """
        return channel

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

    def date_window_days(self) -> int:
        """How far the step moves a date, as the width it adds to the recovery window."""
        return 0

    def date_period(self) -> str | None:
        """The period released dates are coarsened to by this step; None for most."""
        return None

    @property
    def stable_key(self) -> bool:
        """Whether the step's subkey must stay the same across releases (linkable)."""
        return False

    def with_key(self, subkey: bytes) -> Step:
        """The step holding ``subkey`` (only for steps that declare ``needs_key``)."""
        raise TypeError(f"{self.name} takes no key")

    @classmethod
    def from_config(cls, config: Any, path: str) -> Step:
        """Build the step from its policy mapping, checking keys first."""
        names = [f.name for f in dataclasses.fields(cls) if f.repr]
        return cls(**check_keys(path, config, names))

    def to_config(self) -> dict[str, Any]:
        """The step's public parameters (secrets excluded), as written to a policy file."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.repr}


#: The traits every registered step states in its own class body (none inherited).
TRAITS = (
    "changes_rows",
    "randomized",
    "removes_only",
    "needs_key",
    "moves_dates",
    "distinguishable",
    "protection",
)


def _keep_rows(ratings: Ratings, mask: np.ndarray) -> Ratings:
    # Column by column with numpy's boolean take: frame.loc[mask] first turns the mask
    # into an int64 row indexer (800 MB at 100M ratings).
    frame = ratings.frame
    kept = {name: frame[name].to_numpy()[mask] for name in frame.columns}
    return ratings.with_frame(pd.DataFrame(kept, copy=False))


@njit
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


def group_rank(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rank 0..n-1 of every row within its group, in O(rows).

    Ranks are positions in a random permutation (the one ``rng.permutation`` draws),
    held in int32 below 2**31 rows: 0.8 GB of temporaries at 100M rows, not 2.8.
    """
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    order = np.arange(len(groups), dtype=row_index_dtype(len(groups)))
    rng.shuffle(order)  # the same draws as rng.permutation(len(groups))
    return _rank_in_order(groups, order, int(groups.max()) + 1)


def _dates_or_none(ratings: Ratings, step: Step) -> np.ndarray | None:
    if not ratings.has_dates:
        logger.warning("%s: the data has no dates; nothing to do", step.name)
        return None
    return ratings.frame[DATE].to_numpy()
