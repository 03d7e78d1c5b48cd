"""frontier.json and recommended.yaml: what a search found, in the files it writes.

Every figure in frontier.html, the terminal table and recommended.yaml's comments is
read from the dict :func:`frontier_dict` builds, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from publisher import __version__
from publisher.reporting.format import number, pct
from publisher.tuning.advice import no_recommendation
from publisher.tuning.search import Trial, TuneResult, utility_lost
from publisher.tuning.space import OBJECTIVES

__all__ = ["SCHEMA", "frontier_dict", "pareto", "recommended_yaml"]

#: 2: several fresh re-audits (``fresh_seeds``, ``recommended.reaudit.draws``) and the
#: estimated probability that a fresh release passes (``pass_probability``).
#: 3: ``no_recommendation`` (the least risky candidate and the knobs that would go
#: further) when nothing is recommended; each risk entry names its ``knowledge`` model.
SCHEMA = "publisher.frontier/3"


def pareto(points: list[tuple[float, float, int]]) -> set[int]:
    """Ids of the points no other point beats on both axes (lower is better on both).

    Parameters
    ----------
    points : list of (loss, risk, id)

    Examples
    --------
    >>> sorted(pareto([(0.1, 0.9, 0), (0.2, 0.5, 1), (0.3, 0.6, 2), (0.5, 0.1, 3)]))
    [0, 1, 3]
    """
    front: set[int] = set()
    best_risk = float("inf")
    for _loss, risk, ident in sorted(points):  # by loss, then risk
        if risk < best_risk:
            front.add(ident)
            best_risk = risk
    return front


def _trial_dict(trial: Trial, result: TuneResult) -> dict[str, Any]:
    figures = trial.figures or {}
    objective = result.space.objective
    return {
        "number": trial.candidate.number,
        "knobs": trial.candidate.as_dict(result.space.knobs),
        "status": trial.status,
        "reason": trial.reason,
        "rung": trial.rung,
        "risk": figures.get("risk"),
        "risk_upper": figures.get("risk_upper"),
        "utility": figures.get("utility"),
        "utility_lost": utility_lost(figures, objective) if figures else None,
        "released": figures.get("released"),
        "seconds": round(trial.seconds, 3),
    }


def frontier_dict(result: TuneResult, source: dict[str, Any]) -> dict[str, Any]:
    """frontier.json: the search, every candidate, the presets and the recommendation."""
    objective = result.space.objective
    candidates = [_trial_dict(t, result) for t in result.trials]
    full = [c for c in candidates if c["rung"] == "full" and c["utility_lost"] is not None]
    front = pareto([(c["utility_lost"], c["risk_upper"], c["number"]) for c in full])
    for c in candidates:
        c["on_frontier"] = c["number"] in front
    statuses = [t.status for t in result.trials]
    presets = {}
    for name, figures in result.presets.items():
        presets[name] = {
            **figures,
            "utility_lost": utility_lost(figures, objective) if "utility" in figures else None,
        }
    recommended = None
    if result.recommended is not None:
        rec = next(c for c in candidates if c["number"] == result.recommended.candidate.number)
        reaudit = result.reaudit or {}
        recommended = {
            "candidate": rec["number"],
            "knobs": rec["knobs"],
            "search": {k: rec[k] for k in ("risk", "risk_upper", "utility", "utility_lost")},
            "reaudit": {
                # the worst of the fresh re-audits (all passed), and what they estimate
                "seeds": reaudit.get("seeds"),
                "draws": reaudit.get("draws"),
                "risk": reaudit.get("risk"),
                "risk_upper": reaudit.get("risk_upper"),
                "risk_upper_each": reaudit.get("risk_upper_each"),
                "utility": reaudit.get("utility"),
                "utility_lost": utility_lost(reaudit, objective) if reaudit else None,
                "verdict": reaudit.get("verdict"),
                "pass_probability": reaudit.get("pass_probability"),
                "min_pass_probability": reaudit.get("min_pass_probability"),
            },
            "policy": result.recommended.candidate.policy.to_dict(),
        }
    return {
        "schema": SCHEMA,
        "tool": {"name": "ratings-publisher", "version": __version__},
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input": source,
        "base_policy": {"name": result.base.name, "sha256": result.base.digest()},
        "objective": {"name": objective, "description": OBJECTIVES[objective]},
        "gate": result.base.gate.to_dict(),
        "search": {
            "seed": result.seed,
            "fresh_seeds": list(result.fresh_seeds),
            "targets": result.base.audits.targets,
            "screen_targets": result.screen_targets,
            "candidates": len(candidates),
            "audited": statuses.count("passed") + statuses.count("failed"),
            "passed": statuses.count("passed"),
            "failed": statuses.count("failed"),
            "screened_out": statuses.count("screened-out"),
            "pruned": statuses.count("pruned"),
            "not_reached": statuses.count("not-reached"),
            "budget_exhausted": result.budget_exhausted,
            "interrupted": result.interrupted,
            "seconds": round(result.seconds, 1),
        },
        "knobs": {k.name: list(k.values) for k in result.space.knobs},
        "candidates": candidates,
        "presets": presets,
        "recommended": recommended,
        "no_recommendation": None if recommended is not None else no_recommendation(result),
        "reaudits": result.reaudits,
    }


def recommended_yaml(frontier: dict[str, Any], policy_yaml: str) -> str:
    """recommended.yaml: the policy, with comments saying where it comes from and why."""
    rec = frontier["recommended"]
    search, reaudit = rec["search"], rec["reaudit"]
    objective = frontier["objective"]
    gate = frontier["gate"]
    counts = frontier["search"]
    knobs = ", ".join(f"{k}: {'null' if v is None else v}" for k, v in rec["knobs"].items())
    utility = search["utility"]
    lines = [
        f"# Recommended by publisher tune (ratings-publisher {frontier['tool']['version']}, "
        f"{frontier['created']}).",
        f"# Input: {frontier['input']['name']} (sha256 {frontier['input']['sha256'][:16]}...).",
        f"# Base policy: {frontier['base_policy']['name']}; its audits and gate "
        f"(max_reidentification_rate {gate['max_reidentification_rate']}) are kept.",
        f"# Objective: {objective['description']}.",
        f"# Of {counts['candidates']} candidates, {counts['passed']} passed the gate on the "
        f"search's draws (seed {frontier['search']['seed']}); this is the most useful of them:",
        f"#   {knobs}",
        f"# On the search's draws: worst re-identification upper bound "
        f"{pct(search['risk_upper'])}, RMSE increase "
        f"{number(utility['rmse_increase'])}, ratings kept {pct(utility['ratings_kept'])}.",
        f"# Re-audited on {reaudit['draws']} fresh draws (seeds "
        f"{', '.join(map(str, reaudit['seeds']))}: new noise, targets and knowledge), all "
        f"passed; upper bounds {', '.join(pct(u) for u in reaudit['risk_upper_each'])}.",
        f"# Estimated probability that a fresh release passes the gate: "
        f"{reaudit['pass_probability']:.2f} (a recommendation needs at least "
        f"{reaudit['min_pass_probability']:.2f}).",
        "# Choosing the best of many noisy audits flatters the winner; the fresh re-audits are",
        "# the figures to quote. publisher release draws new noise again and re-checks the gate.",
        "",
    ]
    return "\n".join(lines) + policy_yaml
