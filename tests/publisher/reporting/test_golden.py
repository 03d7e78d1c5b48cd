"""Golden files: the views rendered from two fixed report.json files, byte for byte.

tests/data/golden/report-pass.json and report-fail.json are real evaluations (a
policy with one of each kind of step, fixed seed and key, times zeroed). Every text
the datasheet, the public view and the summary produce is compared whole, so a
changed word, number or rounding fails here. After an intended change, regenerate
with ``UPDATE_GOLDEN=1 pytest tests/publisher/reporting/test_golden.py`` and review the diff.
"""

import json
import os
from pathlib import Path

import pytest

from publisher.engine.keys import Keys
from publisher.reporting.datasheet import render_datasheet
from publisher.reporting.public import public_view
from publisher.reporting.render import render_markdown
from publisher.reporting.report_json import summarize, validate_report

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"
FILES = ["aggregates/item_count.csv", "data/ratings.parquet", "policy.yaml", "report.json"]


def load(name):
    return json.loads((GOLDEN / name).read_text())


def check(name, text):
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from the golden file"


def rounded(value):
    """Floats to 12 significant digits: compiled kernels may differ in the last bit
    between builds (the mutation run's copy of the code reads 1 ulp apart), and 12
    digits still catch any change a reader could see."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def as_json(value):
    return json.dumps(rounded(value), indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("name", ["report-pass.json", "report-fail.json"])
def test_golden_reports_are_valid(name):
    assert validate_report(load(name)) == []


def test_public_view_golden():
    public = public_view(load("report-pass.json"))
    assert validate_report(public) == []
    check("public-pass.json", as_json(public))


def test_datasheet_golden():
    check("DATASHEET-pass.md", render_datasheet(public_view(load("report-pass.json")), FILES))


@pytest.mark.parametrize("name", ["report-pass.json", "report-fail.json"])
def test_summary_golden(name):
    report = load(name)
    check(name.replace("report-", "summary-"), as_json(summarize(report)))


@pytest.mark.parametrize(
    ("name", "view"),
    [
        ("report-pass.json", "public"),
        ("report-pass.json", "review"),
        ("report-fail.json", "review"),
    ],
)
def test_markdown_golden(name, view):
    report = load(name)
    if view == "public":
        report = public_view(report)
    check(f"{name.removesuffix('.json')}-{view}.md", render_markdown(report))


def test_a_rejected_release_has_no_public_view():
    from publisher.core.errors import InternalError

    with pytest.raises(InternalError) as caught:
        public_view(load("report-fail.json"))
    assert str(caught.value).startswith(
        "a rejected release has no public view; its report is for review"
    )


def test_the_public_view_is_a_copy():
    report = load("report-pass.json")
    before = json.dumps(report, sort_keys=True)
    public = public_view(report)
    public["linkage"][0]["released"]["reidentified_ci"][0] = -1.0
    public["policy"]["name"] = "changed"
    assert json.dumps(report, sort_keys=True) == before


def aggregates_only_public():
    """The pass report reshaped as an aggregates-only release of dateless data, seeded
    without a key, with no steps and no description: the datasheet's other branches."""
    public = public_view(load("report-pass.json"))
    public["linkage"], public["uniqueness"] = [], []
    public["released"] = {"ratings": 0, "users": 0, "items": 0}
    public["randomness"] = "seeded"
    public["policy"]["description"] = ""
    public["steps"] = []
    public["input"]["dates"] = False
    budget = public["privacy_budget"]
    budget["components"] = [c for c in budget["components"] if c["step"].startswith("aggregates.")]
    return public


def test_datasheet_golden_for_aggregates_only():
    check("DATASHEET-aggregates-only.md", render_datasheet(aggregates_only_public(), FILES[:1]))


def test_the_datasheet_needs_the_public_view():
    from publisher.core.errors import InternalError

    with pytest.raises(InternalError) as caught:
        render_datasheet(load("report-pass.json"), FILES)
    assert str(caught.value).startswith(
        "the datasheet is rendered from the public view of report.json"
    )


def test_schema_problems_are_listed_by_path():
    report = load("report-pass.json")
    report["verdict"] = "great"
    report["linkage"][0]["targets"] = -1
    del report["tool"]
    assert validate_report(report) == [
        "(top level): 'tool' is a required property",
        "linkage/0/targets: -1 is less than the minimum of 0",
        "verdict: 'great' is not one of ['pass', 'fail', 'not-gated']",
    ]


def test_the_schema_describes_utility():
    """``utility`` was any object: a misspelt or mistyped figure passed validation."""
    report = load("report-pass.json")
    assert report["utility"]["mf_rmse_increase"] is not None
    assert validate_report(report) == []
    report["utility"]["mf_rmse_increase"] = "small"
    report["utility"]["kept"]["ratings"] = 1.5
    report["utility"]["rmse"] = 0.9
    del report["utility"]["rating_histogram_tvd"]
    assert validate_report(report) == [
        "utility: Additional properties are not allowed ('rmse' was unexpected)",
        "utility: 'rating_histogram_tvd' is a dependency of 'holdout'",
        "utility/kept/ratings: 1.5 is greater than the maximum of 1",
        "utility/mf_rmse_increase: 'small' is not of type 'number'",
    ]
    assert validate_report({**load("report-pass.json"), "utility": None}) == []
    aggregates_only = {"dp_item_mean_relative_error": 0.04}
    assert validate_report({**load("report-pass.json"), "utility": aggregates_only}) == []


