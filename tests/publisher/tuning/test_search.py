"""The search: the known frontier, pruning, the fresh re-audit, the budget."""

import dataclasses
import json

import numpy as np
import pytest

from policies import parse_policy
from publisher.core.errors import PolicyError
from publisher.tuning import search as search_module
from publisher.tuning.frontier import frontier_dict
from publisher.tuning.search import tune_ratings
from publisher.tuning.space import parse_space

from .conftest import KEPT

SPACE = """
objective: ratings_kept
drop_rare_items.min_raters: [null, 2, 5]
perturb_ratings.epsilon: [null, 1]
"""


def by_knobs(result):
    return {t.candidate.describe(result.space.knobs): t for t in result.trials}


def test_the_knob_that_removes_all_risk_is_recommended_at_its_known_cost(known_table, base_policy):
    result = tune_ratings(known_table, base_policy, parse_space(SPACE), seed=3)
    trials = by_knobs(result)
    # without the knob, the rare items single customers out: far above the 5% gate
    assert trials["min_raters=none epsilon=none"].status == "screened-out"
    assert trials["min_raters=none epsilon=none"].figures["risk"][0]["reidentified"] > 0.3
    # screened on fewer targets than the full audit's 200, with the full audit's adversaries
    assert result.screen_targets == 100
    assert trials["min_raters=none epsilon=none"].figures["risk"][0]["targets"] == 100
    # with it, ten identical histories: nobody is claimed, 10 of 13 ratings kept
    winner = trials["min_raters=2 epsilon=none"]
    assert winner.status == "passed"
    assert winner.figures["risk"][0]["reidentified"] == 0.0
    assert winner.figures["utility"]["ratings_kept"] == pytest.approx(KEPT, abs=1e-12)
    assert result.recommended is winner
    assert result.reaudit["verdict"] == "pass"
    assert result.reaudit["utility"]["ratings_kept"] == pytest.approx(KEPT, abs=1e-12)
    frontier = frontier_dict(result, {"name": "known", "sha256": "0" * 64, "counts": {}})
    assert frontier["recommended"]["candidate"] == winner.candidate.number
    on_frontier = [c for c in frontier["candidates"] if c["on_frontier"]]
    assert [c["knobs"]["drop_rare_items.min_raters"] for c in on_frontier] == [2]


def test_pruning_skips_only_candidates_a_passed_one_dominates_and_changes_nothing(
    known_table, base_policy
):
    space = parse_space(SPACE)
    pruned = tune_ratings(known_table, base_policy, space, seed=3, presets=False)
    everything = tune_ratings(known_table, base_policy, space, seed=3, presets=False, prune=False)
    passed = [t for t in pruned.trials if t.status == "passed"]
    skipped = [t for t in pruned.trials if t.status == "pruned"]
    assert len(skipped) == 3  # min_raters 5, and epsilon 1 on top of 2 or 5
    for trial in skipped:
        assert any(trial.candidate.protects_at_least(p.candidate, space.knobs) for p in passed)
    # audited one by one, every pruned candidate passes too, and is no more useful
    full = {t.candidate.number: t for t in everything.trials}
    assert not any(t.status == "pruned" for t in everything.trials)
    best = pruned.recommended.figures["utility"]["ratings_kept"]
    for trial in skipped:
        assert full[trial.candidate.number].status == "passed"
        assert full[trial.candidate.number].figures["utility"]["ratings_kept"] <= best
    assert pruned.recommended.candidate.number == everything.recommended.candidate.number


def test_the_winner_is_re_audited_on_fresh_draws(known_table, base_policy, monkeypatch):
    calls = []
    real = search_module.evaluate_ratings

    def spy(ratings, policy, **kwargs):
        calls.append(kwargs)
        return real(ratings, policy, **kwargs)

    monkeypatch.setattr(search_module, "evaluate_ratings", spy)
    space = parse_space(SPACE)
    result = tune_ratings(known_table, base_policy, space, seed=3, presets=False, prune=False)
    search, reaudits = calls[:4], calls[4:]
    assert len(search) == 4  # min_raters 2 or 5, with or without noise
    assert {c["seed"] for c in search} == {3}
    assert search[0]["unprotected"] is None  # drawn once...
    assert all(c["unprotected"] is not None for c in search[1:])  # ...and reused
    # Issue 24.21: every fresh draw, each with its own seed, none the search's
    assert [c["seed"] for c in reaudits] == list(result.fresh_seeds)
    assert len(set(result.fresh_seeds)) == search_module.FRESH_DRAWS == 3
    assert 3 not in result.fresh_seeds
    assert all(c["unprotected"] is None for c in reaudits)  # new targets and knowledge
    assert result.reaudit["seeds"] == list(result.fresh_seeds)
    assert result.reaudit["pass_probability"] >= search_module.MIN_PASS_PROBABILITY
    assert {r["candidate"] for r in result.reaudits} == {result.recommended.candidate.number}


