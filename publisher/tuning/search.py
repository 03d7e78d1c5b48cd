"""The search of ``publisher tune``: screen, audit in full, prune, re-audit the winner.

One table, read once; the attacks on the unprotected data drawn once per target count
and reused by every candidate (their figures do not depend on the policy). Each
candidate then goes through up to two rungs:

1. **screen**: the policy's steps and the linkage audit alone, on ``screen_targets``
   targets. A candidate whose re-identification interval lies wholly above a gate
   threshold (lower bound > threshold) cannot pass with more targets either, bar a
   1-in-40 draw, and stops here.
2. **full audit**: :func:`publisher.engine.evaluate_ratings`, the evaluation
   ``publisher audit`` runs (same targets, audits, utility and gate), with the
   search's seed.

Candidates are taken from the least to the most protective. A candidate that protects
at least as much as one that already passed the full audit, on every knob ordered by
protection and equal on the others, is not evaluated: it removes or perturbs at least
as much data, so its utility is no better (exactly so for the share of ratings kept
under ``drop_rare_items``, ``cap_user_ratings`` and ``drop_sparse_users``; in
expectation for the factorization RMSE and the popularity correlation). ``prune=False``
evaluates them all.

Choosing the best of many noisy audits flatters the winner, so the winner is audited
again on :data:`FRESH_DRAWS` fresh draws (other seeds: new step noise, new targets, new
auxiliary information, a new unprotected side). It is recommended only if every re-audit
passes AND the probability they estimate that one more fresh release passes
(:mod:`publisher.tuning.stability`) is at least :data:`MIN_PASS_PROBABILITY`; otherwise
the next passing candidate is tried (at most :data:`MAX_REAUDITS` candidates). When none
holds, the candidates they pruned were never measured: they are searched then (pruned
only by passing candidates not yet re-audited) and the best of those re-audited, until
one holds or nothing pruned is left.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audits import LinkageResult, UnprotectedAudit
from audits._index import IndexedTable
from policies import Policy, load_policy
from policies.schema import list_presets
from publisher.core.adversary import CONFIDENCE_LEVEL, MIN_TARGETS
from publisher.core.decision import GateCheck
from publisher.core.errors import PolicyError
from publisher.core.ratings import Ratings
from publisher.engine.apply import apply_policy
from publisher.engine.evaluate import Evaluation, evaluate_ratings, seed_sequence
from publisher.engine.gate import apply_gate
from publisher.engine.runner import AuditSeeds, run_policy_audits
from publisher.tuning.space import Candidate, Space
from publisher.tuning.stability import pass_probability

__all__ = [
    "FRESH_DRAWS",
    "MAX_REAUDITS",
    "MIN_PASS_PROBABILITY",
    "Trial",
    "TuneResult",
    "figures_of",
    "tune_ratings",
]

logger = logging.getLogger(__name__)

#: Passing candidates re-audited on fresh draws, best first, before giving up.
MAX_REAUDITS = 3
#: Fresh draws each re-audited candidate must pass, every one of them.
FRESH_DRAWS = 3
#: The least estimated probability that a fresh release passes, for a recommendation:
#: the margin that keeps a recommendation from flipping at the threshold.
MIN_PASS_PROBABILITY = 0.9


@dataclass
class Trial:
    """What happened to one candidate.

    Attributes
    ----------
    candidate : Candidate
    status : str
        ``passed`` or ``failed`` (full audit), ``screened-out`` (clearly above a
        threshold on the screen), ``pruned`` (protects at least as much as a passed
        candidate), ``not-reached`` (the time budget ran out first).
    reason : str
        One line: the failed check, the candidate that pruned it...
    figures : dict or None
        Risk per adversary and utility (see :func:`figures_of`), from the most
        thorough rung run.
    rung : str or None
        ``screen`` or ``full``: where ``figures`` come from.
    seconds : float
    """

    candidate: Candidate
    status: str = "not-reached"
    reason: str = ""
    figures: dict[str, Any] | None = None
    rung: str | None = None
    seconds: float = 0.0
    #: The passed candidate that pruned this one (its number).
    pruned_by: int | None = None


@dataclass
class TuneResult:
    """The search's outcome: every trial, the recommendation and its fresh re-audit."""

    space: Space
    base: Policy
    trials: list[Trial]
    seed: int
    fresh_seeds: tuple[int, ...]
    screen_targets: int
    recommended: Trial | None = None
    #: The recommendation's re-audits (all passed), and their pooled estimate.
    reaudit: dict[str, Any] | None = None
    #: Every re-audit run, by candidate: figures with ``seed``, ``candidate``.
    reaudits: list[dict[str, Any]] = field(default_factory=list)
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget_exhausted: bool = False
    #: Ctrl-C stopped the search: what was measured is kept, nothing is recommended.
    interrupted: bool = False
    seconds: float = 0.0


