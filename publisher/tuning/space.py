"""The space of policies ``publisher tune`` searches: knobs, their values, the objective.

A space file is a YAML mapping. Every key but ``objective`` is a knob, ``STEP.PARAM``,
with the list of values to try::

    objective: rmse_increase        # or ratings_kept, popularity_spearman
    drop_rare_items.min_raters: [null, 20, 50, 100]
    cap_user_ratings.max_ratings: [null, 300, 100, 50]
    coarsen_dates.to: [null, month, quarter, year, drop]
    perturb_ratings.epsilon: [null, 4, 2, 1, 0.5]
    sample_users.fraction: [1, 0.5]

``null`` leaves the step out; ``coarsen_dates.to: drop`` uses ``drop_dates`` instead
of coarsening. A knob on a step of the base policy changes that step's parameter in
place; a knob on a step the base lacks adds the step where the documented step order
puts it. Every value is validated as the step validates it, naming the knob.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from policies import STEPS, Policy, build_step
from policies.schema import parse_policy
from publisher.core.errors import PolicyError
from publisher.core.parsing import strict_yaml
from publisher.core.validation import shown

__all__ = [
    "DEFAULT_SPACE",
    "OBJECTIVES",
    "Candidate",
    "Knob",
    "Space",
    "load_space",
    "parse_objective",
    "parse_space",
]

#: Utility measures a search may optimize: name -> (report.json utility key, wording).
OBJECTIVES = {
    "rmse_increase": "RMSE increase of the factorization on the holdout (lower is better)",
    "ratings_kept": "share of the ratings released (higher is better)",
    "popularity_spearman": "rank correlation of item popularity (higher is better)",
}

#: At most this many candidates: a larger space is refused, not silently cut.
MAX_CANDIDATES = 5_000

#: The space searched when no ``--space`` is given. Rare items, history length, dates,
#: rating noise and a sample of customers, to the strong end: against an attacker who
#: knows ratings of listed films, only few items, no dates and heavy noise came near a
#: 5% gate on the demo data and MovieLens 100K (item presence alone singles customers
#: out). A sample removes customers but leaves the rest easier to single out among fewer.
DEFAULT_SPACE = """\
objective: rmse_increase
drop_rare_items.min_raters: [null, 25, 100, 200, 400]
cap_user_ratings.max_ratings: [null, 300, 50]
coarsen_dates.to: [null, month, year, drop]
perturb_ratings.epsilon: [null, 1, 0.5, 0.1]
sample_users.fraction: [null, 0.5]
"""

# Knobs whose values are ordered by protection (each step's ``protection`` trait): the
# search may skip a candidate that protects at least as much as one that already passed
# (see Candidate.protects_at_least). Values map to a rank, higher = more protective;
# ``None`` (step left out) is the least protective end. coarsen_dates.to also takes
# "drop" (no dates), the most protective of all.
_DATE_LEVELS = (None, *STEPS["coarsen_dates"].protection["to"], "drop")


def _order(step: str, param: str) -> Any:
    """The step's declared protection order of ``param``: "up", "down", values or None."""
    cls = STEPS.get(step)
    return None if cls is None else cls.protection.get(param)


@dataclass(frozen=True)
class Knob:
    """One searched parameter: ``step.param`` and the values to try (None: no step)."""

    step: str
    param: str
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        """``step.param``."""
        return f"{self.step}.{self.param}"

    @property
    def monotone(self) -> bool:
        """Whether its values are ordered by protection (see :meth:`rank`)."""
        return _order(self.step, self.param) is not None

    def rank(self, value: Any) -> float:
        """How much ``value`` protects, on this knob's order (higher: more)."""
        order = _order(self.step, self.param)
        if isinstance(order, tuple):  # coarsen_dates.to also takes "drop", beyond them all
            dates = (self.step, self.param) == ("coarsen_dates", "to")
            return float((_DATE_LEVELS if dates else (None, *order)).index(value))
        if order == "up":
            return -math.inf if value is None else float(value)
        if order == "down":
            return -math.inf if value is None else -float(value)
        raise ValueError(f"{self.name} is not ordered by protection")


