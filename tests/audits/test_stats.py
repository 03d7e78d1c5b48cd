import math

import pytest

from audits.stats import wilson_interval


def wilson_by_hand(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(81, 263), (0, 10), (10, 10), (1, 1000), (500, 1000)])
def test_wilson_matches_the_formula(k, n):
    lo, hi = wilson_interval(k, n)
    expected = wilson_by_hand(k, n)
    assert lo == pytest.approx(max(0.0, expected[0]), abs=1e-9)
    assert hi == pytest.approx(min(1.0, expected[1]), abs=1e-9)


def test_wilson_known_value():
    # 81 successes of 263 (Wilson 1927 style worked example; 95%)
    lo, hi = wilson_interval(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)


def test_wilson_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="successes must be in"):
        wilson_interval(3, 2)
    for level in (0.0, 1.0):
        with pytest.raises(ValueError, match="confidence_level must be in"):
            wilson_interval(1, 2, confidence_level=level)


def test_wilson_at_another_level_uses_its_own_quantile():
    lo, hi = wilson_interval(81, 263, confidence_level=0.9)
    expected = wilson_by_hand(81, 263, z=1.6448536269514722)
    assert (lo, hi) == pytest.approx(expected, abs=1e-9)


def test_linkage_entry_intervals_follow_the_confidence_level():
    import numpy as np

    from audits import AttackOutcome, LinkageResult
    from audits.linkage import Attack, KnowledgeStats
    from publisher.core import Adversary

    def outcome(n, hits):
        correct = np.arange(n) < hits
        ones = np.ones(n)
        return AttackOutcome(correct, np.where(correct, 5.0, 0.0), ones, ones, ones, 1.5)

    control = AttackOutcome(
        np.zeros(40, bool), np.full(40, 3.0), np.zeros(40), np.zeros(40), np.zeros(40), 1.5
    )  # 40 control targets, every one a false claim
    attack = Attack("original", "scoreboard-rh", outcome(50, 10), outcome(50, 20), None, control)
    stats = [KnowledgeStats("original", 50, 100, 2.0, 40)]
    result = LinkageResult(Adversary(known_items=2), [attack], stats, 0.01)
    default = result.to_dict()
    assert default["released"]["reidentified_ci"] == list(wilson_interval(10, 50))
    assert default["control"] == {
        "targets": 40,
        "false_claims": 1.0,
        "false_claims_ci": list(wilson_interval(40, 40)),
    }
    at_90 = result.to_dict(0.9)
    assert at_90["released"]["reidentified_ci"] == list(wilson_interval(10, 50, 0.9))
    assert at_90["original"]["reidentified_ci"] == list(wilson_interval(20, 50, 0.9))
    assert at_90["control"]["false_claims_ci"] == list(wilson_interval(40, 40, 0.9))
    empty = AttackOutcome(*(np.array([], dtype=t) for t in (bool, float, float, float, float)), 1.5)
    attack.control = empty
    assert result.to_dict()["control"]["false_claims"] == 0.0


def test_attack_outcome_figures_by_hand():
    """Five targets, claim threshold 1.5: every report.json figure of one side, by hand."""
    import numpy as np

    from audits.scoreboard import PHI_GRID, AttackOutcome

    outcome = AttackOutcome(
        correct=np.array([True, True, False, True, False]),
        eccentricity=np.array([2.0, 1.5, 3.0, 0.5, 9.0]),
        top1_credit=np.array([1.0, 0.5, 0.0, 1.0, 0.0]),
        true_probability=np.array([0.9, 0.5, 0.1, 0.4, 0.0]),
        entropy_bits=np.array([0.5, 1.0, 3.0, 2.0, 4.0]),
        phi=1.5,
    )
    out = outcome.to_dict()
    curve = out.pop("precision_recall")
    histogram = out.pop("eccentricity_histogram")
    assert out == {
        "targets": 5,
        "rule": "eccentricity",
        "threshold": 1.5,
        "other_rule": None,  # no posterior given: no claims by posterior beside
        "top1": 0.5,
        "reidentified": 0.4,  # claims at 2.0 and 1.5 (>= phi) are right
        "reidentified_ci": list(wilson_interval(2, 5)),
        "false_claims": 0.4,  # claims at 3.0 and 9.0 name the wrong record
        "claims": 4,
        "mean_true_probability": 0.38,
        "mean_entropy_bits": 2.1,
    }
    by_phi = {entry["phi"]: entry for entry in curve}
    assert [entry["phi"] for entry in curve] == list(PHI_GRID)
    assert by_phi[0.0] == {"phi": 0.0, "precision": 3 / 5, "recall": 3 / 5}
    assert by_phi[1.5] == {"phi": 1.5, "precision": 2 / 4, "recall": 2 / 5}
    highest = curve[-1]
    assert highest["precision"] == (0.0 if highest["phi"] <= 8.0 else None)
    assert histogram["edges"][:3] == [0.0, 0.25, 0.5]
    assert len(histogram["edges"]) == 33
    correct, wrong = np.array(histogram["correct"]), np.array(histogram["wrong"])
    assert correct.sum() == 3
    assert wrong.sum() == 2
    assert [correct[2], correct[6], correct[8]] == [1, 1, 1]  # 0.5, 1.5, 2.0
    assert [wrong[12], wrong[-1]] == [1, 1]  # 3.0, and 9.0 capped into the last bin
    empty = AttackOutcome(*(np.array([], dtype=t) for t in (bool, float, float, float, float)), 1.5)
    assert empty.to_dict()["top1"] == 0.0
    assert empty.to_dict()["false_claims"] == 0.0
    assert empty.to_dict()["mean_true_probability"] == 0.0
    assert empty.to_dict()["mean_entropy_bits"] == 0.0
    one_wrong = AttackOutcome(
        np.array([False]), np.array([3.0]), np.zeros(1), np.zeros(1), np.zeros(1), 1.5
    )
    assert one_wrong.to_dict()["false_claims"] == 1.0  # one target, one false claim
    assert empty.precision_recall()[0] == {"phi": 0.0, "precision": None, "recall": 0.0}


def test_attack_outcome_risk_of_no_targets_and_mismatched_inputs():
    import numpy as np

    from audits._index import IndexedTable
    from audits.scoreboard import AttackOutcome, AuxiliaryInformation, attack
    from publisher.core.ratings import Ratings, Scale

    empty = AttackOutcome(*(np.array([], dtype=t) for t in (bool, float, float, float, float)), 1.5)
    assert empty.risk().value == 0.0
    assert empty.risk(0.9).ci == wilson_interval(0, 0, 0.9)
    table = IndexedTable(Ratings.from_columns(["a"], [1], [3], scale=Scale(1, 5, 1)))
    aux = AuxiliaryInformation(np.array([0]), np.zeros((1, 1), np.int32), np.zeros((1, 1), int),
                               np.zeros((1, 1), int), np.array([1]), False)  # fmt: skip
    with pytest.raises(ValueError, match=r"^2 true records for 1 targets$"):
        attack(table, aux, np.array([0, 0]), 1.5)
