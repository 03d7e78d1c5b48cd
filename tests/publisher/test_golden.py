"""Golden files: the views rendered from two fixed report.json files, byte for byte.

tests/data/golden/report-pass.json and report-fail.json are real evaluations (a
policy with one of each kind of step, fixed seed and key, times zeroed). Every text
the datasheet, the public view and the summary produce is compared whole, so a
changed word, number or rounding fails here. After an intended change, regenerate
with ``UPDATE_GOLDEN=1 pytest tests/publisher/test_golden.py`` and review the diff.
"""

import json
import os
from pathlib import Path

import pytest

from publisher.reporting.datasheet import render_datasheet
from publisher.reporting.public import public_view
from publisher.reporting.render import render_markdown
from publisher.reporting.report_json import summarize, validate_report

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
FILES = ["aggregates/item_count.csv", "data/ratings.parquet", "policy.yaml", "report.json"]


def load(name):
    return json.loads((GOLDEN / name).read_text())


def check(name, text):
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from the golden file"


def as_json(value):
    return json.dumps(value, indent=1, sort_keys=True) + "\n"


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
