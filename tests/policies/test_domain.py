"""The declared public domain: the rows of every DP table come from the policy, never the data."""

import datetime as dt
import hashlib
import os
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import domain, load_policy, parse_policy
from policies.aggregates import compute_aggregates
from publisher.core.errors import PolicyError
from publisher.core.ratings import Ratings, Scale

ALL = (
    "[item_count, item_mean, item_histogram, rating_histogram, "
    "{ratings_per_period: {period: month}}]"
)
POLICY = """name: d
gate: none
aggregates:
  epsilon: EPS
  max_ratings_per_user: 1000
  statistics: STATS
  domain:
    items: {range: [1, 20]}
    dates: {from: 2000-01-01, to: 2000-12-31}
"""
KEYS = {  # the columns that name a row, per table
    "item_count": ["item"],
    "item_mean": ["item"],
    "item_histogram": ["item", "rating"],
    "rating_histogram": ["rating"],
    "ratings_per_period": ["period"],
}


def config(epsilon=1.0, stats=ALL):
    return parse_policy(POLICY.replace("EPS", str(epsilon)).replace("STATS", stats)).aggregates


def day(text):
    return (dt.date.fromisoformat(text) - dt.date(1970, 1, 1)).days


def table(rows):
    users, items, values, days = zip(*rows, strict=True)
    return Ratings.from_columns(
        list(users),
        list(items),
        list(values),
        np.array([day(d) for d in days]),
        scale=Scale(1, 5, 1),
    )


BASE_ROWS = [
    ("a", 1, 4, "2000-03-05"),
    ("a", 2, 5, "2000-03-06"),
    ("b", 1, 3, "2000-06-01"),
    ("b", 3, 2, "2000-07-01"),
    ("c", 2, 4, "2000-11-30"),
]
# The neighbour: one customer, the only rater of an item, on a far-off date.
NEIGHBOUR = [
    ("z", 17, 1, "2000-05-05"),  # in the domain, otherwise unrated
    ("z", 99, 5, "1999-01-15"),  # outside: item and date
    ("z", 4, 5, "2001-06-01"),  # outside: date
]


def outputs(ratings, epsilon, seed=0):
    return compute_aggregates(ratings, config(epsilon), np.random.default_rng(seed), seeded=True)


def test_neighbours_get_tables_with_identical_rows():
    d, d_prime = table(BASE_ROWS), table(BASE_ROWS + NEIGHBOUR)
    a, b = outputs(d, 1.0), outputs(d_prime, 1.0)
    assert set(a) == set(b) == set(KEYS)
    for name, keys in KEYS.items():
        pd.testing.assert_frame_equal(a[name][keys], b[name][keys])
    assert len(a["item_count"]) == 20  # the declared range, though the data has 3 items
    assert len(a["ratings_per_period"]) == 12  # the declared year, by month
    assert a["ratings_per_period"]["period"].iloc[0] == pd.Timestamp("2000-01-01")


def test_only_in_domain_ratings_of_the_neighbour_change_values():
    """At an epsilon so large that the noise rounds away, each table is the exact count:
    the neighbour adds exactly their one in-domain rating and nothing else."""
    a, b = outputs(table(BASE_ROWS), 1e9), outputs(table(BASE_ROWS + NEIGHBOUR), 1e9)
    diff = b["item_count"]["count"].to_numpy() - a["item_count"]["count"].to_numpy()
    assert diff.tolist() == [0] * 16 + [1] + [0] * 3
    assert a["item_count"]["count"].tolist()[:4] == [2, 2, 1, 0]
    periods = b["ratings_per_period"]["count"] - a["ratings_per_period"]["count"]
    assert periods.tolist() == [0, 0, 0, 0, 1] + [0] * 7  # May 2000 only
    hist = b["rating_histogram"]["count"] - a["rating_histogram"]["count"]
    assert hist.tolist() == [1, 0, 0, 0, 0]  # the 1 star; the two 5s are outside
    assert b["item_mean"]["mean"].iloc[16] == pytest.approx(1.0, abs=1e-3)  # Laplace, b = 4e-6


