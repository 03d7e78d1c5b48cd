import math

import pytest

from policies import Adversary, list_presets, load_policy, parse_policy
from policies.steps import PseudonymizeUsers
from publisher.core.adversary import KNOWLEDGE_MODELS
from publisher.core.errors import PolicyError

GOOD = """
name: custom
licence: CC-BY-4.0
steps:
  - pseudonymize_users: {}
  - jitter_dates: {max_days: 3}
audits:
  targets: 50
  phi: 2
  adversaries:
    - {known_items: 4, wrong_items: 1, rating_tolerance: 1, date_tolerance_days: 7, items: {exclude_top: 100}}
  uniqueness: {known_items: [1, 3]}
gate: {max_reidentification_rate: 0.1}
"""


def test_good_policy_round_trips():
    policy = parse_policy(GOOD, "p.yaml")
    assert [s.name for s in policy.steps] == ["pseudonymize_users", "jitter_dates"]
    assert policy.audits.adversaries == (
        Adversary(
            known_items=4, wrong_items=1, rating_tolerance=1, date_tolerance_days=7, exclude_top=100
        ),
    )
    assert policy.audits.uniqueness_known_items == (1, 3)
    again = parse_policy(policy.to_yaml(), "again")
    assert again == policy
    assert again.digest() == policy.digest()


def test_presets_load_and_include_the_four_named():
    assert {"none", "netflix-2006", "balanced", "strict"} <= set(list_presets())
    for name in list_presets():
        policy = load_policy(name)
        assert policy.name == name
    assert not load_policy("none").steps
    netflix = [s.name for s in load_policy("netflix-2006").steps]
    assert netflix == ["pseudonymize_users", "delete_ratings", "insert_ratings", "redate_ratings"]
    assert isinstance(load_policy("balanced").steps[0], PseudonymizeUsers)


def test_file_wins_over_preset_and_unknown_source(tmp_path):
    path = tmp_path / "balanced"
    path.write_text("name: mine\ngate: none\n")
    assert load_policy(path).name == "mine"
    with pytest.raises(PolicyError, match=r"^nope: no such policy file or preset \(presets: "):
        load_policy("nope")