def test_a_failed_re_audit_moves_on_to_the_next_passing_candidate(
    known_table, base_policy, monkeypatch
):
    real = search_module.evaluate_ratings
    fresh = []

    def failing_fresh(ratings, policy, **kwargs):
        evaluation = real(ratings, policy, **kwargs)
        if kwargs["unprotected"] is None and kwargs["seed"] != 3:
            fresh.append(policy)
            if len(fresh) == 1:  # the winner's re-audit fails
                failed = dataclasses.replace(evaluation.gate, verdict="fail")
                evaluation = dataclasses.replace(evaluation, gate=failed)
        return evaluation

    monkeypatch.setattr(search_module, "evaluate_ratings", failing_fresh)
    space = parse_space(SPACE)
    result = tune_ratings(known_table, base_policy, space, seed=3, presets=False, prune=False)
    # the winner stops at its first failed draw; the next candidate passes all three
    assert len(result.reaudits) == 1 + 3
    assert result.reaudits[0]["verdict"] == "fail"
    assert result.recommended.candidate.number == result.reaudits[1]["candidate"]
    assert result.recommended.candidate.number != result.reaudits[0]["candidate"]


def test_a_candidate_whose_draws_pass_but_barely_is_not_recommended(
    known_table, base_policy, monkeypatch
):
    # Issue 24.21: recommended.yaml released five times gave exits 3, 0, 0, 0, 3.
    monkeypatch.setattr(search_module, "pass_probability", lambda *a: 0.6)
    result = tune_ratings(known_table, base_policy, parse_space(SPACE), seed=3, presets=False)
    assert result.recommended is None
    assert all(r["verdict"] == "pass" for r in result.reaudits)


def test_a_spent_budget_stops_the_search_and_recommends_nothing(known_table, base_policy):
    result = tune_ratings(known_table, base_policy, parse_space(SPACE), seed=3, budget_seconds=0)
    assert result.budget_exhausted
    assert {t.status for t in result.trials} == {"not-reached"}
    assert result.recommended is None
    assert {p["error"] for p in result.presets.values()} == {
        "not evaluated: the time budget was spent"
    }
    # every view renders what was not reached
    from publisher.tuning.page import render_frontier_html, terminal_table

    source = {"name": "known", "sha256": "0" * 64, "counts": {"ratings": 2600}}
    frontier = frontier_dict(result, source)
    assert "not evaluated: the time budget was spent" in render_frontier_html(frontier)
    assert "(budget spent)" in terminal_table(frontier)


def test_a_base_without_a_gate_is_refused(known_table):
    base = parse_policy("name: open\nsteps: [{pseudonymize_users: {}}]\ngate: none")
    with pytest.raises(PolicyError, match="gate: sets no threshold"):
        tune_ratings(known_table, base, parse_space(SPACE), seed=1)


def test_a_candidate_that_leaves_no_ratings_fails_and_the_search_goes_on(known_table, base_policy):
    space = parse_space("objective: ratings_kept\ndrop_rare_items.min_raters: [2, 1000]")
    result = tune_ratings(known_table, base_policy, space, seed=3, prune=False, presets=False)
    empty = by_knobs(result)["min_raters=1000"]
    assert empty.status == "failed"
    assert empty.reason == (
        "leaves no ratings to release (steps[1].drop_rare_items removed the last of them); "
        "relax that step"
    )
    assert result.recommended.candidate.describe(space.knobs) == "min_raters=2"


def test_each_objective_is_read_as_a_loss():
    from publisher.tuning.search import utility_lost

    figures = {"utility": {"rmse_increase": 0.25, "ratings_kept": 0.75,
                           "popularity_spearman": 0.9}}  # fmt: skip
    assert utility_lost(figures, "rmse_increase") == 0.25
    assert utility_lost(figures, "ratings_kept") == 0.25
    assert utility_lost(figures, "popularity_spearman") == pytest.approx(0.1)
    assert utility_lost({"utility": {"rmse_increase": None}}, "rmse_increase") is None


def test_the_frontier_keeps_the_points_nothing_beats_on_both_axes():
    from publisher.tuning.frontier import pareto

    points = [(0.1, 0.9, 0), (0.2, 0.5, 1), (0.3, 0.6, 2), (0.5, 0.1, 3), (0.5, 0.1, 4)]
    assert pareto(points) == {0, 1, 3}  # 2 is beaten by 1; 4 ties 3 (the first is kept)
    assert pareto([]) == set()