def figures_of(evaluation: Evaluation) -> dict[str, Any]:
    """The figures of one evaluation a search compares: risk, utility, the gate.

    ``risk`` lists, per adversary, the release's worst case over the scorer portfolio
    with its interval; ``risk_upper`` is the largest upper bound among them. Read from
    the typed results (never from report.json).
    """
    risk = _risk(evaluation.audits.linkage)
    utility = evaluation.audits.utility
    gate = evaluation.gate
    return {
        "risk": risk,
        "risk_upper": _upper(risk),
        "utility": {
            "rmse_increase": utility.mf_rmse_increase if utility else None,
            "ratings_kept": utility.kept["ratings"] if utility else None,
            "popularity_spearman": utility.item_popularity_spearman if utility else None,
        },
        "released": evaluation.released.counts(),
        "verdict": gate.verdict,
        "failed_checks": [_check_text(c) for c in gate.checks if not c.passed],
        "checks": [{"check": c.check, "passed": c.passed} for c in gate.checks],
    }


def _risk(linkage: list[LinkageResult]) -> list[dict[str, Any]]:
    """Per adversary, the release's worst case over the portfolio, with its interval."""
    out = []
    for result in linkage:
        worst = result.worst()
        risk = worst.released.risk(CONFIDENCE_LEVEL)
        out.append(
            {
                "adversary": result.adversary.describe(),
                "reidentified": risk.value,
                "ci": list(risk.ci),
                "scorer": worst.scorer,
                "knowledge": worst.knowledge,
                "targets": worst.released.n,
            }
        )
    return out


def _upper(risk: list[dict[str, Any]]) -> float:
    """The largest upper bound over the adversaries."""
    return max((r["ci"][1] for r in risk), default=0.0)


def _check_text(check: GateCheck) -> str:
    return f"{check.check}: {check.description} upper {check.upper:.3g} > {check.threshold:.3g}"


def utility_lost(figures: dict[str, Any], objective: str) -> float | None:
    """The objective as a loss (lower is better): what the frontier plots."""
    value = figures["utility"][objective]
    if value is None:
        return None
    return float(value) if objective == "rmse_increase" else 1.0 - float(value)