@dataclass(frozen=True)
class Candidate:
    """One point of the space: a value per knob, and the policy it makes."""

    number: int
    values: tuple[Any, ...]
    policy: Policy

    def describe(self, knobs: tuple[Knob, ...]) -> str:
        """``min_raters=20 max_ratings=none to=month`` (knob parameters only)."""
        return " ".join(
            f"{k.param}={'none' if v is None else v}"
            for k, v in zip(knobs, self.values, strict=True)
        )

    def as_dict(self, knobs: tuple[Knob, ...]) -> dict[str, Any]:
        """``{step.param: value}`` per knob."""
        return {k.name: v for k, v in zip(knobs, self.values, strict=True)}

    def protects_at_least(self, other: Candidate, knobs: tuple[Knob, ...]) -> bool:
        """Whether this candidate protects at least as much as ``other`` on every knob.

        Ordered knobs compare by :meth:`Knob.rank`; any other knob must be equal.
        """
        for knob, mine, theirs in zip(knobs, self.values, other.values, strict=True):
            if knob.monotone:
                if knob.rank(mine) < knob.rank(theirs):
                    return False
            elif mine != theirs:
                return False
        return True


@dataclass(frozen=True)
class Space:
    """The knobs searched and the utility measure optimized."""

    knobs: tuple[Knob, ...]
    objective: str = "rmse_increase"

    @property
    def size(self) -> int:
        """Number of candidates: the product of the knobs' value counts."""
        return math.prod(len(k.values) for k in self.knobs)

    def check_base(self, base: Policy) -> None:
        """Refuse knobs that cannot make a complete step on ``base``.

        Raises
        ------
        PolicyError
            A knob on a step the base lacks, when the space does not set the step's
            other required parameters.
        """
        names = {step.name for step in base.steps}
        for step in {k.step for k in self.knobs} - names:
            given = {k.param for k in self.knobs if k.step == step}
            missing = sorted(_required(step) - given)
            if missing:
                raise PolicyError(
                    f"space: {step}.{sorted(given)[0]}: the base policy has no {step} step and "
                    f"the space does not set {', '.join(missing)}; add "
                    f"{', '.join(f'{step}.{m}' for m in missing)} or put the step in the base"
                )

    def candidates(self, base: Policy) -> list[Candidate]:
        """Every combination of knob values as a policy built on ``base``.

        Ordered from the least to the most protective (by the sum of the ordered knobs'
        positions), so candidates that keep more are tried first.
        """
        out = []
        for number, values in enumerate(itertools.product(*(k.values for k in self.knobs))):
            out.append(Candidate(number, values, candidate_policy(base, self.knobs, values)))
        positions = [{v: j for j, v in enumerate(k.values)} for k in self.knobs]

        def protection(c: Candidate) -> tuple[float, int]:
            total = 0.0
            for knob, value, where in zip(self.knobs, c.values, positions, strict=True):
                if knob.monotone:
                    order = sorted(knob.values, key=knob.rank)
                    total += order.index(value) / max(len(order) - 1, 1)
                else:
                    total += where[value] / max(len(knob.values) - 1, 1)
            return total, c.number

        return sorted(out, key=protection)


def candidate_policy(base: Policy, knobs: tuple[Knob, ...], values: tuple[Any, ...]) -> Policy:
    """``base`` with each knob's value set, its step added or left out."""
    config = base.to_dict()
    steps: list[dict[str, Any]] = [dict(entry) for entry in config["steps"]]
    names = [next(iter(entry)) for entry in steps]
    by_step: dict[str, dict[str, Any]] = {}
    for knob, value in zip(knobs, values, strict=True):
        by_step.setdefault(knob.step, {})[knob.param] = value
    for step, params in by_step.items():
        drop_dates = step == "coarsen_dates" and params.get("to") == "drop"
        absent = drop_dates or any(v is None for v in params.values())
        if step in names:
            k = names.index(step)
            if absent:
                del steps[k], names[k]
            else:
                steps[k] = {step: {**steps[k][step], **params}}
        elif not absent:
            _insert(steps, names, step, params)
        if drop_dates and "drop_dates" not in names:
            for other in ("coarsen_dates", "jitter_dates"):
                if other in names:  # nothing left to coarsen or move
                    k = names.index(other)
                    del steps[k], names[k]
            _insert(steps, names, "drop_dates", {})
    config["steps"] = steps
    config["name"] = f"{base.name}-tuned"
    text = _dump(config)
    return parse_policy(text, "candidate")