user_rows = st.lists(
    st.tuples(
        st.integers(0, 40),  # item (the domain is 1..20)
        st.integers(1, 5),
        st.integers(day("1999-06-01"), day("2001-06-01")),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda r: r[0],
)


@settings(max_examples=30, deadline=None)
@given(base=st.lists(user_rows, min_size=1, max_size=6), extra=user_rows, seed=st.integers(0, 99))
def test_any_added_customer_leaves_the_row_keys_unchanged(base, extra, seed):
    def build(customers):
        rows = [
            (f"u{k}", item, value, day) for k, c in enumerate(customers) for item, value, day in c
        ]
        users, items, values, days = zip(*rows, strict=True)
        return Ratings.from_columns(
            list(users), list(items), list(values), np.array(days), scale=Scale(1, 5, 1)
        )

    a, b = outputs(build(base), 1.0, seed), outputs(build([*base, extra]), 1.0, seed)
    for name, keys in KEYS.items():
        pd.testing.assert_frame_equal(a[name][keys], b[name][keys])


def test_catalogue_file_relative_to_the_policy_with_header_column(tmp_path):
    (tmp_path / "movies.csv").write_text('movieId,title\n7,Bond\n2,Two\n3,"Three, a title"\n')
    (tmp_path / "p.yaml").write_text(
        "name: c\ngate: none\naggregates:\n  epsilon: 1000\n  max_ratings_per_user: 10\n"
        "  statistics: [item_count]\n  domain: {items: {catalogue: movies.csv, column: movieId}}\n"
    )
    policy = load_policy(tmp_path / "p.yaml")
    domain = policy.aggregates.domain
    assert domain.items.ids.tolist() == [7, 2, 3]
    data = table([("a", 7, 4, "2000-01-01"), ("a", 5, 4, "2000-01-01"), ("b", 7, 1, "2000-01-02")])
    counts = compute_aggregates(data, policy.aggregates, np.random.default_rng(0), seeded=True)
    assert counts["item_count"]["item"].tolist() == [7, 2, 3]  # catalogue order
    assert counts["item_count"]["count"].tolist() == [2, 0, 0]  # 5 is not listed: dropped
    # The policy written into a bundle pins the catalogue by its SHA-256...
    pinned = policy.to_dict()["aggregates"]["domain"]["items"]
    old = hashlib.sha256((tmp_path / "movies.csv").read_bytes()).hexdigest()
    assert pinned == {"catalogue": "movies.csv", "column": "movieId", "sha256": old}
    # ...and refuses a changed catalogue when read back.
    (tmp_path / "movies.csv").write_text("movieId\n1\n")
    new = hashlib.sha256(b"movieId\n1\n").hexdigest()
    (tmp_path / "q.yaml").write_text(policy.to_yaml())
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "q.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'q.yaml'}: aggregates.domain.items.sha256: {tmp_path / 'movies.csv'} has "
        f"SHA-256 {new}, not the {old} the policy pins; the catalogue changed"
    )


def test_catalogue_of_one_id_per_line(tmp_path):
    (tmp_path / "ids.txt").write_text("10\n11\n\n12\n")
    text = (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        "domain: {items: {catalogue: ids.txt}}}"
    )
    assert parse_policy(text, base=tmp_path).aggregates.domain.items.ids.tolist() == [10, 11, 12]


RANGE = "must be [FIRST, LAST], two integers with FIRST <= LAST, got"
EITHER = (
    "give either 'range: [FIRST, LAST]' or 'catalogue: FILE' (the public list of items the "
    "tables cover)"
)


