"""When nothing passes: the least risky candidate, and which knob would go further.

A search that finds no policy is a finding, not a failure to report: the organizer is
told how close the space came (the candidate with the lowest risk upper bound, and its
figure) and where the space ends (the knobs that candidate already holds at the
space's most protective value, which a wider space could push further).
"""

from __future__ import annotations

from typing import Any

from policies import STEPS
from publisher.tuning.search import Trial, TuneResult
from publisher.tuning.space import Knob

__all__ = ["SUGGESTED", "least_risky", "next_knobs", "no_recommendation"]

#: The knobs ordered by protection ("up" or "down", each step's ``protection`` trait),
#: in the order they are suggested when a space lacks them.
SUGGESTED = (
    ("drop_rare_items", "min_raters"),
    ("cap_user_ratings", "max_ratings"),
    ("perturb_ratings", "epsilon"),
    ("drop_sparse_users", "min_ratings"),
    ("sample_users", "fraction"),
    ("delete_ratings", "fraction"),
    ("jitter_dates", "max_days"),
)


def _beyond(step: str, param: str) -> str:
    """How a knob goes further than its most protective value, in a word."""
    return {"up": "above", "down": "below"}[STEPS[step].protection[param]]


def least_risky(trials: list[Trial]) -> Trial | None:
    """The measured candidate with the lowest risk upper bound (ties: more ratings kept)."""
    measured = [t for t in trials if t.figures and t.figures.get("risk")]
    if not measured:
        return None

    def key(trial: Trial) -> tuple[float, float]:
        figures = trial.figures or {}
        kept = (figures.get("utility") or {}).get("ratings_kept") or 0.0
        return (figures["risk_upper"], -kept)

    return min(measured, key=key)


def next_knobs(knobs: tuple[Knob, ...], values: tuple[Any, ...]) -> list[str]:
    """Where a candidate's space ends, and what could go further.

    First the knobs it holds at the space's most protective value, then the protective
    knobs the space does not search at all.

    Examples
    --------
    >>> knobs = (Knob("drop_rare_items", "min_raters", (None, 10, 100)),
    ...          Knob("perturb_ratings", "epsilon", (None, 1.0)))
    >>> next_knobs(knobs, (100, None))[:2]
    ['drop_rare_items.min_raters above 100', 'add cap_user_ratings.max_ratings (not searched)']
    """
    out = []
    for knob, value in zip(knobs, values, strict=True):
        if not knob.monotone or value is None:
            continue
        if knob.rank(value) < max(knob.rank(v) for v in knob.values):
            continue  # the space's stronger values were tried: they are in the frontier
        key = (knob.step, knob.param)
        if key == ("coarsen_dates", "to"):
            if value != "drop":
                out.append(f"{knob.name}: drop (no dates)")
            continue
        out.append(f"{knob.name} {_beyond(*key)} {value:g}")
    searched = {(k.step, k.param) for k in knobs}
    out += [
        f"add {step}.{param} (not searched)"
        for step, param in SUGGESTED
        if (step, param) not in searched
    ]
    return out


def no_recommendation(result: TuneResult) -> dict[str, Any]:
    """frontier.json ``no_recommendation``: why, the least risky candidate, what next."""
    passed = sum(t.status == "passed" for t in result.trials)
    gate = f"the gate of {result.base.name}"
    why = (
        f"{passed} candidate{'s' if passed > 1 else ''} passed {gate} on the search's draws, "
        "none on every fresh re-audit"
        if passed
        else f"no candidate passed {gate}"
    )
    trial = least_risky(result.trials)
    if trial is None:
        return {"why": why, "least_risky": None, "next": []}
    figures = trial.figures or {}
    following = next_knobs(result.space.knobs, trial.candidate.values)
    following.append(
        "or publish no microdata: aggregates.microdata: false releases the DP aggregates alone"
    )
    return {
        "why": why,
        "least_risky": {
            "candidate": trial.candidate.number,
            "knobs": trial.candidate.as_dict(result.space.knobs),
            "status": trial.status,
            "rung": trial.rung,
            "risk": figures.get("risk"),
            "risk_upper": figures.get("risk_upper"),
            "utility": figures.get("utility"),
        },
        "next": following,
    }
