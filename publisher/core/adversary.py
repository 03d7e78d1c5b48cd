"""The one model of an attacker: what they know about a target, and the audits' defaults.

A policy declares adversaries (``audits.adversaries``); the linkage and uniqueness audits
attack with them; the reports describe them. All three use this class, so a value the
policy accepts is exactly a value the audit runs with, and a description printed
anywhere is the same text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from publisher.core.validation import (
    MAX_RATING_TOLERANCE,
    MAX_TOLERANCE_DAYS,
    ParameterError,
    at_path,
    check_int,
    check_keys,
    check_number,
)

__all__ = [
    "CONFIDENCE",
    "CONFIDENCE_LEVEL",
    "DEFAULT_ADVERSARIES",
    "DEFAULT_KNOWN_ITEMS",
    "DEFAULT_PHI",
    "DEFAULT_POSTERIOR",
    "DEFAULT_TARGETS",
    "KNOWLEDGE_MODELS",
    "MATCH_MODES",
    "MIN_TARGETS",
    "Adversary",
    "AuditSettings",
]

#: The confidence level of every interval the audits report and the gate compares with
#: (Wilson intervals of rates, bootstrap intervals of means), and how texts state it.
CONFIDENCE_LEVEL = 0.95
CONFIDENCE = f"{CONFIDENCE_LEVEL:.0%}"
#: Eccentricity a best match must reach before the attacker claims it (Narayanan and
#: Shmatikov use 1.5).
DEFAULT_PHI = 1.5
#: The posterior a claim by posterior needs (the likelihood scorer's rule).
DEFAULT_POSTERIOR = 0.9
#: Targets attacked per adversary, and users sampled per m by the uniqueness audit.
DEFAULT_TARGETS = 1000
#: The m values of the uniqueness audit.
DEFAULT_KNOWN_ITEMS = (1, 2, 4, 8)
#: A re-identification figure drawn from fewer targets decides nothing: the gate calls
#: it inconclusive (and fails it), every headline says so.
MIN_TARGETS = 30
#: How the uniqueness audit matches what the attacker knows: the items alone, with exact
#: ratings, with exact ratings and dates within a tolerance, or with the released period
#: of each date (the day for exact dates, the month for dates coarsened to the month...).
MATCH_MODES = ("items", "ratings", "ratings_dates", "items_period")
#: Where the attacker's knowledge of a target comes from (audits.knowledge): the target's
#: original ratings uniformly, those of items the release lists, or weighted by the
#: item's raters. An adversary's figure is the worst case over the models it names.
KNOWLEDGE_MODELS = ("original", "released", "popular")


@dataclass(frozen=True, kw_only=True)
class Adversary:
    """What the attacker knows about each target, drawn from the original data.

    Parameters
    ----------
    known_items : int
        m, the number of auxiliary items in all, 1 to 1000.
    wrong_items : int
        w of them are items the target did not rate (misremembered), 0 <= w < m.
    rating_tolerance : float
        Each known rating is the true one plus a uniform integer in [-t, t] rating
        units, clipped to the scale; 0 = exact.
    date_tolerance_days : int or None
        Each known date is the true one plus a uniform integer in [-d, d] days;
        None = the adversary knows no dates (the date term is dropped).
    exclude_top : int
        Known items are drawn only outside the N most-rated items (0 = any item).
    knowledge : tuple of str
        The knowledge models attacked with (:data:`KNOWLEDGE_MODELS`, all by default);
        the adversary's figure is the worst case over them.

    Examples
    --------
    >>> Adversary(known_items=8, wrong_items=2, rating_tolerance=1, date_tolerance_days=14)
    ... # doctest: +ELLIPSIS
    Adversary(known_items=8, wrong_items=2, ...)
    >>> Adversary(known_items=2, date_tolerance_days=3).describe()
    '2 items, exact ratings, dates within 3 days'
    """

    known_items: int
    wrong_items: int = 0
    rating_tolerance: float = 0
    date_tolerance_days: int | None = None
    exclude_top: int = 0
    knowledge: tuple[str, ...] = KNOWLEDGE_MODELS

    def __post_init__(self) -> None:
        owner = "Adversary"
        check_int(owner, "known_items", self.known_items, minimum=1, maximum=1000)
        check_int(owner, "wrong_items", self.wrong_items, minimum=0, maximum=self.known_items - 1)
        check_number(
            owner,
            "rating_tolerance",
            self.rating_tolerance,
            minimum=0,
            maximum=MAX_RATING_TOLERANCE,
        )
        if self.date_tolerance_days is not None:
            check_int(
                owner,
                "date_tolerance_days",
                self.date_tolerance_days,
                minimum=0,
                maximum=MAX_TOLERANCE_DAYS,
            )
        check_int(owner, "exclude_top", self.exclude_top, minimum=0)
        models = f"among {', '.join(KNOWLEDGE_MODELS)}"
        if not isinstance(self.knowledge, tuple) or not self.knowledge:
            value = list(self.knowledge) if isinstance(self.knowledge, tuple) else self.knowledge
            raise ParameterError(owner, "knowledge", f"a non-empty list of models {models}", value)
        for model in self.knowledge:  # name the offending model, not "a list"
            if model not in KNOWLEDGE_MODELS:
                raise ParameterError(owner, "knowledge", f"models {models}", model)
        repeated = next((m for m in self.knowledge if self.knowledge.count(m) > 1), None)
        if repeated is not None:
            raise ParameterError(owner, "knowledge", "distinct models (each named once)", repeated)

    @property
    def true_items(self) -> int:
        """Known items the target really rated."""
        return self.known_items - self.wrong_items

    @classmethod
    def from_config(cls, config: Any, path: str) -> Adversary:
        """Build from a policy mapping; ``items`` is ``any`` or ``{exclude_top: N}``.

        Raises
        ------
        PolicyError
            Naming the key path, e.g. ``audits.adversaries[0].known_items: ...``.
        """
        allowed = (
            "known_items",
            "wrong_items",
            "rating_tolerance",
            "date_tolerance_days",
            "items",
            "knowledge",
        )
        given = check_keys(path, config, allowed, required=("known_items",))
        if "knowledge" in given:
            models = given["knowledge"]
            given["knowledge"] = tuple(models) if isinstance(models, list) else (models,)
        items = given.pop("items", "any")
        if items != "any":
            items = check_keys(f"{path}.items", items, ("exclude_top",), required=("exclude_top",))
            given["exclude_top"] = items["exclude_top"]
        return at_path(path, lambda: cls(**given))

    def to_dict(self) -> dict[str, Any]:
        """The adversary as written in a policy (and in report.json)."""
        return {
            "known_items": self.known_items,
            "wrong_items": self.wrong_items,
            "rating_tolerance": self.rating_tolerance,
            "date_tolerance_days": self.date_tolerance_days,
            "items": "any" if self.exclude_top == 0 else {"exclude_top": self.exclude_top},
            "knowledge": list(self.knowledge),
        }

    def describe(self) -> str:
        """One line of plain language (the label of this adversary in every view)."""
        dates = (
            "no dates"
            if self.date_tolerance_days is None
            else f"dates within {self.date_tolerance_days} days"
            if self.date_tolerance_days
            else "exact dates"
        )
        ratings = (
            f"ratings within {self.rating_tolerance:g}"
            if self.rating_tolerance
            else "exact ratings"
        )
        wrong = f" ({self.wrong_items} wrong)" if self.wrong_items else ""
        top = f", outside the top {self.exclude_top} items" if self.exclude_top else ""
        return f"{self.known_items} items{wrong}, {ratings}, {dates}{top}"


#: The adversaries a policy gets when it names none: Narayanan and Shmatikov's two
#: headline cases (8 ratings, 2 of them wrong, within 14 days; 2 exact ratings within
#: 3 days) and an attacker who knows no dates.
DEFAULT_ADVERSARIES = (
    Adversary(known_items=8, wrong_items=2, rating_tolerance=1, date_tolerance_days=14),
    Adversary(known_items=2, rating_tolerance=0, date_tolerance_days=3),
    Adversary(known_items=8, rating_tolerance=0, date_tolerance_days=None),
)


@dataclass(frozen=True, kw_only=True)
class AuditSettings:
    """How a release is attacked and measured: the policy's ``audits`` section as one value.

    Every audit and the tuner's screen take this object (not its fields one by one), so
    a setting added here reaches every run, and a cached attack of the unprotected data
    is reused only under the very settings it was drawn with.

    Parameters
    ----------
    targets : int
        Released customers attacked per adversary, and customers sampled per m by the
        uniqueness audit.
    adversaries : tuple of Adversary
        The attacker models, in the policy's order.
    phi : float
        Eccentricity a best match must reach before a claim.
    uniqueness_known_items : tuple of int
        The m values of the uniqueness audit.
    posterior : float
        The posterior a claim by posterior needs.
    """

    targets: int = DEFAULT_TARGETS
    adversaries: tuple[Adversary, ...] = DEFAULT_ADVERSARIES
    phi: float = DEFAULT_PHI
    uniqueness_known_items: tuple[int, ...] = DEFAULT_KNOWN_ITEMS
    posterior: float = DEFAULT_POSTERIOR

    def __post_init__(self) -> None:
        check_int("AuditSettings", "targets", self.targets, minimum=1)
        check_number("AuditSettings", "phi", self.phi, minimum=0, low_open=True)
        check_number(
            "AuditSettings", "posterior", self.posterior, minimum=0.5, maximum=1, high_open=True
        )

    def with_targets(self, targets: int) -> AuditSettings:
        """The same settings on ``targets`` targets (the tuner's screen)."""
        return dataclasses.replace(self, targets=targets)

    def to_dict(self) -> dict[str, Any]:
        """The section as written in a policy."""
        return {
            "targets": self.targets,
            "phi": self.phi,
            "posterior": self.posterior,
            "adversaries": [a.to_dict() for a in self.adversaries],
            "uniqueness": {"known_items": list(self.uniqueness_known_items)},
        }
