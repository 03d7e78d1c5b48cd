"""Tampering with any file of a real bundle (and of its review copy) is caught by name;
the datasheet has one row per step, in order."""

import json
import re

import pytest

from policies import parse_policy
from publisher.core.ratings import Scale
from publisher.engine.release import release
from publisher.engine.verify import verify_bundle
from publisher.readers import ReadOptions

from tests.conftest import TEST_KEYS
from tests.test_cli import SMALL

pytestmark = pytest.mark.release  # a real release per module: not in mutation runs

POLICY = """name: every-file
steps:
  - pseudonymize_users: {}
  - drop_rare_items: {min_raters: 2}
  - cap_user_ratings: {max_ratings: 8}
  - coarsen_dates: {to: month}
  - perturb_ratings: {epsilon: 2}
  - jitter_dates: {max_days: 3}
audits: {targets: 20}
gate: none
aggregates:
  epsilon: 1
  max_ratings_per_user: 5
  statistics: [item_count, {ratings_per_period: {period: quarter}}]
  domain: {items: {range: [1, 11]}, dates: {from: 2005-01-01, to: 2005-12-31}}
"""
BUNDLE_FILES = [
    "DATASHEET.md",
    "aggregates/item_count.csv",
    "aggregates/item_count.parquet",
    "aggregates/ratings_per_period.csv",
    "aggregates/ratings_per_period.parquet",
    "data/ratings.csv",
    "data/ratings.parquet",
    "policy.yaml",
    "report.html",
    "report.json",
    "report.md",
]
REVIEW_FILES = ["policy.yaml", "report.html", "report.json", "report.md"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    source = folder / "small.csv"
    source.write_text(SMALL)
    out = folder / "bundle"
    release(
        source,
        parse_policy(POLICY),
        out,
        key=TEST_KEYS,
        seed=4,
        write_csv=True,
        reading=ReadOptions(scale=Scale(1, 5, 1)),
    )
    return out


def copy_of(folder, tmp_path):
    import shutil

    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def test_the_bundles_hold_exactly_the_expected_files(bundle):
    for folder, files in (
        (bundle, BUNDLE_FILES),
        (bundle.with_name("bundle.review"), REVIEW_FILES),
    ):
        manifest = json.loads((folder / "MANIFEST.json").read_text())
        assert sorted(manifest["files"]) == files
        assert verify_bundle(folder, key=TEST_KEYS).ok


@pytest.mark.parametrize(
    ("which", "name"),
    [("bundle", n) for n in BUNDLE_FILES] + [("bundle.review", n) for n in REVIEW_FILES],
)
@pytest.mark.parametrize("how", ["flip", "delete"])
def test_tampering_with_any_file_is_named(bundle, tmp_path, which, name, how):
    folder = copy_of(bundle.with_name(which), tmp_path)
    path = folder / name
    if how == "flip":  # one byte, same size: only the hash can tell
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        expected = f"changed: {name} (SHA-256 differs)"
    else:
        path.unlink()
        expected = f"missing: {name}"
    result = verify_bundle(folder, key=TEST_KEYS)
    assert result.origin == "verified"  # the manifest itself is intact
    assert result.problems[0] == expected


def test_datasheet_has_one_row_per_step_in_order(bundle):
    text = (bundle / "DATASHEET.md").read_text()
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \| ([^|]+) \|$", text, flags=re.M)
    policy = parse_policy(POLICY)
    assert [(int(k), name) for k, name, _ in rows] == [
        (k, step.name) for k, step in enumerate(policy.steps, 1)
    ]
    assert [d.strip() for _, _, d in rows] == [step.describe() for step in policy.steps]


def test_a_public_bundle_carrying_the_review_report_fails_verify(bundle, tmp_path):
    from click.testing import CliRunner

    from publisher.cli import main
    from publisher.engine.bundle import MANIFEST, build_manifest
    from publisher.engine.report_files import read_report

    folder = copy_of(bundle, tmp_path)
    review = bundle.with_name("bundle.review")
    (folder / "report.json").write_bytes((review / "report.json").read_bytes())
    manifest = json.loads((folder / MANIFEST).read_text())
    meta = {k: v for k, v in manifest.items() if k not in ("schema", "files", "signature")}
    (folder / MANIFEST).write_text(json.dumps(build_manifest(folder, meta, key=TEST_KEYS)))
    assert verify_bundle(folder, key=TEST_KEYS).ok  # the files match a re-signed manifest...
    _, problems = read_report(folder, json.loads((folder / MANIFEST).read_text()))
    assert problems == [  # ...but the report is the wrong view for a public bundle
        "report.json: not the public view, so it carries exact figures of the original data; "
        "a public bundle must hold the public view (the full one belongs in the review copy); "
        "it holds input.sha256, input.counts.ratings, input.counts.users"
    ]
    result = CliRunner().invoke(main, ["verify", str(folder)])
    assert result.exit_code == 4
    _, problems = read_report(review, json.loads((review / MANIFEST).read_text()))
    assert problems == []  # the review copy may hold it
