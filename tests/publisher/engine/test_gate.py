"""The gate, table-driven on hand-built audit results."""

import numpy as np
import pytest

from audits import AttackOutcome, AuditReport, wilson_interval
from audits.utility import PredictionError, UtilityResult
from policies import Gate
from publisher.core import Adversary
from publisher.engine.gate import MIN_TARGETS, apply_gate

from tests.audits.builders import linkage_result


def outcome(n, hits):
    """n targets, the first ``hits`` of them re-identified (claimed and correct)."""
    correct = np.arange(n) < hits
    ones = np.ones(n)
    return AttackOutcome(correct, np.where(correct, 5.0, 0.0), ones, ones, ones, 1.5)


def report(n, hits):
    adversary = Adversary(known_items=2)
    result = linkage_result(adversary, outcome(n, hits), outcome(n, hits))
    return AuditReport([result], [])


@pytest.mark.parametrize(
    ("n", "hits", "threshold", "verdict"),
    [
        (1000, 10, 0.05, "pass"),  # 1.0% [0.5%, 1.8%]
        (1000, 40, 0.05, "fail"),  # 4.0% [2.95%, 5.41%]: below 5%, but not surely
        (100, 3, 0.05, "fail"),  # point 3% < 5% < upper 8.5%: the upper bound decides
        (1000, 60, 0.05, "fail"),
        (MIN_TARGETS - 1, 0, 0.5, "fail"),  # too few targets: inconclusive whatever the rate
        (MIN_TARGETS, 0, 0.5, "pass"),
        (1000, 1000, 1.0, "pass"),
        (1000, 0, 0.0, "fail"),  # upper bound of 0/1000 is above 0
    ],
)
def test_reidentification_threshold_against_the_upper_bound(n, hits, threshold, verdict):
    upper = wilson_interval(hits, n)[1]
    decision = apply_gate(Gate(max_reidentification_rate=(threshold,)), report(n, hits))
    assert decision.verdict == verdict
    (check,) = decision.checks
    assert check.upper == upper
    assert check.measured == hits / n
    assert check.inconclusive == (n < MIN_TARGETS)


def test_point_estimate_below_threshold_but_upper_above_fails():
    decision = apply_gate(Gate(max_reidentification_rate=(0.05,)), report(100, 3))
    (check,) = decision.checks
    assert check.measured < 0.05 < check.upper
    assert decision.failures == ["2 items, exact ratings, no dates: 8.5% (upper bound) > 5.0%"]


def test_none_threshold_is_not_gated():
    decision = apply_gate(Gate(max_reidentification_rate=(None,)), report(1000, 999))
    assert decision.verdict == "not-gated"
    assert decision.checks == ()


def test_inconclusive_failure_says_why():
    decision = apply_gate(Gate(max_reidentification_rate=(0.9,)), report(4, 0))
    assert decision.failures == [
        f"2 items, exact ratings, no dates: inconclusive, decided on 4 targets (fewer than {MIN_TARGETS})"
    ]


def measured_utility(increase: float) -> UtilityResult:
    """A utility result whose factorization RMSE rises by ``increase``."""
    return UtilityResult(
        holdout_users=10,
        holdout_ratings=20,
        holdout_fraction=0.1,
        original=PredictionError(0.9, 0.8),
        released=PredictionError(0.9, 0.8 + increase),
        rating_histogram_tvd=0.0,
        item_popularity_spearman=1.0,
        kept={"ratings": 1.0, "users": 1.0, "items": 1.0},
    )


@pytest.mark.parametrize(
    ("increase", "limit", "verdict"),
    [(0.10, 0.2, "pass"), (0.25, 0.2, "fail"), (None, 0.2, "not-gated")],
)
def test_utility_check(increase, limit, verdict):
    utility = None if increase is None else measured_utility(increase)
    decision = apply_gate(Gate(max_rmse_increase=limit), AuditReport([], [], utility=utility))
    assert decision.verdict == verdict
    if verdict == "fail":
        assert decision.failures == [
            "RMSE increase of the factorization on the holdout: 0.250 > 0.200"
        ]
        (check,) = decision.to_dict()["checks"]
        assert check == {
            "check": "utility",
            "description": "RMSE increase of the factorization on the holdout",
            "measured": 0.25,
            "upper": 0.25,
            "threshold": 0.2,
            "passed": False,
        }