@pytest.mark.parametrize(
    ("domain", "files", "message"),
    [
        (
            "{}",
            {},
            "statistics[0]: item_count needs the items it lists declared under "
            "aggregates.domain.items ('range: [FIRST, LAST]' or 'catalogue: FILE'); items taken "
            "from the data would reveal who rated a rare item",
        ),
        ("{items: {range: [5, 1]}}", {}, f"domain.items.range: {RANGE} [5, 1]"),
        ("{items: {range: [1]}}", {}, f"domain.items.range: {RANGE} [1]"),
        ("{items: {range: 5}}", {}, f"domain.items.range: {RANGE} 5"),
        ("{items: {range: [true, 5]}}", {}, f"domain.items.range: {RANGE} [True, 5]"),
        ("{items: {range: [1, 9], catalogue: x}}", {}, f"domain.items: {EITHER}"),
        ("{items: {}}", {}, f"domain.items: {EITHER}"),
        ("{items: {range: [0, 9999999]}}", {}, "more than 2,000,000"),
        ("{items: {catalogue: none.csv}}", {}, "domain.items.catalogue: cannot read"),
        ("{items: {catalogue: c.csv}}", {"c.csv": "1\n2\n1\n"}, "item '1' is listed twice"),
        ("{items: {catalogue: c.csv, column: id}}", {"c.csv": "movieId\n1\n"}, "no column 'id'"),
        (
            "{items: {catalogue: c.csv, column: 5}}",
            {"c.csv": "movieId\n1\n"},
            "domain.items.column: must be a column name, got 5",
        ),
        ("{items: {catalogue: c.csv}}", {"c.csv": "\n\n"}, "lists no items"),
        (
            "{items: {catalogue: c.csv, column: movieId}}",
            {"c.csv": "movieId,title\n1,a\n2,b,c,d\n"},
            "c.csv): cannot parse (Error tokenizing data. C error: Expected 2 fields in line 3, saw 4)",
        ),
        ("5", {}, "domain: must be a mapping with items, dates and/or scale"),
        (
            "{items: {range: [1, 2]}, colour: red}",
            {},
            "domain: unknown key 'colour'; use items, dates, scale",
        ),
        (
            "{items: {range: [1, 2]}, scale: '5:1:1'}",
            {},
            "domain.scale: rating scale must have finite min <= max and step > 0, got 5.0:1.0:1.0",
        ),
    ],
)
def test_bad_domains_name_their_key(tmp_path, domain, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    text = (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        f"domain: {domain}}}"
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, base=tmp_path)
    if "catalogue: " in domain or "9999999" in domain:  # these name a path or a count
        assert message in str(caught.value)
    else:
        assert str(caught.value) == f"policy: aggregates.{message}"


def test_a_range_of_one_item_and_an_absolute_catalogue_path(tmp_path):
    one = parse_policy(
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        "domain: {items: {range: [7, 7]}}}"
    ).aggregates.domain.items
    assert one.ids.tolist() == [7]
    (tmp_path / "ids.txt").write_text("3\n4\n")
    elsewhere = tmp_path / "policies"
    elsewhere.mkdir()
    text = (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        f"domain: {{items: {{catalogue: {tmp_path / 'ids.txt'}}}}}}}"
    )
    # Issue 24.1: an absolute path could name any file (the key, /proc/self/environ)
    with pytest.raises(PolicyError, match="is an absolute path; a file a policy names must"):
        parse_policy(text, base=elsewhere)


def test_a_relative_catalogue_without_a_policy_folder_is_read_from_the_working_folder(
    tmp_path, monkeypatch
):
    (tmp_path / "ids.txt").write_text("5\n6\n")
    monkeypatch.chdir(tmp_path)
    text = (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        "domain: {items: {catalogue: ids.txt}}}"
    )
    assert parse_policy(text).aggregates.domain.items.ids.tolist() == [5, 6]


DAY = "must be a date YYYY-MM-DD from 1900 on, got"


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (
            None,
            "statistics[0]: ratings_per_period needs its date range declared under "
            "aggregates.domain.dates ('{from: YYYY-MM-DD, to: YYYY-MM-DD}'); a range taken from "
            "the data would reveal the earliest and latest rating",
        ),
        ("{from: 2001-01-01, to: 2000-01-01}", "domain.dates: from must not be after to"),
        ("{from: 2000-01-01}", "domain.dates: must be {from: YYYY-MM-DD, to: YYYY-MM-DD}"),
        ("{from: yesterday, to: 2000-01-01}", f"domain.dates.from: {DAY} 'yesterday'"),
        ("{from: 2000-01-01, to: tomorrow}", f"domain.dates.to: {DAY} 'tomorrow'"),
        ("{from: 5, to: 2000-01-01}", f"domain.dates.from: {DAY} 5"),
        ("{from: 1899-12-31, to: 2000-01-01}", f"domain.dates.from: {DAY} 1899-12-31"),
        ("{from: 1900-01-01, to: 2100-12-31}", "domain.dates: spans more than 200 years"),
    ],
)
def test_bad_date_domains(dates, message):
    domain = "" if dates is None else f", domain: {{dates: {dates}}}"
    text = (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, "
        f"statistics: [ratings_per_period]{domain}}}"
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert str(caught.value) == f"policy: aggregates.{message}"


@pytest.mark.parametrize(
    ("dates", "first", "last"),
    [
        ("{from: 2000-01-01, to: 2000-01-01}", 10957, 10957),  # one day
        ("{from: 1900-01-01, to: 2099-12-31}", -25567, 47481),  # the longest span allowed
        ("{from: 2000-01-01T10:00:00, to: '2000-02-01'}", 10957, 10988),  # time and text
    ],
)
def test_date_domain_limits_are_inclusive(dates, first, last):
    text = (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, "
        f"statistics: [ratings_per_period], domain: {{dates: {dates}}}}}"
    )
    got = parse_policy(text).aggregates.domain.dates
    assert (got.first, got.last) == (first, last)


def test_periods_cover_the_last_day_of_the_domain():
    text = (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, "
        "statistics: [ratings_per_period], domain: {dates: {from: 2000-01-01, to: 2000-02-01}}}"
    )
    dates = parse_policy(text).aggregates.domain.dates
    assert dates.periods("month").tolist() == [10957, 10988]  # January and the 1st of February
    assert len(dates.periods("day")) == 32


def test_an_inferred_scale_is_refused_and_a_declared_one_filters():
    agg = parse_policy(
        "name: s\ngate: none\naggregates: {epsilon: 1000, max_ratings_per_user: 9, "
        "statistics: [rating_histogram]}"
    ).aggregates
    inferred = table(BASE_ROWS).with_frame(table(BASE_ROWS).frame, scale_inferred=True)
    with pytest.raises(
        PolicyError, match=r"aggregates\.domain\.scale: the rating scale 1:5:1 was inferred"
    ):
        compute_aggregates(inferred, agg, np.random.default_rng(0), seeded=True)
    declared = parse_policy(
        "name: s\ngate: none\naggregates: {epsilon: 1000, max_ratings_per_user: 9, "
        "statistics: [rating_histogram], domain: {scale: '2:4:1'}}"
    ).aggregates
    hist = compute_aggregates(inferred, declared, np.random.default_rng(0), seeded=True)
    frame = hist["rating_histogram"]
    # rows are the declared values; the 5s are off the declared scale and not counted
    assert frame["rating"].tolist() == [2, 3, 4]
    assert frame["count"].tolist() == [1, 1, 2]


def test_domains_describe_their_rule_exactly(tmp_path):
    (tmp_path / "ids.txt").write_text("7\n8\n9\n")
    domain = parse_policy(
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        "domain: {items: {catalogue: ids.txt}, dates: {from: 1999-12-31, to: 2000-01-02}, "
        "scale: '1:10:1'}}",
        base=tmp_path,
    ).aggregates.domain
    assert domain.describe(Scale(1, 5, 1)) == (
        "The tables list exactly the declared domain, whatever the data holds: the 3 items of "
        "the catalogue ids.txt; dates 1999-12-31 to 2000-01-02; ratings on the scale 1:10:1. "
        "Ratings outside it are not counted."
    )
    assert domain.dates.iso() == ("1999-12-31", "2000-01-02")
    assert domain.to_dict() == {
        "items": {"catalogue": "ids.txt", "sha256": domain.items.spec["sha256"]},
        "dates": {"from": "1999-12-31", "to": "2000-01-02"},
        "scale": "1:10:1",
    }
    ranged = parse_policy(
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        "domain: {items: {range: [5, 1004]}}}"
    ).aggregates.domain
    assert ranged.describe(Scale(0.5, 5, 0.5)) == (
        "The tables list exactly the declared domain, whatever the data holds: items with ids "
        "5 to 1004 (1,000 rows); ratings on the scale 0.5:5:0.5. Ratings outside it are not "
        "counted."
    )


def catalogue_policy(name, column=None):
    column_key = f", column: {column}" if column else ""
    return (
        "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        f"domain: {{items: {{catalogue: {name}{column_key}}}}}}}"
    )


