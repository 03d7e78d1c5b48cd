"""Space files: validated like policies, knobs turned into complete policies."""

import pytest

from policies import load_policy, parse_policy
from publisher.core.errors import PolicyError
from publisher.tuning.space import DEFAULT_SPACE, load_space, parse_space


def step_names(policy):
    return [s.name for s in policy.steps]


def test_the_default_space_builds_a_valid_policy_for_every_candidate():
    space = load_space(None)
    assert space.objective == "rmse_increase"
    assert space.size == 5 * 3 * 4 * 4 * 2
    candidates = space.candidates(load_policy("balanced"))
    assert len(candidates) == space.size
    assert len({c.policy.digest() for c in candidates}) == space.size  # all different
    # least protective first: the base's own steps, minus every knob's
    assert step_names(candidates[0].policy) == ["pseudonymize_users"]
    assert candidates[0].describe(space.knobs) == (
        "min_raters=none max_ratings=none to=none epsilon=none fraction=none"
    )
    last = candidates[-1]
    assert last.describe(space.knobs) == (
        "min_raters=400 max_ratings=50 to=drop epsilon=0.1 fraction=0.5"
    )
    assert step_names(last.policy) == [
        "pseudonymize_users", "drop_rare_items", "cap_user_ratings", "sample_users",
        "drop_dates", "perturb_ratings",
    ]  # fmt: skip
    assert DEFAULT_SPACE.startswith("objective: rmse_increase")


def test_knobs_change_base_steps_in_place_and_add_missing_ones_in_the_documented_order():
    base = parse_policy(
        "name: b\nsteps: [{pseudonymize_users: {}}, {perturb_ratings: {epsilon: 2}}]\n"
        "gate: {max_reidentification_rate: 0.05}"
    )
    space = parse_space(
        "coarsen_dates.to: [month]\nperturb_ratings.epsilon: [0.5]\nsample_users.fraction: [0.5]"
    )
    (candidate,) = space.candidates(base)
    assert step_names(candidate.policy) == [
        "pseudonymize_users", "sample_users", "coarsen_dates", "perturb_ratings",
    ]  # fmt: skip
    assert candidate.policy.steps[3].epsilon == 0.5
    assert candidate.policy.gate == base.gate  # the base's gate and audits are kept
    assert candidate.policy.audits == base.audits


def test_drop_replaces_coarsening_and_jitter_with_drop_dates():
    base = parse_policy(
        "name: b\nsteps: [{pseudonymize_users: {}}, {coarsen_dates: {to: month}}, "
        "{jitter_dates: {max_days: 3}}]\ngate: {max_reidentification_rate: 0.05}"
    )
    space = parse_space("coarsen_dates.to: [null, year, drop]")
    names = [step_names(c.policy) for c in space.candidates(base)]
    assert names == [
        ["pseudonymize_users", "jitter_dates"],
        ["pseudonymize_users", "coarsen_dates", "jitter_dates"],
        ["pseudonymize_users", "drop_dates"],
    ]


def test_protection_order_of_the_knobs():
    space = parse_space(
        "drop_rare_items.min_raters: [null, 20]\ncap_user_ratings.max_ratings: [null, 100]\n"
        "coarsen_dates.to: [month, drop]\nperturb_ratings.method: [randomized_response]"
    )
    base = load_policy("balanced")
    by = {c.describe(space.knobs): c for c in space.candidates(base)}
    least = by["min_raters=none max_ratings=none to=month method=randomized_response"]
    most = by["min_raters=20 max_ratings=100 to=drop method=randomized_response"]
    mixed = by["min_raters=20 max_ratings=none to=month method=randomized_response"]
    assert most.protects_at_least(least, space.knobs)
    assert most.protects_at_least(mixed, space.knobs)
    assert mixed.protects_at_least(least, space.knobs)
    assert not least.protects_at_least(mixed, space.knobs)
    assert least.protects_at_least(least, space.knobs)
    other = by["min_raters=none max_ratings=100 to=month method=randomized_response"]
    assert not other.protects_at_least(mixed, space.knobs)  # incomparable both ways
    assert not mixed.protects_at_least(other, space.knobs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", "space: must be a mapping of STEP.PARAM: [values] (and objective)"),
        ("objective: speed\ndrop_dates.x: [1]", "space: objective: must be one of"),
        ("min_raters: [1]", "space: knob 'min_raters' must be STEP.PARAM"),
        ("drop_rare.min_raters: [1]", "space: drop_rare.min_raters: unknown step 'drop_rare'"),
        ("drop_rare_items.min_raters: 5", "space: drop_rare_items.min_raters: must be a non-empty"),
        ("drop_rare_items.min_raters: []", "must be a non-empty list of values"),
        (
            "drop_rare_items.min_raters: [5, 5]",
            "drop_rare_items.min_raters: a value is listed twice",
        ),
        (
            "drop_rare_items.min_raters: [5, -1]",
            "space: drop_rare_items.min_raters[1]: must be an integer >= 1, got -1",
        ),
        ("coarsen_dates.to: [month, decade]", "space: coarsen_dates.to[1]: must be one of"),
        ("drop_rare_items.limit: [1]", "space: drop_rare_items.limit[0]: unknown key 'limit'"),
        ("pseudonymize_users.digest_chars: [8]", "pseudonyms are not a knob"),
        ("objective: ratings_kept", "space: names no knob to search"),
        (
            "drop_rare_items.min_raters: [" + ", ".join(map(str, range(1, 81))) + "]\n"
            "cap_user_ratings.max_ratings: [" + ", ".join(map(str, range(1, 80))) + "]",
            "space: 6,320 candidates; at most 5,000",
        ),
    ],
)
def test_bad_spaces_name_the_knob(text, message):
    with pytest.raises(PolicyError) as caught:
        parse_space(text)
    assert message in str(caught.value)


def test_a_knob_on_a_step_the_base_lacks_needs_its_required_parameters():
    space = parse_space("redate_ratings.fraction: [0.01]")
    base = load_policy("balanced")
    with pytest.raises(PolicyError) as caught:
        space.check_base(base)
    assert str(caught.value) == (
        "space: redate_ratings.fraction: the base policy has no redate_ratings step and the "
        "space does not set max_days; add redate_ratings.max_days or put the step in the base"
    )


def test_an_unreadable_space_file_is_named(tmp_path):
    with pytest.raises(PolicyError, match=r"nope\.yaml: cannot read the space"):
        load_space(tmp_path / "nope.yaml")