BAD = [
    ("steps:\n  - jitter_dates: {max_days: -2}", "policy: missing required key 'name'"),
    (
        "name: x\nsteps:\n  - drop_dates: {}\n  - drop_dates: {}\n  - drop_dates: {}\n  - jitter_dates: {max_days: -2}",
        "steps[3].jitter_dates.max_days: must be an integer in [0, 3,653], got -2",
    ),
    (
        "name: x\ncolour: red",
        "policy: unknown key 'colour'; allowed: name, description, licence, steps, audits, gate, aggregates, model",
    ),
    (
        "name: x\nsteps: [{shuffle: {}}]",
        "steps[0]: unknown step 'shuffle'; steps: pseudonymize_users, drop_rare_items, "
        "drop_sparse_users, cap_user_ratings, sample_users, coarsen_dates, drop_dates, jitter_dates, "
        "perturb_ratings, delete_ratings, insert_ratings, redate_ratings",
    ),
    (
        "name: x\nsteps: [{drop_rare_items: {min_raters: 5, max: 3}}]",
        "steps[0].drop_rare_items: unknown key 'max'; allowed: min_raters",
    ),
    (
        "name: x\nsteps: [{cap_user_ratings: {}}]",
        "steps[0].cap_user_ratings: missing required key 'max_ratings'",
    ),
    (
        "name: x\nsteps: [{perturb_ratings: {epsilon: -1}}]",
        "steps[0].perturb_ratings.epsilon: must be a number > 0, got -1",
    ),
    (
        "name: x\nsteps: [{perturb_ratings: {epsilon: '2'}}]",
        "steps[0].perturb_ratings.epsilon: must be a number > 0, got '2'",
    ),
    (
        "name: x\nsteps: [{sample_users: {fraction: 1.5}}]",
        "steps[0].sample_users.fraction: must be a number in (0, 1], got 1.5",
    ),
    (
        "name: x\nsteps: [{coarsen_dates: {to: day}}]",
        "steps[0].coarsen_dates.to: must be one of week, month, quarter, year, got 'day'",
    ),
    (
        "name: x\nsteps: [{drop_dates: {}, jitter_dates: {max_days: 1}}]",
        "steps[0]: must be a mapping with one step name, e.g. '- drop_dates: {}'",
    ),
    ("name: x\nsteps: {drop_dates: {}}", "steps: must be a list"),
    ("name: x\nsteps: [{drop_dates: [1]}]", "steps[0].drop_dates: must be a mapping, got a list"),
    (
        "name: x\nsteps: [{pseudonymize_users: {}}, {pseudonymize_users: {}}]",
        "steps: pseudonymize_users may appear only once",
    ),
    ("name: x\naudits: {targets: 0}", "audits.targets: must be an integer >= 1, got 0"),
    ("name: x\naudits: {adversaries: []}", "audits.adversaries: must be a non-empty list"),
    (
        "name: x\naudits: {adversaries: [{wrong_items: 1}]}",
        "audits.adversaries[0]: missing required key 'known_items'",
    ),
    (
        "name: x\naudits: {adversaries: [{known_items: 2, wrong_items: 2}]}",
        "audits.adversaries[0].wrong_items: must be an integer in [0, 1], got 2",
    ),
    (
        "name: x\naudits: {adversaries: [{known_items: 2, date_tolerance_days: -1}]}",
        "audits.adversaries[0].date_tolerance_days: must be an integer in [0, 36,525], got -1",
    ),
    (
        "name: x\naudits: {adversaries: [{known_items: 2, items: {top: 3}}]}",
        "audits.adversaries[0].items: unknown key 'top'; allowed: exclude_top",
    ),
    (
        "name: x\naudits: {adversaries: [{known_items: 2, knowledge: gossip}]}",
        "audits.adversaries[0].knowledge: must be models among original, released, popular, "
        "got 'gossip'",
    ),
    (
        "name: x\naudits: {adversaries: [{known_items: 2, knowledge: [released, released]}]}",
        "audits.adversaries[0].knowledge: must be distinct models (each named once), "
        "got 'released'",
    ),
    (
        "name: x\naudits: {posterior: 0.4}",
        "audits.posterior: must be a number in [0.5, 1), got 0.4",
    ),
    ("name: x\naudits: {phi: 0}", "audits.phi: must be a number > 0, got 0"),
    (
        "name: x\ngate: {max_reidentification_rate: 1.5}",
        "gate.max_reidentification_rate: must be a number in [0, 1], got 1.5",
    ),
    (
        "name: x\ngate: {max_risk: 0.1}",
        "gate: unknown key 'max_risk'; allowed: max_reidentification_rate, max_unique_fraction, "
        "max_rmse_increase, max_decoy_auc",
    ),
    (
        "name: x\ngate: {max_decoy_auc: 0.4}",
        "gate.max_decoy_auc: must be a number in [0.5, 1], got 0.4",
    ),
    (
        "name: x\ngate: {max_reidentification_rate: [0.1, 0.2]}",
        "gate.max_reidentification_rate: a list needs one value per adversary (3), got 2",
    ),
    (
        "name: x\ngate: {max_unique_fraction: {known_items: 3, fraction: 0.5}}",
        "gate.max_unique_fraction.known_items: 3 is not among audits.uniqueness.known_items",
    ),
    (
        "name: x\ngate: {max_unique_fraction: {known_items: 4, fraction: 0.5, match: dates}}",
        "gate.max_unique_fraction.match: must be one of items, ratings, ratings_dates, items_period, got 'dates'",
    ),
    ("name: 3", "name: must be a string, got 3"),
    ("- just\n- a list", "policy: must be a mapping, got a list"),
    (
        "name: x\nsteps: [{jitter_dates: {max_days: .inf}}]",
        "steps[0].jitter_dates.max_days: must be an integer in [0, 3,653], got inf",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_policy_messages(text, message):
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    assert str(caught.value) == f"p.yaml: {message}"


def test_yaml_alias_bomb_is_refused():
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nname: x\n"
    with pytest.raises(PolicyError, match=r"^p\.yaml: line 2: YAML aliases are not allowed"):
        parse_policy(bomb, "p.yaml")


def test_python_tags_are_refused():
    with pytest.raises(PolicyError, match=r"^p\.yaml: line 1: invalid YAML \(could not determine"):
        parse_policy("name: !!python/object/apply:os.system ['true']", "p.yaml")


def test_yaml_syntax_error_names_line():
    # the parser notices the missing bracket at the end of the stream, line 4
    with pytest.raises(PolicyError, match=r"^p\.yaml: line 4: invalid YAML \(expected"):
        parse_policy("name: x\nsteps:\n  - [unclosed\n", "p.yaml")


def test_decoys_after_noise_are_allowed():
    from policies import parse_policy

    policy = parse_policy(
        "name: ok\nsteps: [{perturb_ratings: {epsilon: 1}}, {insert_ratings: {fraction: 0.05}}]"
        "\ngate: none"
    )
    assert [s.name for s in policy.steps] == ["perturb_ratings", "insert_ratings"]


def test_one_table_per_statistic_even_with_other_periods():
    """Both would be written as aggregates/ratings_per_period: the second would replace
    the first while its epsilon is still counted."""
    from policies import parse_policy

    with pytest.raises(PolicyError, match=r"statistics\[1\]: ratings_per_period is listed twice"):
        parse_policy(
            "name: ok\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 10, statistics: "
            "[{ratings_per_period: {period: month}}, {ratings_per_period: {period: year}}], "
            "domain: {dates: {from: 2000-01-01, to: 2000-12-31}}}"
        )


@pytest.mark.parametrize(
    ("text", "statement"),
    [
        (
            "{name: p, gate: none}",
            "No step that shapes the published ratings table is differentially private; its "
            "protection is measured by the audits, not guaranteed.",
        ),
        (
            "{name: p, gate: none, steps: [{perturb_ratings: {epsilon: 0.5}}]}",
            "Each released rating value is 0.5-locally differentially private. A customer with "
            "n ratings has n x 0.5 for the vector of their rating values (basic composition). "
            "Which items a customer rated, when, and how many are NOT covered. No step that "
            "shapes the published ratings table is differentially private other than randomized "
            "response on rating values; its protection is measured by the audits, not guaranteed.",
        ),
        (
            "{name: p, aggregates: {epsilon: 0.3, max_ratings_per_user: 4, microdata: false, "
            "statistics: [rating_histogram]}}",
            "The aggregates under aggregates/ are together 0.3-differentially private for each "
            "customer (all of their ratings; at most 4 per customer counted), by sequential "
            "composition. The tables list exactly the declared domain, whatever the data holds: "
            "ratings on the scale 1:5:1. Ratings outside it are not counted. The guarantee "
            "covers these tables as computed from fresh operating-system randomness or a seed "
            "mixed with the organizer's key; it does not cover the microdata, nor any figure of "
            "the original data published without noise.",
        ),
    ],
    ids=["nothing", "one-rr", "aggregates-only"],
)
def test_privacy_statement_for_each_kind_of_policy(text, statement):
    from policies.guarantees import privacy_statement
    from publisher.core.ratings import Scale

    policy = parse_policy(text)
    result = privacy_statement(policy, Scale(1, 5, 1)).to_dict()
    assert result["statement"] == statement
    got = privacy_statement(policy, Scale(1, 5, 1))
    # no figure for what the policy does not have: None, not 0 (which would claim perfect DP)
    assert got.per_rating_epsilon == (0.5 if "perturb_ratings" in text else None)
    # 0.3 rounded up to the next float: the float nearest 3/10 is below it
    assert got.aggregates_epsilon == (
        math.nextafter(0.3, math.inf) if "aggregates" in text else None
    )
    assert result["unit"] == "one customer (all of their ratings)"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("name: p\nsteps: []\ngate: {max_reidentification_rate: 0.01}\nsteps: []\n", 4, "steps"),
        (
            "name: p\ngate:\n  max_reidentification_rate: 0.01\n  max_reidentification_rate: 1\n",
            4,
            "max_reidentification_rate",
        ),
        ("name: p\nsteps:\n  - perturb_ratings: {epsilon: 0.1, epsilon: 9}\n", 3, "epsilon"),
        ("name: p\nname: q\n", 2, "name"),
    ],
    ids=["top-level-steps", "gate-threshold", "step-parameter", "name"],
)
def test_a_key_given_twice_is_an_error_at_every_level(text, line, key):
    # Issue 24.4: a reviewer reads the first value; last-wins parsing applied the second.
    with pytest.raises(PolicyError, match=rf"^p\.yaml: line {line}: key '{key}' given twice$"):
        parse_policy(text, "p.yaml")


def test_every_preset_attacks_with_every_knowledge_model():
    """The default: the worst case over original, released and popular knowledge."""
    for name in list_presets():
        for adversary in load_policy(name).audits.adversaries:
            assert adversary.knowledge == KNOWLEDGE_MODELS, (name, adversary)


def test_knowledge_may_be_narrowed_by_name():
    text = "name: x\ngate: none\naudits:\n  adversaries: [{known_items: 4, knowledge: released}]\n"
    assert parse_policy(text).audits.adversaries[0].knowledge == ("released",)
    listed = text.replace("knowledge: released", "knowledge: [popular, original]")
    assert parse_policy(listed).audits.adversaries[0].knowledge == ("popular", "original")