def test_catalogue_limits_are_exact(tmp_path, monkeypatch):
    from policies import domain

    monkeypatch.setattr(domain, "MAX_CATALOGUE_BYTES", 8)
    monkeypatch.setattr(domain, "MAX_ITEMS", 3)
    (tmp_path / "ok.txt").write_text("1\n2\n3\n")  # 6 bytes, 3 items
    assert parse_policy(
        catalogue_policy("ok.txt"), base=tmp_path
    ).aggregates.domain.items.ids.tolist() == [1, 2, 3]
    (tmp_path / "full.txt").write_text("1\n2\n333\n")  # 8 bytes exactly
    parse_policy(catalogue_policy("full.txt"), base=tmp_path)
    (tmp_path / "big.txt").write_text("1\n2\n3333\n")  # 9 bytes
    with pytest.raises(PolicyError) as caught:
        parse_policy(catalogue_policy("big.txt"), base=tmp_path)
    assert str(caught.value) == (
        f"policy: aggregates.domain.items.catalogue: {tmp_path / 'big.txt'} is larger than 8 bytes"
    )
    (tmp_path / "many.txt").write_text("1\n2\n3\n4\n")
    with pytest.raises(PolicyError) as caught:
        parse_policy(catalogue_policy("many.txt"), base=tmp_path)
    assert str(caught.value) == (
        f"policy: aggregates.domain.items.catalogue ({tmp_path / 'many.txt'}): more than 3 items"
    )


