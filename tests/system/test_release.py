"""End-to-end releases on real and distinctive data: what a bundle holds and what it must not."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from policies import Gate, load_policy, parse_policy
from publisher.core.errors import ReleaseRejectedError
from publisher.core.ratings import Scale
from publisher.engine import release
from publisher.engine.keys import Keys
from publisher.engine.verify import verify_bundle
from publisher.readers import ReadOptions

from tests.conftest import shared

pytestmark = pytest.mark.slow  # real releases: run with -m slow or the full suite

KEY = b"system-test-organizer-key-XYZ"
KEYS = Keys.derive(KEY)


def ungated(name):
    """A preset without its gate: these tests check the mechanics of a published bundle."""
    return dataclasses.replace(load_policy(name), gate=Gate(none=True))


SEED = 987654321


@pytest.fixture
def distinctive(tmp_path):
    """Users with long, unmistakable ids, so any leak is visible in the bytes."""
    rng = np.random.default_rng(0)
    rows = []
    # 300 users over 20 items: enough raters per item that every preset keeps some data
    for u in range(300):
        for item in rng.choice(20, size=12, replace=False):
            rows.append(
                (
                    f"CUSTOMER-SECRET-{u:04d}-QX",
                    int(item),
                    int(rng.integers(1, 6)),
                    f"2004-{rng.integers(1, 13):02d}-{rng.integers(1, 28):02d}",
                )
            )
    path = tmp_path / "private-input-folder" / "customers.csv"
    path.parent.mkdir()
    pd.DataFrame(rows, columns=["customer_id", "movie", "stars", "date"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("policy", ["balanced", "netflix-2006", "strict", "open"])
def test_no_original_id_key_seed_or_path_in_bundle(distinctive, tmp_path, policy):
    out = tmp_path / "bundle"
    if policy == "open":  # no gate, so the data is always published
        policy = parse_policy("name: open\nsteps: [{pseudonymize_users: {}}]\ngate: none\n", "open")
    try:
        release(
            distinctive,
            policy,
            out,
            key=KEYS,
            seed=SEED,
            write_csv=True,
            reading=ReadOptions(scale=Scale(1, 5, 1)),
        )
    except ReleaseRejectedError:
        out = tmp_path / "bundle.rejected"  # the rejected report must not leak either
    assert verify_bundle(out, key=KEYS).ok
    originals = pd.read_csv(distinctive)["customer_id"].unique().tolist()
    forbidden = [
        b"CUSTOMER-SECRET",
        KEY,
        str(SEED).encode(),
        str(distinctive).encode(),
        str(distinctive.parent).encode(),
    ]
    for file in out.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            for needle in forbidden:
                assert needle not in data, f"{needle!r} found in {file.name}"
    report = (out / "report.html").read_text()
    assert "CUSTOMER" not in base64_payloads(report)
    if out.name.endswith(".rejected"):
        assert not (out / "data").exists()
        return
    table = pq.read_table(out / "data" / "ratings.parquet")
    assert table.schema.metadata is None or b"CUSTOMER" not in str(table.schema.metadata).encode()
    released_users = set(table.column("user").to_pylist())
    assert not released_users & set(originals)
    assert all(len(u) == 16 and int(u, 16) >= 0 for u in released_users)
    csv_users = set(pd.read_csv(out / "data" / "ratings.csv")["user"].astype(str))
    assert csv_users == released_users


def base64_payloads(html):
    """The decoded images of an HTML report, as text."""
    import base64
    import re

    return "".join(
        base64.b64decode(m).decode("utf-8", "replace")
        for m in re.findall(r"base64,([A-Za-z0-9+/=]+)", html)
    )


def test_movielens_100k_balanced_bundle(tmp_path):
    out = tmp_path / "X"
    result = release(shared("movielens-100k/u.data"), ungated("balanced"), out, key=KEYS, seed=1)
    assert verify_bundle(out).ok
    frame = pd.read_parquet(out / "data" / "ratings.parquet")
    assert list(frame.columns) == ["user", "item", "rating", "date"]
    assert len(frame) == result.released["ratings"]
    # drop_rare_items(20) then cap(300): every kept item had >= 20 raters before capping
    assert frame["rating"].isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert (frame["date"].dt.day == 1).all()  # coarsened to the month
    assert frame.equals(frame.sort_values(["user", "item"]).reset_index(drop=True))
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["policy"] == {"name": "balanced", "sha256": ungated("balanced").digest()}
    assert manifest["input"]["format"] == "movielens-100k"
    datasheet = (out / "DATASHEET.md").read_text()
    assert "| 2 | `drop_rare_items` | ratings of items with fewer than 20 raters removed |" in (
        datasheet
    )
    # The step counts are figures of the original: in the review copy, not the bundle.
    assert "100,000" not in datasheet
    assert "100,000" not in (out / "report.md").read_text()
    review = (tmp_path / "X.review" / "report.md").read_text()
    assert "| 2 | `drop_rare_items` | min_raters=20 | 100,000 -> " in review
    assert verify_bundle(tmp_path / "X.review", key=KEYS).ok
    effective = load_policy(out / "policy.yaml")
    assert effective.steps == load_policy("balanced").steps


def test_netflix_sample_release(tmp_path):
    out = tmp_path / "nf"
    result = release(shared("netflix-prize-sample"), ungated("netflix-2006"), out, key=KEYS, seed=2)
    assert result.original == {"ratings": 20_352, "users": 19_519, "items": 10}
    # delete 1% then insert 1% of what is left
    assert result.released["ratings"] == 20_352 - 204 + round(0.01 * (20_352 - 204))
    assert verify_bundle(out).ok


def test_same_seed_and_key_give_identical_data(tmp_path):
    source = shared("movielens-100k/u.data")
    digests = []
    for name in ("a", "b"):
        release(source, ungated("balanced"), tmp_path / name, key=KEYS, seed=5)
        manifest = json.loads((tmp_path / name / "MANIFEST.json").read_text())
        digests.append(manifest["files"]["data/ratings.parquet"]["sha256"])
    assert digests[0] == digests[1]
    release(source, ungated("balanced"), tmp_path / "c", key=KEYS, seed=6)
    other = json.loads((tmp_path / "c" / "MANIFEST.json").read_text())
    assert other["files"]["data/ratings.parquet"]["sha256"] != digests[0]


AGGREGATES = """
name: agg
steps: [{pseudonymize_users: {}}, {coarsen_dates: {to: month}}]
audits: {targets: 100}
gate: none
aggregates:
  epsilon: 1.0
  max_ratings_per_user: 50
  microdata: MICRODATA
  statistics: [item_count, item_mean, rating_histogram, {ratings_per_period: {period: month}}]
  domain:
    items: {range: [1, 1682]}
    dates: {from: 1997-09-01, to: 1998-04-30}