def _insert(steps: list[dict[str, Any]], names: list[str], step: str, params: dict) -> None:
    """Insert ``step`` before the first step that the documented order puts after it."""
    order = list(STEPS)
    at = next((k for k, n in enumerate(names) if order.index(n) > order.index(step)), len(names))
    steps.insert(at, {step: params})
    names.insert(at, step)


def _dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def parse_space(text: str, label: str = "space") -> Space:
    """Parse and validate a space file's text.

    Raises
    ------
    PolicyError
        Naming the knob (and value) at fault.
    """
    data = strict_yaml(text, label, PolicyError, "a space")
    if not isinstance(data, dict) or not data:
        raise PolicyError(f"{label}: must be a mapping of STEP.PARAM: [values] (and objective)")
    objective = parse_objective(data.pop("objective", "rmse_increase"), f"{label}: objective")
    knobs = []
    for key, values in data.items():
        where = f"{label}: {key}"
        if not isinstance(key, str) or key.count(".") != 1:
            raise PolicyError(
                f"{label}: knob {shown(key)} must be STEP.PARAM, e.g. coarsen_dates.to"
            )
        step, param = key.split(".")
        if step not in STEPS:
            raise PolicyError(f"{where}: unknown step {shown(step)}; steps: {', '.join(STEPS)}")
        if step == "pseudonymize_users":
            raise PolicyError(f"{where}: pseudonyms are not a knob (every release needs them)")
        if not isinstance(values, list) or not values:
            raise PolicyError(f"{where}: must be a non-empty list of values")
        if len(set(map(repr, values))) != len(values):
            raise PolicyError(f"{where}: a value is listed twice")
        for k, value in enumerate(values):
            if value is None or (step, param, value) == ("coarsen_dates", "to", "drop"):
                continue
            try:
                build_step({step: {param: value, **_companions(step, param)}}, "@")
            except PolicyError as exc:  # "@.step.param: problem" -> "space: step.param[k]: ..."
                problem = str(exc).removeprefix(f"@.{step}").removeprefix(f".{param}")
                if (step, param) == ("coarsen_dates", "to"):
                    problem += " (or, in a space, null or drop)"
                raise PolicyError(f"{where}[{k}]{problem}") from None
        knobs.append(Knob(step, param, tuple(values)))
    if not knobs:
        raise PolicyError(f"{label}: names no knob to search")
    space = Space(tuple(knobs), objective)
    if space.size > MAX_CANDIDATES:
        raise PolicyError(
            f"{label}: {space.size:,} candidates; at most {MAX_CANDIDATES:,} (list fewer values)"
        )
    return space


def parse_objective(value: Any, where: str) -> str:
    """A utility measure's name, checked against :data:`OBJECTIVES`."""
    if value not in OBJECTIVES:
        raise PolicyError(f"{where}: must be one of {', '.join(OBJECTIVES)}, got {shown(value)}")
    return str(value)


def _companions(step: str, param: str) -> dict[str, Any]:
    """Other required parameters of ``step``, so that one value can be validated alone."""
    required = {
        "perturb_ratings": {"epsilon": 1.0},
        "redate_ratings": {"fraction": 0.01, "max_days": 30},
    }
    return {k: v for k, v in required.get(step, {}).items() if k != param}


def _required(step: str) -> set[str]:
    return {
        f.name
        for f in dataclasses.fields(STEPS[step])
        if f.repr and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }


def load_space(source: str | Path | None) -> Space:
    """The space in file ``source``, or :data:`DEFAULT_SPACE` for None."""
    if source is None:
        return parse_space(DEFAULT_SPACE, "default space")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the space ({exc.__class__.__name__})") from None
    return parse_space(text, str(path))