@pytest.mark.parametrize(
    ("files", "name", "column", "message"),
    [
        ({}, "folder", None, "{path} is a folder, not a file"),
        ({}, "none.csv", None, "cannot read {path} (no such file)"),
        ({"c.csv": b"\xff\xfe1\n"}, "c.csv", None, "({path}): not valid UTF-8"),
        (
            {"c.csv": b"movieId,title\n1,A\n,B\n"},
            "c.csv",
            "movieId",
            "({path}): lists no items, or an empty id",
        ),
        (
            {"c.csv": b"movieId,title\n1,A\n"},
            "c.csv",
            "id",
            "({path}): no column 'id'; columns: movieId, title",
        ),
    ],
    ids=["folder", "missing", "not-utf8", "empty-cell", "no-column"],
)
def test_catalogue_errors_are_exact(tmp_path, files, name, column, message):
    (tmp_path / "folder").mkdir()
    for file, data in files.items():
        (tmp_path / file).write_bytes(data)
    with pytest.raises(PolicyError) as caught:
        parse_policy(catalogue_policy(name, column), base=tmp_path)
    where = "policy: aggregates.domain.items.catalogue"
    expected = message.format(path=tmp_path / name)
    assert str(caught.value) == (
        f"{where} {expected}" if expected.startswith("(") else f"{where}: {expected}"
    )


def test_both_ends_of_the_date_range_are_counted():
    rows = [("a", 1, 4, "2000-01-01"), ("b", 1, 4, "2000-12-31"), ("c", 1, 4, "2001-01-01")]
    tables = outputs(table(rows), 1e9)
    assert tables["item_count"]["count"].iloc[0] == 2  # the first and the last day, not after
    assert tables["ratings_per_period"]["count"].tolist() == [1] + [0] * 10 + [1]
    assert list(tables["item_histogram"].columns) == ["item", "rating", "count"]
    assert list(tables["ratings_per_period"].columns) == ["period", "count"]


def test_noisy_means_are_clipped_to_the_scale_at_both_ends():
    config = parse_policy(
        "name: m\ngate: none\naggregates: {epsilon: 0.01, max_ratings_per_user: 5, statistics: [item_mean], "
        "domain: {items: {range: [1, 20]}}}"
    ).aggregates
    rows = [(f"u{k}", item, 3, "2000-01-01") for k in range(3) for item in range(1, 21)]
    means = compute_aggregates(table(rows), config, np.random.default_rng(1), seeded=True)
    values = means["item_mean"]["mean"].dropna()
    assert values.between(1, 5).all()
    # at epsilon 0.01 the noise dwarfs three ratings: both bounds are reached
    assert (values == 1).any()
    assert (values == 5).any()