def test_frontier_html_carries_the_same_strict_page_skeleton_as_the_report(
    known_table, base_policy
):
    # Issue 24.18: frontier.html had no Content-Security-Policy; report.html has a strict one.
    from publisher.reporting.render import render_html
    from publisher.tuning.page import render_frontier_html

    from tests.publisher.reporting.test_golden import GOLDEN

    result = tune_ratings(known_table, base_policy, parse_space(SPACE), seed=1)
    frontier = frontier_dict(
        result, {"name": "t.csv", "sha256": "0" * 64, "counts": {"ratings": 9}}
    )
    csp = (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
    )
    report = json.loads((GOLDEN / "report-pass.json").read_text())
    for page in (render_frontier_html(frontier), render_html(report)):
        assert page.count(csp) == 1
        assert page.index(csp) < page.index("<title>")
        assert "<script" not in page


def test_the_pass_probability_is_the_binomial_chance_of_clearing_the_threshold():
    from scipy.stats import binom

    from audits.stats import wilson_interval
    from publisher.tuning.stability import largest_passing_count, pass_probability, wilson_upper

    for n, c in [(30, 0), (100, 3), (1000, 40), (1000, 1000)]:
        assert wilson_upper(np.array([c]), n)[0] == pytest.approx(
            wilson_interval(c, n)[1], abs=1e-12
        )
    limit = largest_passing_count(1000, 0.05)
    assert wilson_interval(limit, 1000)[1] <= 0.05 < wilson_interval(limit + 1, 1000)[1]
    # three draws of 1,000 targets, 30 correct claims each: p = 0.03
    draws = [{"risk": [{"reidentified": 0.03, "targets": 1000}], "checks": []}] * 3
    assert pass_probability(draws, [0.05], 30) == pytest.approx(binom.cdf(limit, 1000, 0.03))
    # a rate at the threshold's edge passes about half the time, one far below nearly always
    edge = [{"risk": [{"reidentified": limit / 1000, "targets": 1000}], "checks": []}]
    assert 0.4 < pass_probability(edge, [0.05], 30) < 0.6
    assert pass_probability(draws, [None], 30) == 1.0  # not gated on it
    # another kind of check counts as the share of draws that passed it
    mixed = [{"risk": [], "checks": [{"check": "uniqueness", "passed": p}]} for p in (1, 1, 0)]
    assert pass_probability(mixed, [], 30) == pytest.approx(2 / 3)


def test_candidates_pruned_by_a_winner_that_fails_its_re_audit_are_measured_then(
    known_table, base_policy, monkeypatch
):
    """Issue 25: on MovieLens 100K the one candidate that passed on the search's draws
    failed its re-audit, and the 35 candidates it had pruned were never measured."""
    real = search_module.evaluate_ratings
    fresh = []

    def failing_fresh(ratings, policy, **kwargs):
        evaluation = real(ratings, policy, **kwargs)
        if kwargs["unprotected"] is None and kwargs["seed"] != 3:
            fresh.append(policy)
            if len(fresh) == 1:  # the first winner's first re-audit fails
                failed = dataclasses.replace(evaluation.gate, verdict="fail")
                evaluation = dataclasses.replace(evaluation, gate=failed)
        return evaluation

    monkeypatch.setattr(search_module, "evaluate_ratings", failing_fresh)
    result = tune_ratings(known_table, base_policy, parse_space(SPACE), seed=3, presets=False)
    first = result.reaudits[0]["candidate"]
    assert result.reaudits[0]["verdict"] == "fail"
    revived = [t for t in result.trials if t.candidate.number != first]
    assert revived
    assert all(t.status != "pruned" or t.pruned_by != first for t in result.trials)
    assert result.recommended is not None
    assert result.recommended.candidate.number != first
    assert result.recommended.candidate.protects_at_least(
        next(t.candidate for t in result.trials if t.candidate.number == first),
        result.space.knobs,
    )


def test_ctrl_c_keeps_what_was_measured_and_recommends_nothing(known_table, base_policy):
    """The first candidate is measured, Ctrl-C arrives as it is reported: the search
    stops, the rest are 'not reached', no preset or re-audit runs."""
    space = parse_space("drop_rare_items.min_raters: [null, 2, 3]\n")

    def interrupt(trial, k, n):
        if k == 0:
            raise KeyboardInterrupt

    result = tune_ratings(known_table, base_policy, space, seed=1, progress=interrupt)
    assert result.interrupted
    assert result.recommended is None
    assert result.reaudits == []
    assert result.presets == {}
    assert [t.status for t in result.trials][1:] == ["not-reached", "not-reached"]
    assert result.trials[0].figures is not None  # measured, and kept
    frontier = frontier_dict(result, {"name": "t", "sha256": "0" * 64, "counts": {}})
    assert frontier["search"]["interrupted"] is True
    assert frontier["recommended"] is None