def tune_ratings(
    ratings: Ratings,
    base: Policy,
    space: Space,
    *,
    seed: int,
    budget_seconds: float | None = None,
    screen_targets: int | None = None,
    prune: bool = True,
    presets: bool = True,
    progress: Callable[[Trial, int, int], None] | None = None,
    input_format: str = "",
    input_sha256: str = "",
) -> TuneResult:
    """Search ``space`` on ``ratings`` for the most useful policy that passes ``base``'s gate.

    Parameters
    ----------
    ratings : Ratings
        The original table, read once.
    base : Policy
        Gate, audits and fixed steps; its gate must set a threshold.
    space : Space
    seed : int
        Draws of the search (steps, targets, auxiliary information); the re-audit of
        the winner uses another seed derived from it.
    budget_seconds : float, optional
        Stop evaluating candidates after this long (the re-audit runs after it).
    screen_targets : int, optional
        Targets per adversary on the screen (default: a fifth of the policy's, at
        least 100).
    prune : bool
        Skip candidates that protect at least as much as one that passed.
    presets : bool
        Also evaluate the shipped presets' steps under ``base``'s audits and gate.
    progress : callable, optional
        Called after each candidate with the trial, its position and the count.

    Returns
    -------
    TuneResult
    """
    if not base.gate.active:
        raise PolicyError(
            "policy: gate: sets no threshold, so no candidate can pass or fail; "
            "add e.g. 'max_reidentification_rate: 0.05' to the base policy"
        )
    if base.aggregates is not None and not base.aggregates.microdata:
        raise PolicyError("policy: aggregates.microdata is false: there is no release to tune")
    space.check_base(base)
    started = time.perf_counter()
    deadline = None if budget_seconds is None else started + budget_seconds
    targets = base.audits.targets
    screen_targets = screen_targets or max(100, targets // 5)
    screen_targets = min(screen_targets, targets)
    fresh_seeds = _fresh_seeds(seed)
    candidates = space.candidates(base)
    trials = [Trial(c) for c in candidates]
    result = TuneResult(space, base, trials, seed, fresh_seeds, screen_targets)
    cache: dict[str, UnprotectedAudit | None] = {"screen": None, "full": None}
    # Indexed once: every candidate's audit reads the original's posting indexes.
    index = IndexedTable(ratings)

    def evaluate(policy: Policy, *, fresh: int | None = None) -> Evaluation:
        """The full audit on the search's draws, or on fresh draw number ``fresh``."""
        evaluation = evaluate_ratings(
            ratings,
            policy,
            input_format=input_format,
            input_sha256=input_sha256,
            seed=seed if fresh is None else fresh_seeds[fresh],
            unprotected=cache["full"] if fresh is None else None,
            original_index=index,
        )
        if fresh is None:
            cache["full"] = evaluation.unprotected
        return evaluation

    def search(queue: list[Trial], pruners: list[Trial]) -> list[Trial]:
        """Run ``queue`` in order; returns the trials that passed (pruners grow with them)."""
        passed: list[Trial] = []
        for k, trial in enumerate(queue):
            if deadline is not None and time.perf_counter() > deadline:
                result.budget_exhausted = True
                break
            try:
                measure(trial, k, queue, pruners, passed)
            except KeyboardInterrupt:
                # keep what was measured: the caller writes the partial frontier
                if trial.status not in ("passed", "failed", "screened-out", "pruned"):
                    trial.status, trial.reason = "not-reached", ""
                result.interrupted = True
                break
        return passed

    def measure(
        trial: Trial, k: int, queue: list[Trial], pruners: list[Trial], passed: list[Trial]
    ) -> None:
        """Prune, screen or audit one candidate, then report it."""
        t0 = time.perf_counter()
        dominating = next(
            (p for p in [*pruners, *passed]
             if trial.candidate.protects_at_least(p.candidate, space.knobs)),
            None,
        ) if prune else None  # fmt: skip
        if dominating is not None:
            trial.status, trial.pruned_by = "pruned", dominating.candidate.number
            trial.reason = (
                f"protects at least as much as #{dominating.candidate.number} "
                f"({dominating.candidate.describe(space.knobs)}), which passed"
            )
        else:
            try:
                _run_trial(trial, index, base, screen_targets, seed, cache, evaluate)
            except PolicyError as exc:  # e.g. a candidate that leaves no ratings
                trial.status, trial.reason = "failed", str(exc).split(": ", 1)[-1]
            if trial.status == "passed":
                passed.append(trial)
        trial.seconds = time.perf_counter() - t0
        if progress is not None:
            progress(trial, k, len(queue))

    def recommend(passed: list[Trial]) -> None:
        """Re-audit the best of ``passed``; Ctrl-C during it recommends nothing."""
        try:
            if not result.interrupted:
                _recommend(result, passed, evaluate)
        except KeyboardInterrupt:
            result.interrupted, result.recommended, result.reaudit = True, None, None

    passed = search(trials, [])
    if presets and not result.interrupted:
        try:
            result.presets = _presets(base, evaluate, deadline)
        except KeyboardInterrupt:
            result.interrupted = True
    recommend(passed)
    # A candidate that passed on the search's draws but not on fresh ones pruned others
    # that were never measured: measure them now, and recommend among what passes.
    while result.recommended is None and not (result.budget_exhausted or result.interrupted):
        failed = {r["candidate"] for r in result.reaudits}
        revived = [t for t in trials if t.status == "pruned" and t.pruned_by in failed]
        if not revived:
            break
        for trial in revived:
            trial.status, trial.reason, trial.pruned_by = "not-reached", "", None
        held = [t for t in passed if t.candidate.number not in failed]
        passed = held + search(revived, held)
        recommend(passed)
    result.seconds = time.perf_counter() - started
    return result


def _run_trial(
    trial: Trial,
    index: IndexedTable,
    base: Policy,
    screen_targets: int,
    seed: int,
    cache: dict[str, UnprotectedAudit | None],
    evaluate: Callable[..., Evaluation],
) -> None:
    policy = trial.candidate.policy
    if screen_targets < base.audits.targets:
        screen = _screen(index, policy, screen_targets, seed, cache)
        trial.figures, trial.rung = screen, "screen"
        if screen["clear_failures"]:
            trial.status = "screened-out"
            trial.reason = screen["clear_failures"][0]
            return
    evaluation = evaluate(policy)
    trial.figures, trial.rung = figures_of(evaluation), "full"
    trial.status = "passed" if evaluation.verdict == "pass" else "failed"
    trial.reason = "; ".join(trial.figures["failed_checks"])


def _screen(
    index: IndexedTable,
    policy: Policy,
    n_targets: int,
    seed: int,
    cache: dict[str, UnprotectedAudit | None],
) -> dict[str, Any]:
    """The linkage audit alone on fewer targets, and the thresholds it clearly exceeds.

    The same steps, seeds, runner and gate as the full audit (:func:`evaluate_ratings`
    with this ``seed``): only the targets are fewer and the other audits left out, so a
    screened release is the very table the full audit would attack.
    """
    ratings = index.ratings
    step_seed, audit_seed, _, utility_seed, row_seed, simulation_seed = seed_sequence(
        seed, None
    ).spawn(6)
    released, _ = apply_policy(ratings, policy, key=None, seed=step_seed)
    report = run_policy_audits(
        ratings,
        released,
        policy,
        AuditSeeds(audit_seed, row_seed, utility_seed, simulation_seed),
        settings=policy.audits.with_targets(n_targets),
        only={"linkage"},
        unprotected=cache["screen"],
        original_index=index,
    )
    cache["screen"] = report.unprotected
    decision = apply_gate(policy.gate, report)
    risk = _risk(report.linkage)
    clear = decision.clear_failures
    return {
        "risk": risk,
        "risk_upper": _upper(risk),
        # the share kept is exact and free; the other measures need the utility audit
        "utility": {
            "rmse_increase": None,
            "ratings_kept": released.n_ratings / ratings.n_ratings,
            "popularity_spearman": None,
        },
        "released": released.counts(),
        "verdict": "fail" if clear else "undecided",
        "failed_checks": clear,
        "clear_failures": clear,
    }


def _presets(
    base: Policy, evaluate: Callable[..., Evaluation], deadline: float | None
) -> dict[str, dict[str, Any]]:
    """Each shipped preset's steps under the base's audits and gate, for comparison.

    Within the search's time budget: presets not reached are listed as skipped.
    """
    out: dict[str, dict[str, Any]] = {}
    for name in list_presets():
        if deadline is not None and time.perf_counter() > deadline:
            out[name] = {"error": "not evaluated: the time budget was spent"}
            continue
        preset = load_policy(name)
        if not preset.releases_microdata:
            # a model or aggregates-only release has no microdata to compare on these axes
            out[name] = {"error": "not compared: it releases no ratings table"}
            continue
        policy = dataclasses.replace(preset, audits=base.audits, gate=base.gate)
        t0 = time.perf_counter()
        try:
            figures = figures_of(evaluate(policy))
        except PolicyError as exc:  # e.g. a preset that leaves no ratings of this data
            figures = {"error": str(exc)}
        figures["seconds"] = round(time.perf_counter() - t0, 2)
        out[name] = figures
    return out


def _fresh_seeds(seed: int) -> tuple[int, ...]:
    """The re-audits' seeds: derived from the search's, distinct, never the search's own."""
    drawn = [int(s) for s in np.random.SeedSequence(seed).generate_state(FRESH_DRAWS)]
    seeds: list[int] = []
    for s in drawn:
        while s == seed or s in seeds:
            s += 1
        seeds.append(s)
    return tuple(seeds)


def _recommend(
    result: TuneResult, passed: list[Trial], evaluate: Callable[..., Evaluation]
) -> None:
    """The most useful passing candidate whose fresh re-audits all pass, with the margin.

    Each of the best :data:`MAX_REAUDITS` candidates is audited on the fresh draws in
    turn, stopping at its first failure; it is recommended when all pass and their
    estimated probability that a fresh release passes reaches
    :data:`MIN_PASS_PROBABILITY`.
    """
    objective = result.space.objective
    tried = {r["candidate"] for r in result.reaudits}
    ranked = sorted(
        (
            t
            for t in passed
            if utility_lost(t.figures or {}, objective) is not None
            and t.candidate.number not in tried
        ),
        key=lambda t: utility_lost(t.figures, objective),  # type: ignore[arg-type,return-value]
    )  # stable: among equals, the least protective (tried first)
    thresholds = result.base.gate.max_reidentification_rate or ()
    for trial in ranked[:MAX_REAUDITS]:
        draws = []
        for k, fresh_seed in enumerate(result.fresh_seeds):
            evaluation = evaluate(trial.candidate.policy, fresh=k)
            figures = figures_of(evaluation)
            figures["seed"] = fresh_seed
            figures["candidate"] = trial.candidate.number
            result.reaudits.append(figures)
            draws.append(figures)
            if evaluation.verdict != "pass":
                logger.info(
                    "candidate #%d passed on the search's draws but failed re-audit %d: %s",
                    trial.candidate.number,
                    k + 1,
                    "; ".join(figures["failed_checks"]),
                )
                break
        else:
            probability = pass_probability(draws, thresholds, MIN_TARGETS)
            if probability >= MIN_PASS_PROBABILITY:
                result.recommended = trial
                result.reaudit = _pooled(draws, probability)
                return
            logger.info(
                "candidate #%d passed its %d re-audits but a fresh release would pass with "
                "probability %.2f only (at least %.2f asked)",
                trial.candidate.number,
                len(draws),
                probability,
                MIN_PASS_PROBABILITY,
            )


def _pooled(draws: list[dict[str, Any]], probability: float) -> dict[str, Any]:
    """The re-audits of a recommendation, summarized: the worst of them and the estimate."""
    worst = max(draws, key=lambda d: d["risk_upper"])
    return {
        **worst,
        "seeds": [d["seed"] for d in draws],
        "draws": len(draws),
        "risk_upper_each": [d["risk_upper"] for d in draws],
        "pass_probability": probability,
        "min_pass_probability": MIN_PASS_PROBABILITY,
    }