def uniqueness(unique, n, has_dates=True):
    from audits import UniquenessResult

    sizes = np.full((n, 3), 2)
    sizes[:unique] = 1
    return AuditReport([], [UniquenessResult("released", 4, n, sizes, has_dates, 3)])


@pytest.mark.parametrize(
    ("unique", "n", "fraction", "match", "has_dates", "verdict"),
    [
        (10, 1000, 0.05, "ratings", True, "pass"),
        (45, 1000, 0.05, "ratings", True, "fail"),  # 4.5% < 5% < upper 6.0%
        (600, 1000, 0.05, "ratings_dates", False, "pass"),  # no dates: nothing to match
    ],
)
def test_uniqueness_check(unique, n, fraction, match, has_dates, verdict):
    from policies.schema import UniquenessLimit

    gate = Gate(max_unique_fraction=UniquenessLimit(known_items=4, fraction=fraction, match=match))
    decision = apply_gate(gate, uniqueness(unique, n, has_dates))
    assert decision.verdict == verdict
    (check,) = decision.checks
    if has_dates or match != "ratings_dates":
        assert check.measured == unique / n
        assert check.upper == wilson_interval(unique, n)[1]
    if verdict == "fail":
        assert decision.failures == [
            f"users unique by 4 items ({match}): {100 * check.upper:.1f}% (upper bound) > 5.0%"
        ]


def test_reidentification_check_record_is_exact():
    decision = apply_gate(Gate(max_reidentification_rate=(0.05,)), report(100, 3))
    _, hi = wilson_interval(3, 100)
    assert decision.to_dict() == {
        "statistic": "upper end of the 95% Wilson interval",
        "thresholds": Gate(max_reidentification_rate=(0.05,)).to_dict(),
        "checks": [
            {
                "check": "reidentification",
                "adversary": 0,
                "description": "2 items, exact ratings, no dates",
                "targets": 100,
                "measured": 0.03,
                "upper": hi,
                "threshold": 0.05,
                "inconclusive": False,
                "passed": False,
            }
        ],
        "failures": ["2 items, exact ratings, no dates: 8.5% (upper bound) > 5.0%"],
        "close_calls": [],
        "ungated": False,
    }
    assert list(decision.to_dict()["checks"][0]) == [
        "check", "adversary", "description", "targets", "measured", "upper", "threshold",
        "inconclusive", "passed",
    ]  # fmt: skip


def two_adversaries(hits):
    results = [
        linkage_result(Adversary(known_items=k + 1), outcome(1000, h), outcome(1000, h))
        for k, h in enumerate(hits)
    ]
    return AuditReport(results, [])


def test_a_null_threshold_skips_only_its_own_adversary():
    decision = apply_gate(Gate(max_reidentification_rate=(None, 0.05)), two_adversaries([900, 100]))
    assert decision.verdict == "fail"
    assert [c.adversary for c in decision.checks] == [1]


@pytest.mark.parametrize("match", ["items", "ratings"])
def test_uniqueness_check_reads_the_released_entry_for_its_m(match):
    from audits import UniquenessResult
    from policies.schema import UniquenessLimit

    def entry(dataset, m, unique, n=1000):
        sizes = np.full((n, 3), 2)
        sizes[:unique] = 1
        return UniquenessResult(dataset, m, n, sizes, True, 3)

    audits = AuditReport(
        [], [entry("original", 4, 900), entry("released", 2, 800), entry("released", 4, 10)]
    )
    gate = Gate(max_unique_fraction=UniquenessLimit(known_items=4, fraction=0.05, match=match))
    decision = apply_gate(gate, audits)
    (check,) = decision.checks
    assert check.measured == 0.01
    assert decision.verdict == "pass"
    assert decision.to_dict()["checks"][0]["check"] == "uniqueness"
    # an m the audit did not measure cannot single anyone out: passed, nothing measured
    missing = Gate(max_unique_fraction=UniquenessLimit(known_items=8, fraction=0.05, match=match))
    (check,) = apply_gate(missing, audits).checks
    assert (check.measured, check.upper, check.passed) == (None, None, True)


