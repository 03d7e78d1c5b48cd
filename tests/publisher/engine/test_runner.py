"""The one audit runner: which audits run, how the policy's steps set them up."""

import numpy as np
import pytest

from audits import audit_unprotected
from policies import parse_policy
from publisher.core.periods import HALF_PERIOD
from publisher.engine.apply import apply_policy
from publisher.engine.runner import (
    AUDITS,
    AuditSeeds,
    date_recovery_audit,
    distinguishability_audit,
    run_policy_audits,
)

from tests.publisher.engine.test_simulate import heavy_table

AUDITS_YAML = """
audits:
  targets: 60
  adversaries:
    - {known_items: 4, rating_tolerance: 1, date_tolerance_days: 14}
    - {known_items: 4, rating_tolerance: 0, date_tolerance_days: 3}
    - {known_items: 4}
gate: none
"""


def policy_of(steps: str):
    return parse_policy(f"name: t\nsteps:\n{steps}{AUDITS_YAML}")


def seeds(n=1):
    return AuditSeeds(*np.random.SeedSequence(n).spawn(4))


@pytest.fixture(scope="module")
def table():
    return heavy_table(n_users=120, n_items=150)


def test_the_date_window_sums_the_date_steps_and_the_offset_is_half_the_last_period(table):
    policy = policy_of(
        "  - jitter_dates: {max_days: 7}\n"
        "  - redate_ratings: {fraction: 0.1, max_days: 5}\n"
        "  - coarsen_dates: {to: month}\n"
        "  - coarsen_dates: {to: week}\n"
    )
    audit = date_recovery_audit(table, table, policy, policy.audits, np.random.default_rng(0))
    # the attacker pools dates within twice the jitter (a day moved by up to 7 either
    # way) and within a redate's reach (a moved rating lies within 5 days of its mates)
    assert audit.window_days == 2 * 7 + 5
    assert audit.offset_days == HALF_PERIOD["week"] == 3
    # one figure per distinct date tolerance, sorted; the adversary without dates has none
    assert audit.tolerances == (3, 14)
    assert audit.n_targets == 60


def test_without_date_steps_the_attacker_reads_the_dates_as_they_are(table):
    policy = policy_of("  - pseudonymize_users: {}\n")
    audit = date_recovery_audit(table, table, policy, policy.audits, np.random.default_rng(0))
    assert (audit.window_days, audit.offset_days) == (0, 0)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # moved dates mark the moved rows when nothing else moves
        ("  - redate_ratings: {fraction: 0.1, max_days: 5}\n", (True, ("redate_ratings",))),
        # after a jitter every date has moved: a moved date marks nothing
        (
            "  - jitter_dates: {max_days: 2}\n  - redate_ratings: {fraction: 0.1, max_days: 5}\n",
            (False, ("redate_ratings",)),
        ),
        # a jitter of zero days moves nothing
        (
            "  - jitter_dates: {max_days: 0}\n  - redate_ratings: {fraction: 0.1, max_days: 5}\n",
            (True, ("redate_ratings",)),
        ),
        ("  - insert_ratings: {fraction: 0.05}\n", (False, ("insert_ratings",))),
        (
            "  - insert_ratings: {fraction: 0.05}\n"
            "  - redate_ratings: {fraction: 0.1, max_days: 5}\n"
            "  - insert_ratings: {fraction: 0.05}\n",
            (True, ("insert_ratings", "redate_ratings")),
        ),
    ],
)
def test_distinguishability_counts_moved_rows_only_when_they_stand_out(table, steps, expected):
    audit = distinguishability_audit(table, table, policy_of(steps), np.random.default_rng(0))
    assert (audit.moved, audit.kinds) == expected


def test_no_added_or_moved_rows_no_distinguishability_audit(table):
    policy = policy_of("  - jitter_dates: {max_days: 3}\n  - delete_ratings: {fraction: 0.1}\n")
    assert distinguishability_audit(table, table, policy, np.random.default_rng(0)) is None


def test_the_unprotected_audit_given_is_reused_only_when_drawn_for_these_settings(table):
    policy = policy_of("  - drop_rare_items: {min_raters: 3}\n")
    released, _ = apply_policy(table, policy, key=None, seed=np.random.SeedSequence(5))
    linkage = seeds(2)
    drawn = audit_unprotected(table, policy.audits, seed=linkage.linkage)
    report = run_policy_audits(
        table, released, policy, linkage, only={"linkage"}, unprotected=drawn
    )
    assert report.unprotected is drawn
    # drawn for fewer targets: the runner draws its own instead of reporting the wrong ones
    fewer = audit_unprotected(table, policy.audits.with_targets(30), seed=linkage.linkage)
    report = run_policy_audits(
        table, released, policy, linkage, only={"linkage"}, unprotected=fewer
    )
    assert report.unprotected is not fewer
    assert report.unprotected.settings == policy.audits
    assert report.unprotected.fingerprint == drawn.fingerprint


def test_only_runs_the_audits_asked_for(table):
    policy = policy_of("  - redate_ratings: {fraction: 0.1, max_days: 5}\n")
    released, _ = apply_policy(table, policy, key=None, seed=np.random.SeedSequence(5))
    report = run_policy_audits(table, released, policy, seeds(), only={"linkage"})
    assert report.linkage
    assert report.uniqueness == []
    assert report.date_recovery == []
    assert report.distinguishability is None
    assert report.utility is None
    everything_but_utility = set(AUDITS) - {"utility"}
    report = run_policy_audits(table, released, policy, seeds(), only=everything_but_utility)
    assert report.uniqueness
    assert report.distinguishability is not None
    assert [r.tolerance_days for r in report.date_recovery] == [3, 14]
    assert report.utility is None
    with pytest.raises(ValueError, match=r"unknown audits \['utilty'\]; known: linkage, "):
        run_policy_audits(table, released, policy, seeds(), only={"utilty"})
    assert AUDITS[0] == "linkage"
    assert AUDITS[-1] == "utility"