def test_the_date_span_limit_is_exact():
    from policies.domain import MAX_DAYS

    first = dt.date(1950, 1, 1)
    for days, ok in ((MAX_DAYS, True), (MAX_DAYS + 1, False)):
        last = first + dt.timedelta(days=days)
        text = (
            "name: c\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, "
            f"statistics: [ratings_per_period], domain: {{dates: {{from: {first}, to: {last}}}}}}}"
        )
        if ok:
            got = parse_policy(text).aggregates.domain.dates
            assert got.last - got.first == MAX_DAYS
        else:
            with pytest.raises(PolicyError, match="spans more than 200 years"):
                parse_policy(text)


@pytest.mark.parametrize(
    ("name", "setup", "message"),
    [
        ("../outside.txt", None, "leads outside the policy's folder"),
        ("link.txt", "symlink-out", "leads outside the policy's folder"),
        ("/proc/self/environ", None, "is an absolute path"),
        ("../../../../../../../proc/self/environ", None, "leads outside the policy's folder"),
        ("fifo", "fifo", "is not a regular file"),
        ("bad.txt", "control", "is not an item id (ids are printable, at most 64 characters)"),
        ("long.txt", "long", "is not an item id"),
    ],
    ids=["dotdot", "symlink-out", "absolute-proc", "dotdot-proc", "fifo", "control", "long"],
)
def test_a_catalogue_must_be_a_file_of_ids_inside_the_policy_folder(tmp_path, name, setup, message):
    # Issue 24.1: every line of a catalogue becomes a row of a public table.
    folder = tmp_path / "policy"
    folder.mkdir()
    (tmp_path / "outside.txt").write_text("1\n2\n")
    if setup == "symlink-out":
        (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    elif setup == "fifo":
        os.mkfifo(folder / "fifo")
    elif setup == "control":
        (folder / "bad.txt").write_text("1\n2\x1b[31m\n")
    elif setup == "long":
        (folder / "long.txt").write_text("1\n" + "9" * 65 + "\n")
    with pytest.raises(PolicyError, match=re.escape(message)):
        parse_policy(catalogue_policy(name), base=folder)


def test_a_link_inside_the_policy_folder_is_followed(tmp_path):
    (tmp_path / "real.txt").write_text("3\n4\n")
    (tmp_path / "alias.txt").symlink_to("real.txt")
    policy = parse_policy(catalogue_policy("alias.txt"), base=tmp_path)
    assert policy.aggregates.domain.items.ids.tolist() == [3, 4]


def test_a_catalogue_larger_than_the_cap_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(domain, "MAX_CATALOGUE_BYTES", 10)
    (tmp_path / "big.txt").write_text("1\n2\n3\n4\n5\n6\n")
    with pytest.raises(PolicyError, match=r"big\.txt is larger than 10 bytes$"):
        parse_policy(catalogue_policy("big.txt"), base=tmp_path)


def test_the_key_check_finds_the_key_by_content_and_by_identity(tmp_path):
    from policies.files import check_not_key

    key = b"0123456789abcdef-secret"
    (tmp_path / "ids.txt").write_bytes(b"1\n2\n")
    (tmp_path / "leak.txt").write_bytes(b"1\n" + key + b"\n")
    (tmp_path / "split.txt").write_bytes(b"first-half-of\n2\nsecond-half-0\n")
    ok = parse_policy(catalogue_policy("ids.txt"), base=tmp_path).files()
    check_not_key(ok, key, None)
    check_not_key(ok, None, None)
    for name in ("leak.txt", "split.txt"):
        files = parse_policy(catalogue_policy(name), base=tmp_path).files()
        with pytest.raises(PolicyError, match="holds the organizer's key"):
            check_not_key(
                files, key if name == "leak.txt" else b"first-half-of\nsecond-half-0", None
            )
    (tmp_path / "key").write_bytes(b"x" * 20)
    with pytest.raises(PolicyError, match="holds the organizer's key"):
        check_not_key(ok, b"not-in-the-catalogue", tmp_path / "ids.txt")


def test_a_catalogue_id_with_a_leading_zero_is_not_the_integer_id():
    # Issue 24.9: "007" and 7 are distinct ids; merging them would count item 7's ratings
    # under a catalogue row that names another item.
    from policies.domain import ItemDomain

    domain = ItemDomain(ids=np.array(["007", "7", "x"], dtype=object), spec={})
    assert domain.positions(np.array([7, 8])).tolist() == [1, -1]
    assert domain.positions(np.array(["007", "7"], dtype=object)).tolist() == [0, 1]
