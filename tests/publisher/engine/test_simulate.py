"""The attacker who simulates the policy, and the portfolio's worst case end to end."""

import dataclasses

import numpy as np

from audits import AttackOutcome
from audits.linkage import exceeds
from policies import parse_policy
from publisher.core import Adversary
from publisher.core.adversary import AuditSettings
from publisher.core.ratings import Ratings, Scale
from publisher.engine.simulate import (
    explain_inversions,
    simulate_policy,
    suppression_steps,
)

from tests.audits.builders import linkage_result


def heavy_table(seed=0, n_users=300, n_items=150):
    """Light customers (8-20 ratings) and 15 heavy raters (120 items each)."""
    rng = np.random.default_rng(seed)
    users, items, ratings, days = [], [], [], []
    for u in range(n_users):
        count = 120 if u < 15 else int(rng.integers(8, 21))
        chosen = rng.choice(n_items, size=count, replace=False,
                            p=np.arange(n_items, 0, -1) / (n_items * (n_items + 1) / 2))  # fmt: skip
        users += [u] * count
        items += chosen.tolist()
        ratings += rng.integers(1, 6, size=count).tolist()
        days += rng.integers(12_000, 12_400, size=count).tolist()
    return Ratings.from_columns(
        np.array(users), np.array(items), np.array(ratings, float), np.array(days),
        scale=Scale(1, 5, 1),
    )  # fmt: skip


POLICY = """name: cap
steps:
  - pseudonymize_users: {}
  - drop_rare_items: {min_raters: 3}
  - cap_user_ratings: {max_ratings: 20}
  - coarsen_dates: {to: month}
audits:
  targets: 200
  adversaries:
    - {known_items: 8, wrong_items: 2, rating_tolerance: 1, date_tolerance_days: 14}
    - {known_items: 8}
gate: none
"""


def test_suppression_steps_are_the_row_removing_ones_in_order():
    policy = parse_policy(POLICY)
    assert [label for label, _ in suppression_steps(policy)] == [
        "steps[1].drop_rare_items",
        "steps[2].cap_user_ratings",
    ]
    table = heavy_table()
    simulated = simulate_policy(table, suppression_steps(policy), np.random.SeedSequence(0))
    counts = np.bincount(simulated.frame["user"].to_numpy())
    assert counts.max() == 20  # the cap applied
    assert simulate_policy(table, [], np.random.SeedSequence(0)) is None


def test_a_capped_release_is_not_riskier_than_its_simulated_original(tmp_path):
    """The inversion of issue 17 on a small table with heavy raters: the unprotected
    figure is the worst over every attack on the original, the policy-simulated one
    included, so the release never exceeds it beyond the intervals."""
    from publisher.engine import evaluate

    policy = parse_policy(POLICY)
    table = heavy_table()
    path = tmp_path / "heavy.csv"  # evaluate reads files
    frame = table.frame.assign(date=table.frame["date"].astype("int64") * 86_400)
    frame.to_csv(path, index=False)
    report = evaluate(path, policy, seed=2).report
    for entry in report["linkage"]:
        released, original = entry["released"], entry["original"]
        assert released["reidentified_ci"][0] <= original["reidentified_ci"][1], entry
        assert not any("more re-identifiable" in w for w in entry["warnings"])
        attacks = entry["portfolio"]
        assert {(a["knowledge"], a["scorer"]) for a in attacks} == {
            (k, s)
            for k in ("original", "released", "popular")
            for s in ("scoreboard-rh", "centered", "cosine", "cosine-centered", "likelihood")
        }
        assert all(a["simulated"] is not None for a in attacks)
        # the worst case is the max over every knowledge model and scorer, on each side
        figures = [a[s]["reidentified"] for a in attacks for s in ("original", "simulated")]
        assert original["reidentified"] == max(figures)
        assert released["reidentified"] == max(a["released"]["reidentified"] for a in attacks)


def outcome(n, hits):
    correct = np.arange(n) < hits
    ones = np.ones(n)
    return AttackOutcome(correct, np.where(correct, 5.0, 0.0), ones, ones, ones, 1.5)


def test_worst_cases_and_the_inversion_test_by_hand():
    result = linkage_result(
        Adversary(known_items=2), outcome(400, 40), outcome(400, 20),
        attacks=[
            ("original", "scoreboard-rh", outcome(400, 40), outcome(400, 20), outcome(400, 30)),
            ("released", "centered", outcome(400, 120), outcome(400, 60), outcome(400, 50)),
        ],
    )  # fmt: skip
    assert result.worst_released()[0] == "centered"
    assert result.worst_original()[:2] == ("centered", "original")
    assert exceeds(result)  # 30% [25.7, 34.7] above 15% [11.9, 18.8]
    entry = result.to_dict()
    assert (entry["released"]["scorer"], entry["released"]["knowledge"]) == ("centered", "released")
    assert entry["released"]["reidentified"] == 0.3
    assert (entry["original"]["scorer"], entry["original"]["attacked"]) == ("centered", "original")
    first = entry["portfolio"][0]
    assert (first["knowledge"], first["scorer"]) == ("original", "scoreboard-rh")
    assert first["simulated"]["reidentified"] == 0.075


