"""Gate checks: when a figure fails beyond doubt, and when it is a close call."""

import dataclasses

from publisher.core.decision import GateCheck, GateDecision

CHECK = GateCheck(
    check="reidentification",
    description="adversary 1",
    measured=0.04,
    upper=0.07,
    threshold=0.05,
    passed=False,
    adversary=1,
    targets=400,
    lower=0.02,
)


def test_a_check_fails_clearly_only_when_its_whole_interval_lies_above_the_threshold():
    assert not CHECK.clearly_failed
    at = dataclasses.replace(CHECK, lower=0.05)  # the interval touches the threshold
    assert not at.clearly_failed
    above = dataclasses.replace(CHECK, lower=0.0500001, measured=0.06)
    assert above.clearly_failed
    assert not dataclasses.replace(CHECK, lower=None).clearly_failed
    decision = GateDecision("fail", (CHECK, at, above), {})
    assert decision.clear_failures == [
        "reidentification: adversary 1 lower 0.05 > 0.05 on 400 targets"
    ]
    assert len(decision.failures) == 3


def test_a_pass_closer_to_the_threshold_than_its_width_is_a_close_call():
    passed = dataclasses.replace(CHECK, passed=True, lower=0.01, upper=0.035)  # width 0.025
    assert "ends closer to the threshold 5.0% than its own width" in passed.close_call()
    # 0.015 from the threshold with a width of 0.015 or less: far enough
    assert dataclasses.replace(passed, lower=0.025).close_call() is None
    assert dataclasses.replace(passed, upper=0.02, lower=0.01).close_call() is None
    assert CHECK.close_call() is None  # failed checks are not close calls
    decision = GateDecision("pass", (passed,), {})
    assert decision.close_calls == [passed.close_call()]
