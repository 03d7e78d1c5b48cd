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

from typing import Any

from policies.steps._base import Step
from policies.steps.dates import CoarsenDates, DropDates, JitterDates, RedateRatings
from policies.steps.decoys import DeleteRatings, InsertRatings
from policies.steps.identifiers import PseudonymizeUsers
from policies.steps.noise import PerturbRatings
from policies.steps.suppression import CapUserRatings, DropRareItems, DropSparseUsers, SampleUsers
from publisher.core.errors import PolicyError
from publisher.core.validation import shown

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
        raise PolicyError(f"{path}: unknown step {shown(step_name)}; steps: {', '.join(STEPS)}")
    try:
        return STEPS[step_name].from_config(config, f"{path}.{step_name}")
    except ParameterError as exc:
        raise PolicyError(exc.at(f"{path}.{step_name}")) from None
    except TypeError as exc:  # a required parameter is missing
        missing = str(exc).rsplit(":", 1)[-1].strip()
        raise PolicyError(f"{path}.{step_name}: missing required key {missing}") from None
