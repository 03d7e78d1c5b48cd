"""The library's way in: DataFrames, an explicit pseudonym mapping, and no silent 0%."""

import numpy as np
import pandas as pd
import pytest

from audits import LinkageAudit, paired_tables
from publisher.core import Adversary, Ratings, Scale
from publisher.core.errors import InputError

SCALE = Scale(1, 5, 1)


@pytest.fixture
def original():
    rng = np.random.default_rng(3)
    rows = [
        (f"customer-{u}", int(item), int(rng.integers(1, 6)), pd.Timestamp("2005-01-01") + pd.Timedelta(days=int(rng.integers(0, 900))))
        for u in range(60)
        for item in rng.choice(300, size=12, replace=False)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["user", "item", "rating", "date"])


def pseudonymized(original):
    names = {u: f"p{k:04d}" for k, u in enumerate(original["user"].unique()[::-1])}
    return original.assign(user=original["user"].map(names)), {p: u for u, p in names.items()}


def attack(a, b):
    audit = LinkageAudit(
        a, b, adversary=Adversary(known_items=4), n_targets=60, rng=np.random.default_rng(0)
    )
    return audit.evaluate().risk().value


def test_pseudonymized_release_is_as_risky_as_its_original(original):
    released, mapping = pseudonymized(original)
    base, release = paired_tables(original, released, mapping=mapping, scale=SCALE)
    itself = attack(base, base)
    assert itself > 0.9
    assert attack(base, release) == itself  # pseudonyms alone change nothing


def test_independently_built_tables_are_refused_not_scored_zero(original):
    released, _ = pseudonymized(original)
    base = Ratings.from_columns(
        original["user"], original["item"], original["rating"], original["date"], scale=SCALE
    )
    other = Ratings.from_columns(
        released["user"], released["item"], released["rating"], released["date"], scale=SCALE
    )
    with pytest.raises(
        ValueError,
        match=r"^original and released do not share user codes; build both with audits\.paired_tables",
    ):
        attack(base, other)
    fewer_items = original[original["item"] != original["item"].iloc[0]]
    third = Ratings.from_columns(
        fewer_items["user"], fewer_items["item"], fewer_items["rating"], scale=SCALE
    )
    with pytest.raises(ValueError, match="do not share item codes"):
        attack(base, third)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r, m: (r, {k: v for k, v in list(m.items())[1:]}),
            r"^released user 'p0000' is not in the mapping$",
        ),
        (
            lambda r, m: (r, {**m, "p0059": "nobody"}),
            r"^the mapping names 'nobody', who is not in the original$",
        ),
        (
            lambda r, m: (r, {**m, "p0059": m["p0058"]}),
            r"^two released users map to the original user 'customer-1'$",
        ),
        (
            lambda r, m: (r.assign(item=r["item"].where(r.index > 0, 9999)), m),
            r"^released item '9999' is not in the original$",
        ),
        (
            lambda r, m: (r.assign(rating=r["rating"].where(r.index > 3, 7)), m),
            r"^released: row 0: rating 7 is off the scale 1:5:1",
        ),
        (
            lambda r, m: (pd.concat([r, r.iloc[:1]]), m),
            r"^released: row \d+: second rating of the same item by the same user",
        ),
    ],
    ids=["unmapped", "unknown-original", "two-to-one", "unknown-item", "off-scale", "duplicate"],
)
def test_misaligned_or_invalid_frames_are_errors(original, change, message):
    released, mapping = change(*pseudonymized(original))
    with pytest.raises(InputError, match=message):
        paired_tables(original, released, mapping=mapping, scale=SCALE)


def test_from_columns_validates_like_a_file():
    with pytest.raises(InputError, match=r"^row 0: rating 7 is off the scale 1:5:1"):
        Ratings.from_columns(["a", "b"], [1, 2], [7, 3], scale=SCALE)
    with pytest.raises(InputError, match=r"^row 1: rating -3 is off the scale 1:5:1"):
        Ratings.from_columns(["a", "b"], [1, 2], [4, -3], scale=SCALE)
    with pytest.raises(
        InputError,
        match=r"^row 1: second rating of the same item by the same user \(first at row 0\)",
    ):
        Ratings.from_columns(["a", "a"], [1, 1], [4, 3], scale=SCALE)
    with pytest.raises(InputError, match=r"^row 0: date in the future"):
        Ratings.from_columns(["a"], [1], [4], pd.to_datetime(["2999-01-01"]), scale=SCALE)


def test_from_columns_reads_datetimes_as_days():
    stamps = pd.to_datetime(["1997-04-08 10:01:20", "2005-01-01"], format="ISO8601")
    table = Ratings.from_columns(["a", "b"], [1, 2], [4, 3], stamps, scale=SCALE)
    assert sorted(table.frame["date"].to_numpy().astype("datetime64[D]").astype(int).tolist()) == [
        9959,
        12784,
    ]
    text = Ratings.from_columns(["a"], [1], [4], ["2005-01-01"], scale=SCALE)
    assert text.frame["date"].to_numpy().astype("datetime64[D]").astype(int).tolist() == [12784]


def test_two_dataframes_are_refused_with_what_to_call(original):
    """``LinkageAudit(df, df)`` failed with AttributeError: ... 'item_ids'."""
    with pytest.raises(
        TypeError, match=r"^original must be a Ratings table .*audits\.paired_tables"
    ):
        LinkageAudit(
            original, original, adversary=Adversary(known_items=2), rng=np.random.default_rng(0)
        )


def test_the_audits_risk_is_the_worst_case_the_report_and_gate_read(original):
    """``risk()`` returned Scoreboard-RH alone (0.920) where the report said 0.940."""
    released, mapping = pseudonymized(original)
    base, release = paired_tables(original, released, mapping=mapping, scale=SCALE)
    audit = LinkageAudit(
        base, release, adversary=Adversary(known_items=2), n_targets=60,
        rng=np.random.default_rng(3),
    ).evaluate()  # fmt: skip
    result = audit.results()
    worst = max(a.released.risk().value for a in result.attacks)
    assert audit.risk().value == worst == result.to_dict()["released"]["reidentified"]
