"""``publisher tune`` as a library call: read once, search, write the output folder."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies import Policy, load_policy
from publisher.core.errors import PublisherError
from publisher.core.parsing import json_text
from publisher.engine.evaluate import input_digest
from publisher.engine.output import check_output
from publisher.engine.staging import output_lock, staging
from publisher.readers import DEFAULT_READING, ReadOptions, detect_format, readable_input
from publisher.reporting.format import pct
from publisher.tuning.frontier import frontier_dict, recommended_yaml
from publisher.tuning.page import render_frontier_html
from publisher.tuning.search import Trial, TuneResult, tune_ratings
from publisher.tuning.space import Space, load_space, parse_objective

__all__ = ["NoRecommendationError", "TuneRun", "tune"]

FILES = ("frontier.json", "frontier.html", "recommended.yaml")
logger = logging.getLogger(__name__)

#: tune has no --overwrite: what it says of an existing --out.
NEW_FOLDER = "tune writes a new folder: name another --out"


class NoRecommendationError(PublisherError):
    """No candidate passed the gate (and its re-audit): the frontier is written, no policy."""

    exit_code = 3

    def __init__(self, message: str, run: TuneRun) -> None:
        super().__init__(message)
        #: The search and its frontier, written all the same.
        self.run = run


@dataclass
class TuneRun:
    """A finished search and the folder it wrote."""

    result: TuneResult
    frontier: dict[str, Any]
    out: Path


def tune(
    input: str | Path,
    base: Policy | str | Path,
    out: str | Path,
    *,
    space: Space | str | Path | None = None,
    reading: ReadOptions = DEFAULT_READING,
    seed: int | None = None,
    budget_minutes: float | None = None,
    objective: str | None = None,
    prune: bool = True,
    progress: Callable[[Trial, int, int], None] | None = None,
) -> TuneRun:
    """Search a space of policies on ``input`` and write ``out``.

    ``out`` receives frontier.json, frontier.html and, when a candidate passed the
    gate and its re-audit on fresh draws, recommended.yaml. ``out`` must not exist
    (nothing of the organizer's is ever replaced); it appears whole or not at all.

    Parameters
    ----------
    input : path
    base : Policy, preset name or path
        Gate, audits and fixed steps.
    out : path
        A new folder.
    space : Space, path or None
        The knobs; None for :data:`publisher.tuning.space.DEFAULT_SPACE`.
    reading : ReadOptions
    seed : int, optional
        The search's draws (a random one, recorded in frontier.json, when omitted).
    budget_minutes : float, optional
        Stop evaluating candidates after this long.
    objective : str, optional
        Overrides the space's objective.
    prune : bool
        See :func:`publisher.tuning.search.tune_ratings`.
    progress : callable, optional

    Returns
    -------
    TuneRun

    Raises
    ------
    NoRecommendationError
        After writing the frontier, when nothing can be recommended (exit code 3).
    """
    input, out = Path(input), Path(out)
    policy = base if isinstance(base, Policy) else load_policy(base)
    if not isinstance(space, Space):
        space = load_space(space)
    if objective is not None:
        space = Space(space.knobs, parse_objective(objective, "--objective"))
    space.check_base(policy)
    if budget_minutes is not None and not budget_minutes > 0:
        raise PublisherError(f"--budget-minutes: must be > 0, got {budget_minutes}")
    check_output(out, inputs=[input], overwrite=False, exists_hint=NEW_FOLDER)
    with readable_input(input, reading.limits) as path:  # stdin or a FIFO: copied once
        ratings = reading.read(path)
        digest = input_digest(path)
        input_format = detect_format(path) if reading.format == "auto" else reading.format
    seed = secrets.randbits(63) if seed is None else seed
    result = tune_ratings(
        ratings,
        policy,
        space,
        seed=seed,
        budget_seconds=None if budget_minutes is None else 60 * budget_minutes,
        prune=prune,
        progress=progress,
        input_format=input_format,
        input_sha256="",
    )
    source = {
        "name": ratings.source,
        "sha256": digest,
        "counts": ratings.counts(),
    }
    frontier = frontier_dict(result, source)
    with output_lock(out), staging(out, exists_hint=NEW_FOLDER) as (temp,):
        (temp / "frontier.json").write_text(json_text(frontier), "utf-8")
        (temp / "frontier.html").write_text(render_frontier_html(frontier), "utf-8")
        if result.recommended is not None:
            text = recommended_yaml(frontier, _tuned(result).to_yaml())
            (temp / "recommended.yaml").write_text(text, "utf-8")
    run = TuneRun(result, frontier, out)
    if result.interrupted:
        # Ctrl-C: what was measured is on disk; the command ends as any interrupt does
        measured = sum(t.status != "not-reached" for t in result.trials)
        logger.warning(
            "interrupted after %d of %d candidates: the partial frontier is in %s",
            measured,
            len(result.trials),
            out,
        )
        raise KeyboardInterrupt
    if result.recommended is None:
        raise NoRecommendationError(no_recommendation_text(frontier, out), run)
    return run


def no_recommendation_text(frontier: dict[str, Any], out: Path) -> str:
    """The one line ``publisher tune`` ends with when it recommends nothing."""
    advice = frontier["no_recommendation"]
    search = frontier["search"]
    text = (
        f"{out}: {advice['why']} ({search['audited']} audited in full, "
        f"{search['screened_out']} screened out)"
    )
    least = advice["least_risky"]
    if least is not None:
        knobs = ", ".join(f"{k}={'none' if v is None else v}" for k, v in least["knobs"].items())
        worst = max(least["risk"], key=lambda r: r["ci"][1])
        text += (
            f"; the least risky, #{least['candidate']} ({knobs}), reaches "
            f"{pct(least['risk_upper'])} upper bound ({worst['adversary']}, "
            f"{worst['scorer']}, {worst.get('knowledge') or 'original'} knowledge"
            f"{', screen' if least['rung'] == 'screen' else ''}); next: "
            f"{'; '.join(advice['next'])}"
        )
    return f"{text}; the frontier is in {out / 'frontier.html'}"


def _tuned(result: TuneResult) -> Policy:
    """The recommended candidate's policy, named and described for what it is."""
    trial = result.recommended
    assert trial is not None
    knobs = trial.candidate.describe(result.space.knobs)
    return dataclasses.replace(
        trial.candidate.policy,
        name=f"{result.base.name}-tuned",
        description=(
            f"{result.base.name} with {knobs}: the most useful candidate of publisher tune "
            f"that passed the gate on the search's draws and on a fresh re-audit."
        ),
    )