def test_thresholds_are_inclusive():
    upper = wilson_interval(10, 1000)[1]
    assert apply_gate(Gate(max_reidentification_rate=(upper,)), report(1000, 10)).verdict == "pass"
    decision = apply_gate(
        Gate(max_rmse_increase=0.25), AuditReport([], [], utility=measured_utility(0.25))
    )
    assert decision.verdict == "pass"
    from audits import UniquenessResult
    from policies.schema import UniquenessLimit

    sizes = np.full((1000, 3), 2)
    sizes[:10] = 1
    audits = AuditReport([], [UniquenessResult("released", 4, 1000, sizes, True, 3)])
    limit = UniquenessLimit(known_items=4, fraction=upper, match="ratings")
    assert apply_gate(Gate(max_unique_fraction=limit), audits).verdict == "pass"


def test_failure_line_shows_the_upper_bound_and_threshold_in_percent():
    from publisher.engine.gate import GateCheck

    check = GateCheck(
        check="reidentification",
        description="8 items",
        measured=0.4,
        upper=0.5,
        threshold=0.05,
        passed=False,
    )
    assert check.failure() == "8 items: 50.0% (upper bound) > 5.0%"


@pytest.mark.parametrize(
    ("auc", "ci", "limit", "verdict"),
    [
        (0.55, (0.52, 0.58), 0.6, "pass"),
        (0.58, (0.56, 0.61), 0.6, "fail"),  # point below, upper bound above: fails
        (None, None, 0.6, "pass"),  # nothing added or moved: nothing to spot
    ],
)
def test_decoy_auc_gate_uses_the_upper_bound(auc, ci, limit, verdict):
    from audits.distinguish import DistinguishabilityResult

    audits = AuditReport([], [])
    if auc is not None:
        audits.distinguishability = DistinguishabilityResult(
            auc, ci, 50, 1000, 100, ("insert_ratings",)
        )
    decision = apply_gate(Gate(max_decoy_auc=limit), audits)
    assert decision.verdict == verdict
    (check,) = decision.checks
    assert (check.measured, check.upper) == (auc, ci[1] if ci else None)
    if verdict == "fail":
        assert decision.failures == [
            "decoys and moved rows told from real ones (ROC AUC): 0.610 (upper bound) > 0.600"
        ]


def test_decoy_auc_at_the_threshold_passes_and_no_figure_is_a_named_pass():
    from audits.distinguish import DistinguishabilityResult

    audits = AuditReport([], [])
    audits.distinguishability = DistinguishabilityResult(
        0.55, (0.5, 0.6), 50, 1000, 100, ("insert_ratings",)
    )
    assert apply_gate(Gate(max_decoy_auc=0.6), audits).verdict == "pass"  # upper == limit
    (check,) = apply_gate(Gate(max_decoy_auc=0.6), AuditReport([], [])).checks
    assert (check.check, check.description, check.threshold, check.passed) == (
        "distinguishability",
        "decoys and moved rows told from real ones (ROC AUC)",
        0.6,
        True,
    )


def test_the_gate_reads_the_worst_scorer_of_the_portfolio():
    """Scoreboard-RH re-identifies 1% of 400 targets, the likelihood scorer with popular
    knowledge 30%: the check measures 30% and fails a 5% threshold."""
    weak, strong = outcome(400, 4), outcome(400, 120)
    result = linkage_result(
        Adversary(known_items=2),
        weak,
        weak,
        attacks=[("popular", "likelihood", strong, strong, None)],
    )
    decision = apply_gate(Gate(max_reidentification_rate=(0.05,)), AuditReport([result], []))
    (check,) = decision.checks
    assert check.measured == 0.3
    assert check.upper == wilson_interval(120, 400)[1]
    assert decision.verdict == "fail"


def test_a_pass_closer_to_the_threshold_than_its_interval_is_wide_is_a_close_call():
    # Issue 24.21: a release passing at 4.9% (upper bound) of 5% fails on a fresh draw.
    from publisher.engine.gate import GateCheck

    def check(lower, upper, passed=True):
        return GateCheck(
            check="reidentification", description="d", measured=(lower + upper) / 2,
            upper=upper, lower=lower, threshold=0.05, passed=passed,
        )  # fmt: skip

    assert check(0.02, 0.04).close_call() == (
        "d: the interval [2.0%, 4.0%] ends closer to the threshold 5.0% than its own width; "
        "a fresh release (new noise, new targets) could fail the gate"
    )
    assert check(0.0, 0.02).close_call() is None  # 3 points of margin, 2 wide
    assert check(0.03, 0.06, passed=False).close_call() is None  # a failure says so already