def test_field_paths_of_a_report():
    from publisher.reporting.public import field_paths

    assert field_paths(
        {"a": {"b": 1, "c": None, "d": [1, 2]}, "e": [{"f": 1}, {"g": None}], "h": []}
    ) == [
        "a.b",
        "a.d",
        "e[].f",
        "h",  # an empty list is a value, not a withheld field
    ]
    paths = field_paths(public_view(load("report-pass.json")))
    assert "input.counts.ratings" not in paths
    assert "linkage[].released.reidentified" in paths


def golden_evaluation(gate=None):
    """input.csv under policy.yaml (its gate replaced by ``gate``), seeded with a key."""
    import dataclasses

    from policies import load_policy
    from publisher.core.ratings import Scale
    from publisher.engine import evaluate
    from publisher.readers import ReadOptions

    policy = load_policy(GOLDEN / "policy.yaml")
    if gate is not None:
        policy = dataclasses.replace(policy, gate=gate)
    report = evaluate(
        GOLDEN / "input.csv",
        policy,
        key=Keys.derive(b"golden-key-not-secret"),
        seed=1,
        reading=ReadOptions(scale=Scale(1, 5, 1)),
    ).report
    report["created"] = "2026-01-01T00:00:00Z"
    for step in report["steps"]:
        step["seconds"] = 0.001
    report["input"]["name"] = "golden_small.csv"  # the name the golden files were made with
    return report


def test_the_whole_evaluation_reproduces_the_golden_report():
    """Every field of report.json is computed again and compared with report-pass.json
    (only the time of the run and the steps' seconds are set aside). A changed figure,
    phrase or rounding anywhere between the steps and report.json fails here; after an
    intended change, regenerate with UPDATE_GOLDEN=1 and review the diff."""
    check("report-pass.json", as_json(golden_evaluation()))


def test_a_failing_gate_reproduces_the_golden_rejection():
    """The same evaluation under a gate it fails: report-fail.json."""
    from policies import Gate
    from policies.schema import UniquenessLimit

    gate = Gate(
        max_reidentification_rate=(0.05, 0.95, None),
        max_unique_fraction=UniquenessLimit(known_items=2, fraction=0.99),
        max_rmse_increase=0.1,
    )
    report = golden_evaluation(gate)
    assert report["verdict"] == "fail"
    check("report-fail.json", as_json(report))


def test_summary_notes_list_each_warning_once_in_order():
    report = load("report-pass.json")
    for entry in report["linkage"]:
        entry["warnings"] = ["shared warning"]
    report["linkage"][-1]["warnings"] = ["shared warning", "last only"]
    assert summarize(report)["notes"] == ["shared warning", "last only"]


def test_datasheet_of_an_unkeyed_unseeded_release_says_so():
    report = load("report-pass.json")
    report["pseudonymization"], report["randomness"] = "ephemeral-key", "os-entropy"
    text = render_datasheet(public_view(report), FILES)
    assert (
        "Randomness came from fresh operating-system entropy. Pseudonyms were computed with a "
        "fresh random key that was discarded, so these pseudonyms cannot be reproduced or "
        "linked to any other release."
    ) in text


def test_the_date_and_decoy_audits_reach_report_json():
    """A policy that adds rows and moves dates: both new audits are in the report."""
    import dataclasses

    from policies import load_policy, parse_policy
    from publisher.core.ratings import Scale
    from publisher.engine import evaluate
    from publisher.readers import ReadOptions

    extra = parse_policy(
        "{name: x, gate: none, steps: [{jitter_dates: {max_days: 3}}, "
        "{insert_ratings: {fraction: 0.1}}]}"
    ).steps
    policy = load_policy(GOLDEN / "policy.yaml")
    policy = dataclasses.replace(policy, steps=(*policy.steps, *extra))
    report = evaluate(
        GOLDEN / "input.csv", policy, key=Keys.derive(b"golden-key-not-secret"), seed=1,
        reading=ReadOptions(scale=Scale(1, 5, 1)),
    ).report  # fmt: skip
    assert [e["tolerance_days"] for e in report["date_recovery"]] == [3, 14]
    assert report["distinguishability"]["kinds"] == ["insert_ratings"]
    # every (customer, item) pair of the golden input is rated: no decoy fits, and the
    # report says so rather than leaving the field out
    assert report["distinguishability"]["note"] == "no row to tell apart: every row is real"
    assert validate_report(report) == []


def test_a_headline_on_few_targets_names_them_and_says_inconclusive():
    # Issue 24.23: the Netflix sample report said "re-identifies 100.0% of released
    # customers" for 8 targets of 19,519 customers, the check itself inconclusive.
    from publisher.reporting.report_json import summarize
    from publisher.reporting.terminal import headline

    report = json.loads((GOLDEN / "report-pass.json").read_text())
    for entry in report["linkage"]:
        entry["targets"] = 8
    driver = summarize(report)["drivers"][0]
    assert "of the 8 released customers attacked (inconclusive: fewer than 30 targets " in driver
    report["summary"] = summarize(report)
    assert "of the 8 released customers attacked (inconclusive" in headline(report)