"""


@pytest.mark.parametrize("microdata", [True, False])
def test_release_with_dp_aggregates(tmp_path, microdata):
    policy = parse_policy(AGGREGATES.replace("MICRODATA", str(microdata).lower()), "agg")
    out = tmp_path / "agg"
    release(shared("movielens-100k/u.data"), policy, out, key=KEYS, seed=3)
    assert verify_bundle(out).ok
    names = sorted(p.name for p in (out / "aggregates").iterdir())
    assert names == sorted(
        f"{s}.{ext}"
        for s in ("item_count", "item_mean", "rating_histogram", "ratings_per_period")
        for ext in ("csv", "parquet")
    )
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["aggregates"]["item_count"] == {"epsilon": 0.25, "delta": 0.0}
    report = json.loads((out / "report.json").read_text())
    assert report["privacy_budget"]["aggregates_epsilon"] == 1.0
    assert (out / "data").exists() == microdata
    counts = pd.read_parquet(out / "aggregates" / "item_count.parquet")
    assert len(counts) == 1682
    assert (counts["count"] >= 0).all()
    # Utility is measured against the original: in the review copy only.
    assert report["utility"] is None
    review = json.loads((tmp_path / "agg.review" / "report.json").read_text())
    assert review["utility"]["dp_item_mean_relative_error"] < 1.0
    if microdata:
        assert review["utility"]["mf_rmse_increase"] == pytest.approx(0.0, abs=0.05)
    else:
        assert report["linkage"] == []
