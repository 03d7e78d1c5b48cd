"""The library's three calls: audit, release and verify, on DataFrames and on files."""

import json

import pandas as pd
import pytest

import publisher
from publisher.api import frame_digest
from publisher.core.errors import InputError, ReleaseRejectedError
from publisher.demo import demo_data
from publisher.readers.parquet import read_frame
from publisher.reporting.report_json import validate_report

KEY = b"api-test-key-not-secret"
POLICY = """\
name: api
gate: {max_reidentification_rate: 1.0}
audits: {targets: 40}
steps:
  - pseudonymize_users: {}
  - drop_rare_items: {min_raters: 5}
  - coarsen_dates: {to: month}
"""


@pytest.fixture(scope="module")
def frame():
    """30 ratings of each demo customer, other column names, a datetime column."""
    raw = pd.read_csv(demo_data()).groupby("userId").head(30).reset_index(drop=True)
    return pd.DataFrame(
        {
            "customer": raw["userId"],
            "film": raw["movieId"],
            "stars": raw["rating"],
            "when": pd.to_datetime(raw["timestamp"], unit="s"),
        }
    )


COLUMNS = {"user": "customer", "item": "film", "rating": "stars", "date": "when"}


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(POLICY)
    return path


def test_every_exported_name_resolves():
    for name in publisher.__all__:
        assert getattr(publisher, name) is not None, name


def test_a_dataframe_is_audited_as_the_same_data_in_a_parquet_file(frame, policy_file, tmp_path):
    path = tmp_path / "ratings.parquet"
    frame.to_parquet(path, index=False)
    common = {"columns": COLUMNS, "scale": "0.5:5:0.5", "key": KEY, "seed": 4}
    from_frame = publisher.audit(frame, policy_file, **common)
    from_file = publisher.audit(path, policy_file, **common)
    for field in ("linkage", "uniqueness", "released", "verdict"):
        assert from_frame.report[field] == from_file.report[field], field
    untimed = [{k: v for k, v in s.items() if k != "seconds"} for s in from_frame.report["steps"]]
    assert untimed == [
        {k: v for k, v in s.items() if k != "seconds"} for s in from_file.report["steps"]
    ]
    assert from_frame.report["input"]["format"] == "dataframe"
    assert validate_report(from_frame.report) == []
    assert from_frame.report["input"]["sha256"] == frame_digest(frame)
    assert from_frame.released.n_ratings == from_file.released.n_ratings


def test_a_dataframe_is_released_and_the_bundle_verifies(frame, policy_file, tmp_path):
    out = tmp_path / "bundle"
    result = publisher.release(
        frame, policy_file, out, columns=COLUMNS, scale="0.5:5:0.5", key=KEY, seed=4
    )
    assert result is not None
    assert publisher.verify(out, key=KEY).ok
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "pass"
    # the bundle and its review copy, nothing else: the temporary Parquet was elsewhere
    assert {p.name for p in tmp_path.iterdir()} == {"api.yaml", "bundle", "bundle.review"}


def test_a_release_the_gate_refuses_raises_and_publishes_nothing(frame, tmp_path):
    out = tmp_path / "bundle"
    tight = tmp_path / "tight.yaml"
    tight.write_text(
        POLICY.replace("max_reidentification_rate: 1.0", "max_reidentification_rate: 0.01")
    )
    with pytest.raises(ReleaseRejectedError):
        publisher.release(frame, tight, out, columns=COLUMNS, scale="0.5:5:0.5")
    assert not out.exists()
    assert (tmp_path / "bundle.rejected" / "report.json").exists()


def test_a_dataframe_is_checked_as_a_file_is(frame):
    gap = frame.assign(stars=frame["stars"].where(frame.index != 2))
    with pytest.raises(InputError, match=r"^DataFrame: row 3: missing rating$"):
        read_frame(gap, columns=COLUMNS)
    with pytest.raises(InputError, match="off the scale"):
        read_frame(frame.assign(stars=7.0), columns=COLUMNS, scale=publisher.Scale(1, 5, 1))
    with pytest.raises(InputError, match="expected a pandas DataFrame, got list"):
        read_frame([1, 2, 3])


def test_the_frame_digest_follows_the_values_not_the_index(frame):
    assert frame_digest(frame) == frame_digest(frame.set_axis(range(10, 10 + len(frame))))
    assert frame_digest(frame) != frame_digest(frame.assign(stars=frame["stars"].iloc[::-1].values))
