"""A model release end to end: the bundle, its public report, verify and predict."""

import json

import numpy as np
import pandas as pd
from click.testing import CliRunner

from publisher.cli import main
from publisher.core.model import ItemModel
from publisher.engine import release
from publisher.engine.verify import verify_bundle

from tests.publisher.engine.test_keys import KEYS

POLICY = """name: model
model:
  kind: mcsherry-mironov
  epsilon: 2
  unit: customer
  rank: 3
  domain: {items: {range: [1, 30]}, scale: "1:5:1"}
gate: none
"""


def ratings_file(tmp_path, n_users=200, n_items=25):
    rng = np.random.default_rng(0)
    taste, appeal = rng.normal(size=(n_users, 2)), rng.normal(size=(n_items, 2))
    rows = []
    for u in range(n_users):
        for i in rng.choice(n_items, size=12, replace=False):
            value = np.clip(np.rint(3.5 + 0.6 * taste[u] @ appeal[i] + rng.normal(0, 0.5)), 1, 5)
            rows.append((f"c{u}", int(i) + 1, value))
    path = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=["user", "item", "rating"]).to_csv(path, index=False)
    return path


def test_a_model_bundle_verifies_holds_no_microdata_and_predicts(tmp_path):
    data, policy = ratings_file(tmp_path), tmp_path / "model.yaml"
    policy.write_text(POLICY)
    result = release(data, policy, tmp_path / "out", key=KEYS, seed=7)
    bundle = tmp_path / "out"
    assert not (bundle / "data").exists()
    assert verify_bundle(bundle, key=KEYS).ok
    model = ItemModel.read(bundle / "model")
    assert model.n_items == 30
    assert model.rank == 3
    assert (bundle / "model" / "cov.npy").exists()  # 30 items <= max_matrix_items
    public = json.loads((bundle / "report.json").read_text())
    assert public["released"] == {"ratings": 0, "users": 0, "items": 0}
    assert public["input"].get("counts") is None  # no exact count of the original
    assert public["model"]["utility"] is None  # measured against the original: review only
    # the pages claim no pseudonyms and show no attack where no ids and no ratings left
    for page in ((bundle / "report.html").read_text(), (bundle / "DATASHEET.md").read_text()):
        assert "The recommender model" in page or "model/" in page
        assert "Pseudonyms replace" not in page
        assert "keyed pseudonyms" not in page
        assert "Re-identification" not in page
    review = result.report["model"]["utility"]
    assert set(review["rmse"]) >= {"constant", "global_effects", "svd", "dp_svd", "dp_knn"}
    assert review["holdout"]["ratings"] > 0
    known, pairs, out = tmp_path / "known.csv", tmp_path / "pairs.csv", tmp_path / "pred.csv"
    known.write_text("user,item,rating\nme,1,5\nme,2,1\n")
    pairs.write_text("user,item\nme,3\nstranger,4\nme,999\n")
    run = CliRunner().invoke(
        main,
        ["predict", str(bundle), "--ratings", str(known), "--pairs", str(pairs), "--out", str(out)],
    )
    assert run.exit_code == 0, run.output
    predicted = pd.read_csv(out)
    assert predicted["user"].tolist() == ["me", "stranger", "me"]
    assert predicted["prediction"].between(1, 5).all()


def test_predict_refuses_a_bundle_that_does_not_verify(tmp_path):
    data, policy = ratings_file(tmp_path), tmp_path / "model.yaml"
    policy.write_text(POLICY)
    release(data, policy, tmp_path / "out", key=KEYS, seed=7)
    (tmp_path / "out" / "model" / "items.csv").write_text("item,noisy_sum\n1,0\n")
    (tmp_path / "p.csv").write_text("user,item\nme,1\n")
    run = CliRunner().invoke(
        main,
        [
            "predict",
            str(tmp_path / "out"),
            "--ratings",
            str(data),
            "--pairs",
            str(tmp_path / "p.csv"),
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert run.exit_code == 1
    assert "does not verify" in run.output
    assert not (tmp_path / "x.csv").exists()
