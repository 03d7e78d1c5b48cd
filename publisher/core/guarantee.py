"""A differential-privacy guarantee, as stated by the component that provides it.

A policy step or an aggregate statistic that adds calibrated noise declares its own
:class:`Guarantee` (as a diffprivlib mechanism owns its epsilon checks); report.json,
the Markdown and HTML reports, the datasheet and the manifest collect those objects and
never restate the maths themselves, so two views cannot disagree on an epsilon.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Guarantee"]


@dataclass(frozen=True, kw_only=True)
class Guarantee:
    """What one component guarantees, to whom, and how strongly.

    Parameters
    ----------
    component : str
        Where it comes from, as the policy names it: ``steps[4].perturb_ratings`` or
        ``aggregates.item_count``.
    mechanism : str
        The mechanism, e.g. ``5-ary randomized response`` or ``geometric``.
    epsilon : float
        The privacy parameter.
    delta : float
        0 for pure epsilon-DP.
    scope : str
        What the guarantee covers, e.g. ``each rating value, locally``.
    covers : str
        One plain sentence: what is protected and what is not.
    details : dict
        Mechanism parameters worth reporting (a keep probability, a sensitivity).
    """

    component: str
    mechanism: str
    epsilon: float
    delta: float = 0.0
    scope: str
    covers: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report.json ``privacy_budget.components`` entry."""
        out = asdict(self)
        out["step"] = out.pop("component")  # report.json's field name since schema /1
        return out