def test_an_inversion_names_the_step_that_explains_it():
    from audits import run as run_module

    table = heavy_table(1)
    policy = parse_policy(POLICY)
    settings = AuditSettings(adversaries=policy.audits.adversaries[1:], targets=100)
    report = run_module.run_audits(table, table, settings, seed=np.random.SeedSequence(5))
    result = report.linkage[0]
    # force the case: the release reads far above the unprotected side
    for attack in result.attacks:
        attack.released, attack.original, attack.simulated = (
            outcome(100, 100),
            outcome(100, 0),
            None,
        )
    result.review_warnings.append("the release is more re-identifiable than the unprotected data")
    clauses = explain_inversions(
        table, report, suppression_steps(policy), np.random.SeedSequence(1)
    )
    assert set(clauses) == {0}
    result = result.explained(clauses[0])
    assert result.review_warnings[-1].startswith("the release is more re-identifiable")
    assert (
        "explains most of it: alone, it raises the attack on the original to"
        in (result.review_warnings[-1])
    )
    assert ("steps[1].drop_rare_items" in result.review_warnings[-1]) or (
        "steps[2].cap_user_ratings" in result.review_warnings[-1]
    )


def test_the_policy_simulated_attack_can_be_the_unprotected_worst_case():
    result = linkage_result(
        Adversary(known_items=2), outcome(400, 40), outcome(400, 20),
        attacks=[("original", "scoreboard-rh", outcome(400, 40), outcome(400, 20), outcome(400, 90))],
    )  # fmt: skip
    assert result.worst_original()[:2] == ("scoreboard-rh", "policy-simulated")
    assert result.worst_original()[2].n_reidentified == 90
    entry = result.to_dict()
    assert entry["original"]["attacked"] == "policy-simulated"
    # the published attack alone: it is the worst case, under its own name
    alone = linkage_result(Adversary(known_items=2), outcome(400, 40), outcome(400, 20))
    assert alone.worst_released()[0] == "scoreboard-rh"
    assert alone.worst_original()[:2] == ("scoreboard-rh", "original")
    (only,) = alone.to_dict()["portfolio"]
    assert (only["released"]["reidentified"], only["original"]["reidentified"]) == (0.1, 0.05)


def test_an_inversion_needs_the_release_strictly_above_both_intervals():
    from types import SimpleNamespace

    def side(low, high):
        return SimpleNamespace(risk=lambda _level: SimpleNamespace(ci=(low, high)))

    def result(released, unprotected):
        return SimpleNamespace(
            worst_released=lambda: ("s", released),
            worst_original=lambda: ("s", "original", unprotected),
        )

    assert exceeds(result(side(0.30, 0.40), side(0.10, 0.29)))
    assert not exceeds(result(side(0.30, 0.40), side(0.10, 0.30)))  # touching: not beyond
    assert not exceeds(result(side(0.30, 0.40), side(0.10, 0.35)))


def test_the_simulation_applies_every_step_that_only_removes_ratings_in_order():
    """From the steps' own ``removes_only`` trait: a new suppression step is simulated
    without a list to update (a mutant that dropped the last one survived a registry)."""
    from policies.steps import STEPS
    from publisher.engine.simulate import suppression_steps

    every = [cls(**EXAMPLES.get(name, {})) for name, cls in STEPS.items()]
    policy = dataclasses.replace(parse_policy(POLICY), steps=tuple(every))
    chosen = suppression_steps(policy)
    assert [label for label, _ in chosen] == [
        f"steps[{k}].{s.name}" for k, s in enumerate(every) if s.removes_only
    ]
    assert [s.name for _, s in chosen] == [
        "drop_rare_items", "drop_sparse_users", "cap_user_ratings", "sample_users",
        "delete_ratings",
    ]  # fmt: skip


EXAMPLES = {
    "drop_rare_items": {"min_raters": 2},
    "drop_sparse_users": {"min_ratings": 2},
    "cap_user_ratings": {"max_ratings": 5},
    "sample_users": {"fraction": 0.5},
    "coarsen_dates": {"to": "month"},
    "jitter_dates": {"max_days": 3},
    "perturb_ratings": {"epsilon": 1.0},
    "delete_ratings": {"fraction": 0.1},
    "insert_ratings": {"fraction": 0.1},
    "redate_ratings": {"fraction": 0.1, "max_days": 3},
}
