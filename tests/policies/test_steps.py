import datetime as dt
import hashlib
import hmac
import math

import numpy as np
import pandas as pd
import pytest

from policies.noise import randomized_response
from policies.steps import (
    STEPS,
    CapUserRatings,
    CoarsenDates,
    DeleteRatings,
    DropDates,
    DropRareItems,
    DropSparseUsers,
    InsertRatings,
    JitterDates,
    PerturbRatings,
    PseudonymizeUsers,
    RedateRatings,
    SampleUsers,
)
from publisher.core.ratings import Ratings, Scale
from publisher.core.validation import ParameterError, ParameterTypeError

KEY = b"k" * 32


def users_of(ratings):
    return sorted(ratings.user_ids[np.unique(ratings.frame["user"])].tolist())


def test_pseudonymize_is_hmac_sha256_truncated(tiny, rng):
    out = PseudonymizeUsers(key=KEY).transform(tiny, rng)
    expected = hmac.new(KEY, b"a", hashlib.sha256).hexdigest()[:16]
    assert out.user_ids[0] == expected
    assert out.pseudonymized
    assert not tiny.pseudonymized
    assert out.frame.equals(tiny.frame)


def test_pseudonyms_stable_per_key_and_unlinkable_across_keys(tiny, rng):
    first = PseudonymizeUsers(key=KEY).transform(tiny, rng).user_ids
    again = PseudonymizeUsers(key=KEY).transform(tiny, np.random.default_rng(9)).user_ids
    other = PseudonymizeUsers(key=b"o" * 32).transform(tiny, rng).user_ids
    assert first.tolist() == again.tolist()
    assert not set(first) & set(other)


def test_pseudonymize_key_never_in_repr_or_config():
    step = PseudonymizeUsers(key=KEY, digest_chars=20)
    assert repr(step) == "PseudonymizeUsers(digest_chars=20, linkable=False, total_epsilon=None)"
    assert step.to_config() == {"digest_chars": 20, "linkable": False, "total_epsilon": None}


def test_drop_rare_items(tiny, rng):
    # item counts: 1 -> 4 raters, 2 -> 2, 3 -> 2, 4 -> 2
    assert DropRareItems(min_raters=2).transform(tiny, rng).n_ratings == 10
    kept = DropRareItems(min_raters=3).transform(tiny, rng)
    assert kept.item_ids[np.unique(kept.frame["item"])].tolist() == [1]
    assert kept.n_ratings == 4


def test_drop_sparse_users(tiny, rng):
    # a: 3 ratings, b: 2, c: 3, d: 1, e: 1
    kept = DropSparseUsers(min_ratings=2).transform(tiny, rng)
    assert users_of(kept) == ["a", "b", "c"]
    assert kept.n_ratings == 8


def test_cap_user_ratings_keeps_random_subset(tiny):
    capped = CapUserRatings(max_ratings=2).transform(tiny, np.random.default_rng(1))
    assert capped.frame.groupby("user").size().max() == 2
    assert capped.n_ratings == 8  # a 3->2, b 2, c 3->2, d 1, e 1
    merged = capped.frame.merge(tiny.frame, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()
    other = CapUserRatings(max_ratings=2).transform(tiny, np.random.default_rng(2))
    seeds = [
        CapUserRatings(max_ratings=1).transform(tiny, np.random.default_rng(s)).frame
        for s in range(10)
    ]
    assert len({tuple(f["item"]) for f in seeds}) > 1  # different seeds pick differently
    assert other.n_ratings == 8


def test_sample_users(tiny, rng):
    sampled = SampleUsers(fraction=0.4).transform(tiny, rng)
    assert len(users_of(sampled)) == 2
    full = SampleUsers(fraction=1.0).transform(tiny, rng)
    assert full.n_ratings == tiny.n_ratings


@pytest.mark.parametrize(
    "step",
    [
        SampleUsers(fraction=0.5),
        DropRareItems(min_raters=2),
        DropSparseUsers(min_ratings=2),
        CapUserRatings(max_ratings=1),
        CoarsenDates(to="year"),
        JitterDates(max_days=3),
        RedateRatings(fraction=0.5, max_days=3),
        DeleteRatings(fraction=0.5),
        PerturbRatings(epsilon=1.0),
        DropDates(),
        InsertRatings(fraction=0.1),
    ],
    ids=lambda step: step.name,
)
def test_a_step_after_one_that_left_no_ratings_leaves_none(tiny, rng, step):
    """A strong candidate of the tuner (items with 400 raters, then a sample) may reach a
    step with an empty table: nothing to do, and no error (sample_users raised)."""
    empty = tiny.with_frame(tiny.frame.iloc[:0])
    assert step.transform(empty, rng).n_ratings == 0


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("week", "2005-08-01"),
        ("month", "2005-08-01"),
        ("quarter", "2005-07-01"),
        ("year", "2005-01-01"),
    ],
)
def test_coarsen_dates(tiny, rng, to, expected):
    # day 13000 is Friday 2005-08-05
    assert dt.date(1970, 1, 1) + dt.timedelta(days=13000) == dt.date(2005, 8, 5)
    out = CoarsenDates(to=to).transform(tiny, rng)
    first = dt.date(1970, 1, 1) + dt.timedelta(days=int(out.frame["date"].iloc[0]))
    assert first.isoformat() == expected
    assert out.frame["date"].dtype == np.int32


def test_coarsen_week_is_always_a_monday(tiny, rng):
    days = np.arange(12000, 12100)
    table = Ratings.from_columns(np.arange(100), np.zeros(100), np.ones(100), days)
    out = CoarsenDates(to="week").transform(table, rng).frame["date"].to_numpy()
    weekdays = {(dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).weekday() for d in out}
    assert weekdays == {0}
    assert ((days - out) >= 0).all()
    assert ((days - out) < 7).all()


def test_drop_dates(tiny, rng):
    out = DropDates().transform(tiny, rng)
    assert not out.has_dates
    assert tiny.has_dates


def test_jitter_dates_bounds_and_identity(tiny, rng):
    assert JitterDates(max_days=0).transform(tiny, rng).frame.equals(tiny.frame)
    big = Ratings.from_columns(np.arange(5000), np.zeros(5000), np.ones(5000), np.full(5000, 13000))
    shifted = JitterDates(max_days=3).transform(big, rng).frame["date"].to_numpy() - 13000
    assert sorted(set(shifted.tolist())) == [-3, -2, -1, 0, 1, 2, 3]


def test_jitter_moves_a_customers_day_as_one_and_days_independently():
    # 300 customers, each with 5 ratings on day 100 and 5 on day 101
    users = np.repeat(np.arange(300), 10)
    items = np.tile(np.arange(10), 300)
    days = np.tile(np.repeat([100, 101], 5), 300)
    table = Ratings.from_columns(users, items, np.full(3000, 3.0), days, scale=Scale(1, 5, 1))
    out = JitterDates(max_days=30).transform(table, np.random.default_rng(0)).frame
    moved = (out["date"].to_numpy() - days).reshape(300, 2, 5)
    assert (moved == moved[:, :, :1]).all()  # one shift per customer and day
    first, second = moved[:, 0, 0], moved[:, 1, 0]
    assert (first != second).mean() > 0.9  # independent: equal with probability 1/61
    # Averaging a customer's ratings of a day gives back the shifted day, not the truth:
    # within a day of the truth for about 3/61 (4.9%) of customer-days. 600 customer-days:
    # standard error 0.9 points; bound at 4 of them.
    assert (np.abs(moved[:, :, 0]) <= 1).mean() < 0.049 + 0.036
    assert set(np.unique(moved).tolist()) == set(range(-30, 31))


def test_redate_ratings_moves_exactly_the_fraction(tiny, rng):
    out = RedateRatings(fraction=0.5, max_days=2).transform(tiny, rng)
    moved = out.frame["date"].to_numpy() - tiny.frame["date"].to_numpy()
    assert (moved != 0).sum() == 5
    assert set(np.abs(moved[moved != 0]).tolist()) <= {1, 2}


def test_delete_ratings(tiny, rng):
    out = DeleteRatings(fraction=0.2).transform(tiny, rng)
    assert out.n_ratings == 8


def test_insert_ratings_are_plausible(tiny):
    out = InsertRatings(fraction=0.3).transform(tiny, np.random.default_rng(3))
    assert out.n_ratings == 13
    frame = out.frame
    assert not frame.duplicated(["user", "item"]).any()
    added = frame.iloc[10:]
    original = tiny.frame
    for row in added.itertuples():
        item_ratings = original.loc[original["item"] == row.item]
        # the rating of a real rating of the item, given on or before the decoy's day
        assert row.rating in set(item_ratings.loc[item_ratings["date"] <= row.date, "rating"])
        # a day the customer really rated on: inside their window, never alone
        assert row.date in set(original.loc[original["user"] == row.user, "date"])
        assert item_ratings["date"].min() <= row.date


def test_perturb_ratings_high_epsilon_is_identity(tiny, rng):
    out = PerturbRatings(epsilon=50.0).transform(tiny, rng)
    assert out.frame["rating"].tolist() == tiny.frame["rating"].tolist()


def test_perturb_ratings_keep_rate_matches_formula():
    n = 200_000
    table = Ratings.from_columns(np.arange(n), np.zeros(n), np.full(n, 3.0), scale=Scale(1, 5, 1))
    out = PerturbRatings(epsilon=1.0).transform(table, np.random.default_rng(7))
    kept = (out.frame["rating"] == 3.0).mean()
    expected = math.e / (math.e + 4)  # 0.4046, written out: not the code's own function
    # binomial standard error is 0.0011; 5 sigma
    assert abs(kept - expected) < 0.0055
    others = out.frame.loc[out.frame["rating"] != 3.0, "rating"].value_counts(normalize=True)
    assert sorted(others.index.tolist()) == [1.0, 2.0, 4.0, 5.0]
    assert (abs(others - 0.25) < 0.01).all()


def test_perturb_ratings_half_star_scale_stays_on_scale():
    n = 1000
    table = Ratings.from_columns(
        np.arange(n), np.zeros(n), np.full(n, 0.5), scale=Scale(0.5, 5, 0.5)
    )
    out = PerturbRatings(epsilon=0.1).transform(table, np.random.default_rng(0))
    assert table.scale.on_scale(out.frame["rating"].to_numpy()).all()


@pytest.mark.parametrize("name", sorted(STEPS))
def test_same_seed_same_output_and_input_untouched(tiny, name):
    step = {
        "pseudonymize_users": PseudonymizeUsers(key=KEY),
        "drop_rare_items": DropRareItems(min_raters=3),
        "drop_sparse_users": DropSparseUsers(min_ratings=2),
        "cap_user_ratings": CapUserRatings(max_ratings=1),
        "sample_users": SampleUsers(fraction=0.5),
        "coarsen_dates": CoarsenDates(to="month"),
        "drop_dates": DropDates(),
        "jitter_dates": JitterDates(max_days=5),
        "perturb_ratings": PerturbRatings(epsilon=0.5),
        "delete_ratings": DeleteRatings(fraction=0.3),
        "insert_ratings": InsertRatings(fraction=0.3),
        "redate_ratings": RedateRatings(fraction=0.5, max_days=3),
    }[name]
    before = tiny.frame.copy(deep=True)
    first = step.transform(tiny, np.random.default_rng(5))
    second = step.transform(tiny, np.random.default_rng(5))
    pd.testing.assert_frame_equal(first.frame, second.frame)
    pd.testing.assert_frame_equal(tiny.frame, before)
    if not step.changes_rows:
        assert first.n_ratings == tiny.n_ratings


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: PerturbRatings(epsilon=-1),
            ParameterError,
            "The 'epsilon' parameter of PerturbRatings must be a number > 0. Got -1 instead.",
        ),
        (
            lambda: PerturbRatings(epsilon="2"),
            ParameterTypeError,
            "The 'epsilon' parameter of PerturbRatings must be a number > 0. Got '2' instead.",
        ),
        (
            lambda: PerturbRatings(epsilon=1, method="laplace"),
            ParameterError,
            "The 'method' parameter of PerturbRatings must be one of randomized_response. "
            "Got 'laplace' instead.",
        ),
        (
            lambda: JitterDates(max_days=1.5),
            ParameterTypeError,
            "The 'max_days' parameter of JitterDates must be an integer in [0, 3,653]. Got 1.5 instead.",
        ),
        (
            lambda: SampleUsers(fraction=0),
            ParameterError,
            "The 'fraction' parameter of SampleUsers must be a number in (0, 1]. Got 0 instead.",
        ),
        (
            lambda: DeleteRatings(fraction=1),
            ParameterError,
            "The 'fraction' parameter of DeleteRatings must be a number in [0, 1). Got 1 instead.",
        ),
        (
            lambda: CapUserRatings(max_ratings=True),
            ParameterTypeError,
            "The 'max_ratings' parameter of CapUserRatings must be an integer >= 1. Got True instead.",
        ),
        (
            lambda: CoarsenDates(to="decade"),
            ParameterError,
            "The 'to' parameter of CoarsenDates must be one of week, month, quarter, year. "
            "Got 'decade' instead.",
        ),
        (
            lambda: PseudonymizeUsers(digest_chars=8),
            ParameterError,
            "The 'digest_chars' parameter of PseudonymizeUsers must be an integer in [16, 64]. "
            "Got 8 instead.",
        ),
    ],
)
def test_step_validation_messages(build, error, message):
    with pytest.raises(error) as caught:
        build()
    assert str(caught.value) == message
    assert isinstance(caught.value, TypeError if error is ParameterTypeError else ValueError)


def test_randomized_response_chunks_do_not_change_the_draws(monkeypatch):
    # Chunks only bound the temporaries of the uniform draws.
    from policies import noise
    from publisher.core.ratings import row_chunks

    values = np.random.default_rng(0).integers(0, 5, 100_000).astype(np.int8)
    whole = randomized_response(values, 5, 1.0, np.random.default_rng(1))
    monkeypatch.setattr(noise, "row_chunks", lambda n: row_chunks(n, size=7_000))
    chunked = randomized_response(values, 5, 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(whole, chunked)
    assert whole.dtype == values.dtype
    assert 0 < np.mean(whole != values) < 1


def test_insert_ratings_contract_on_a_larger_table(caplog):
    """round(fraction * n) new pairs, none rated before, users by activity and items by
    popularity, values from the item's own ratings, dates in the user's window."""
    rng = np.random.default_rng(11)
    n_users, n_items = 120, 60
    activity = rng.integers(2, 40, size=n_users)
    rows = {}
    for user, count in enumerate(activity):
        for item in rng.choice(n_items, size=count, replace=False, p=np.arange(1, 61) / 1830):
            rows[(user, int(item))] = (int(rng.integers(1, 6)), int(rng.integers(12000, 12400)))
    keys = list(rows)
    table = Ratings.from_columns(
        [f"u{u:03d}" for u, _ in keys],
        [i for _, i in keys],
        [rows[k][0] for k in keys],
        np.array([rows[k][1] for k in keys]),
        scale=Scale(1, 5, 1),
    )
    n = table.n_ratings
    out = InsertRatings(fraction=0.2).transform(table, np.random.default_rng(5))
    assert out.n_ratings == n + round(0.2 * n)
    assert out.frame.dtypes.to_dict() == table.frame.dtypes.to_dict()
    original, added = table.frame, out.frame.iloc[n:]
    pairs = set(zip(original["user"], original["item"], strict=True))
    new_pairs = list(zip(added["user"], added["item"], strict=True))
    assert not set(new_pairs) & pairs
    assert len(set(new_pairs)) == len(new_pairs)
    by_item = original.groupby("item")
    by_user = original.groupby("user")["date"]
    for row in added.itertuples():
        assert row.rating in set(by_item.get_group(row.item)["rating"])
        low = max(by_user.min()[row.user], by_item["date"].min()[row.item])
        high = max(by_user.max()[row.user], by_item["date"].min()[row.item])
        assert low <= row.date <= high
    # dates spread over the window, not piled on its first day
    first_day = by_user.min()[added["user"]].to_numpy()
    last_day = by_user.max()[added["user"]].to_numpy()
    on_first_day = (added["date"].to_numpy() == first_day).mean()
    assert on_first_day < 0.2
    # each decoy draws its own position in its window
    position = (added["date"].to_numpy() - first_day) / np.maximum(last_day - first_day, 1)
    assert len(np.unique(np.round(position, 2))) > 20
    # decoys follow activity and popularity: heavy raters and popular items get more
    per_user = added["user"].value_counts().reindex(range(n_users), fill_value=0)
    per_item = added["item"].value_counts().reindex(range(n_items), fill_value=0)
    users_activity = original["user"].value_counts().reindex(range(n_users), fill_value=0)
    items_popularity = original["item"].value_counts().reindex(range(n_items), fill_value=0)
    # (less than in proportion: a heavy rater's redrawn collisions are more frequent)
    # Seeded: 1.48 for users and 1.26 for items; uniform draws give about 1, with a
    # standard deviation of about 0.1 on ~500 decoys.
    for decoys, weight in ((per_user, users_activity), (per_item, items_popularity)):
        heavy = weight >= weight.median()
        assert decoys[heavy].sum() / decoys[~heavy].sum() > 1.2


def test_insert_ratings_into_a_full_table_adds_nothing_and_says_so(caplog):
    users = np.repeat(np.arange(4), 3)
    items = np.tile(np.arange(3), 4)
    table = Ratings.from_columns(users, items, np.full(12, 3.0), scale=Scale(1, 5, 1))
    with caplog.at_level("WARNING"):
        out = InsertRatings(fraction=0.5).transform(table, np.random.default_rng(0))
    assert out.n_ratings == 12
    assert [r.getMessage() for r in caplog.records] == [
        "insert_ratings: table too dense, inserted 0 of 6"
    ]


def test_delete_ratings_deletes_exactly_the_stated_number():
    n = 1000
    table = Ratings.from_columns(
        np.arange(n), np.zeros(n, int), np.full(n, 3.0), scale=Scale(1, 5, 1)
    )
    out = DeleteRatings(fraction=0.6).transform(table, np.random.default_rng(1))
    assert out.n_ratings == 400  # drawn without replacement: 600 distinct rows go
    assert set(out.frame["user"]) < set(table.frame["user"])


@pytest.mark.parametrize(
    "step",
    [JitterDates(max_days=2), RedateRatings(fraction=0.5, max_days=2)],
    ids=["jitter", "redate"],
)
def test_date_noise_keeps_int32_days_and_moves_by_at_most_max_days(tiny, step):
    out = step.transform(tiny, np.random.default_rng(4))
    assert out.frame["date"].dtype == np.int32
    moved = out.frame["date"].to_numpy().astype(int) - tiny.frame["date"].to_numpy()
    assert np.abs(moved).max() <= 2
    if isinstance(step, RedateRatings):
        assert (moved != 0).sum() == 5  # half of the ten ratings, each by 1 or 2 days
    many = Ratings.from_columns(
        np.arange(400), np.zeros(400, int), np.full(400, 3.0), np.full(400, 12000),
        scale=Scale(1, 5, 1),
    )  # fmt: skip
    offsets = step.transform(many, np.random.default_rng(4)).frame["date"].to_numpy() - 12000
    # each rating draws its own offset
    if isinstance(step, RedateRatings):
        assert set(offsets[offsets != 0].tolist()) == {-2, -1, 1, 2}
    else:
        assert set(offsets.tolist()) == {-2, -1, 0, 1, 2}


@pytest.mark.parametrize(
    "step",
    [
        CoarsenDates(to="month"),
        JitterDates(max_days=3),
        RedateRatings(fraction=0.5, max_days=3),
        DropDates(),
    ],
)
def test_date_steps_on_data_without_dates_do_nothing_and_say_so(step, caplog):
    table = Ratings.from_columns(["a", "b"], [1, 2], [3, 4], scale=Scale(1, 5, 1))
    with caplog.at_level("WARNING"):
        out = step.transform(table, np.random.default_rng(0))
    pd.testing.assert_frame_equal(out.frame, table.frame)
    assert out.frame is not table.frame  # a copy: steps never share their input's frame
    if not isinstance(step, DropDates):
        assert [r.getMessage() for r in caplog.records] == [
            f"{step.name}: the data has no dates; nothing to do"
        ]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: RedateRatings(fraction=1.5, max_days=2),
            "The 'fraction' parameter of RedateRatings must be a number in [0, 1]. Got 1.5 instead.",
        ),
        (
            lambda: RedateRatings(fraction=0.1, max_days=0),
            "The 'max_days' parameter of RedateRatings must be an integer in [1, 3,653]. Got 0 instead.",
        ),
        (
            lambda: InsertRatings(fraction=-0.1),
            "The 'fraction' parameter of InsertRatings must be a number in [0, 1]. Got -0.1 instead.",
        ),
        (
            lambda: DropSparseUsers(min_ratings=0),
            "The 'min_ratings' parameter of DropSparseUsers must be an integer >= 1. Got 0 instead.",
        ),
        (
            lambda: DropRareItems(min_raters=0),
            "The 'min_raters' parameter of DropRareItems must be an integer >= 1. Got 0 instead.",
        ),
        (
            lambda: CapUserRatings(max_ratings=0),
            "The 'max_ratings' parameter of CapUserRatings must be an integer >= 1. Got 0 instead.",
        ),
        (
            lambda: JitterDates(max_days=-1),
            "The 'max_days' parameter of JitterDates must be an integer in [0, 3,653]. Got -1 instead.",
        ),
        (
            lambda: CoarsenDates(to="decade"),
            "The 'to' parameter of CoarsenDates must be one of week, month, quarter, year. Got 'decade' instead.",
        ),
    ],
)
def test_every_step_names_itself_and_the_parameter_it_refuses(build, message):
    with pytest.raises(ParameterError) as caught:
        build()
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("step", "text"),
    [
        (
            PseudonymizeUsers(),
            "user ids replaced by keyed HMAC-SHA256 pseudonyms of this release alone (the key is not published; another release of the same customers gets other pseudonyms)",
        ),
        (DropRareItems(min_raters=20), "ratings of items with fewer than 20 raters removed"),
        (DropSparseUsers(min_ratings=5), "users with fewer than 5 ratings removed"),
        (CapUserRatings(max_ratings=300), "at most 300 ratings kept per user, chosen at random"),
        (SampleUsers(fraction=0.5), "a random 50% of the users kept"),
        (CoarsenDates(to="quarter"), "dates rounded down to the first day of the quarter"),
        (DropDates(), "dates removed"),
        (
            JitterDates(max_days=30),
            "each customer's day of ratings moved by one random 0 to 30 days either way",
        ),
        (
            PerturbRatings(epsilon=0.5),
            "ratings replaced by randomized response (epsilon 0.5 per rating)",
        ),
        (DeleteRatings(fraction=0.01), "1.0% of the ratings deleted at random"),
        (InsertRatings(fraction=0.015), "decoy ratings added (1.5% of the table)"),
        (RedateRatings(fraction=0.01, max_days=7), "1.0% of the ratings moved by 1 to 7 days"),
    ],
)
def test_every_step_describes_itself(step, text):
    assert step.describe() == text


def test_insert_ratings_edge_cases(tiny, caplog):
    none = InsertRatings(fraction=0.0).transform(tiny, np.random.default_rng(0))
    pd.testing.assert_frame_equal(none.frame, tiny.frame)
    assert none.frame is not tiny.frame
    with caplog.at_level("WARNING"):
        out = InsertRatings(fraction=0.3).transform(tiny, np.random.default_rng(3))
    assert caplog.text == ""  # room enough: no density warning
    assert out.frame.index.equals(pd.RangeIndex(13))
    with caplog.at_level("WARNING"):
        full = InsertRatings(fraction=1.0).transform(tiny, np.random.default_rng(3))
    assert f"insert_ratings: table too dense, inserted {full.n_ratings - 10} of 10" in caplog.text


def test_insert_ratings_never_date_an_item_before_its_first_rating():
    """Two users, two items, one rating each: a (day 100) cannot rate item 2, first rated
    on day 200, so the one decoy is always b rating item 1 on b's day, as a did."""
    table = Ratings.from_columns(
        ["a", "b"], [1, 2], [2, 4], np.array([100, 200]), scale=Scale(1, 5, 1)
    )
    seen = set()
    for seed in range(40):
        out = InsertRatings(fraction=0.5).transform(table, np.random.default_rng(seed))
        (row,) = out.frame.iloc[2:].itertuples()
        seen.add((row.user, row.item, row.rating, row.date))
    assert seen == {(1, 0, 2.0, 200)}
    undated = Ratings.from_columns(["a", "b"], [1, 2], [2, 4], scale=Scale(1, 5, 1))
    seen = set()
    for seed in range(40):  # without dates every row can lend and every user receive
        out = InsertRatings(fraction=0.5).transform(undated, np.random.default_rng(seed))
        (row,) = out.frame.iloc[2:].itertuples()
        seen.add((row.user, row.item, row.rating))
    assert seen == {(0, 1, 4.0), (1, 0, 2.0)}


def test_pseudonymize_needs_a_key_and_refuses_collisions(tiny, monkeypatch):
    from publisher.core.errors import InternalError, PublisherError

    with pytest.raises(InternalError) as caught:
        PseudonymizeUsers().transform(tiny, np.random.default_rng(0))
    assert str(caught.value).startswith("PseudonymizeUsers.transform called without a key")

    class Constant:
        def __init__(self, *args, **kwargs):
            pass

        def hexdigest(self):
            return "0" * 64

    from policies.steps import identifiers

    monkeypatch.setattr(identifiers.hmac, "new", Constant)
    with pytest.raises(PublisherError) as caught:
        PseudonymizeUsers(key=b"k" * 16).transform(tiny, np.random.default_rng(0))
    assert str(caught.value).startswith(
        "two users received the same pseudonym; raise pseudonymize_users.digest_chars"
    )


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("day", ["2005-03-30", "2005-12-31", "2006-01-01"]),
        ("week", ["2005-03-28", "2005-12-26", "2005-12-26"]),
        ("month", ["2005-03-01", "2005-12-01", "2006-01-01"]),
        ("quarter", ["2005-01-01", "2005-10-01", "2006-01-01"]),
        ("year", ["2005-01-01", "2005-01-01", "2006-01-01"]),
    ],
)
def test_period_starts_exactly(period, expected):
    from publisher.core.periods import period_starts

    days = np.array(["2005-03-30", "2005-12-31", "2006-01-01"], dtype="datetime64[D]").astype(int)
    out = period_starts(days.astype(np.int32), period)
    assert out.dtype == np.int32
    assert out.astype("datetime64[D]").astype(str).tolist() == expected


def two_periods(n_users=200, seed=0):
    """Items 0-19 rated on days 1000-1010 only, items 20-39 on days 2000-2010 only;
    every customer rated in both periods."""
    rng = np.random.default_rng(seed)
    users, items, values, days = [], [], [], []
    for u in range(n_users):
        for period, base in ((0, 1000), (20, 2000)):
            chosen = rng.choice(20, size=5, replace=False) + period
            users += [u] * 5
            items += chosen.tolist()
            values += rng.integers(1, 6, size=5).tolist()
            days += (base + rng.integers(0, 11, size=5)).tolist()
    return Ratings.from_columns(np.array(users), np.array(items), np.array(values, float),
                                np.array(days), scale=Scale(1, 5, 1))  # fmt: skip


def test_decoy_items_and_ratings_come_from_the_trailing_window_of_their_day():
    """A decoy dated in the second period takes its item and rating from a rating of the
    60 days up to its day: never an item of the first period (1,000 days earlier)."""
    table = two_periods()
    out = InsertRatings(fraction=0.05).transform(table, np.random.default_rng(2))
    frame, added = table.frame, out.frame.iloc[table.n_ratings :]
    assert len(added) == round(0.05 * table.n_ratings)
    for row in added.itertuples():
        lenders = frame[(frame["item"] == row.item) & (frame["rating"] == row.rating)]
        window = lenders[(lenders["date"] <= row.date) & (lenders["date"] >= row.date - 60)]
        assert len(window), row  # some real rating of the window lent item and value
        assert (row.item >= 20) == (row.date >= 2000), row


def test_in_sorted_at_and_beyond_both_ends():
    from policies.steps.decoys import _in_sorted

    keys = np.array([3, 5, 9], np.int64)
    assert _in_sorted(keys, np.array([1, 3, 4, 9, 12], np.int64)).tolist() == [
        False, True, False, True, False,
    ]  # fmt: skip
    assert _in_sorted(np.empty(0, np.int64), np.array([1], np.int64)).tolist() == [False]


def test_decoy_popularity_is_calibrated_towards_the_real_ratings():
    """Heavy raters rated the popular items, so collisions push plain decoys towards
    unpopular items; the calibrated lean brings their mean log item popularity back
    closer to the real ratings' than no lean does (seeded: the gap in mean log popularity
    measured 0.45 without a lean, 0.26 with the calibrated one; asserted: a quarter less)."""
    from policies.steps.decoys import _DecoyDraw

    rng = np.random.default_rng(0)
    n_users, n_items = 400, 200
    weights = 1 / np.arange(1, n_items + 1)
    users, items, days = [], [], []
    for u in range(n_users):
        count = 150 if u < 40 else int(rng.integers(5, 30))
        chosen = rng.choice(n_items, size=count, replace=False, p=weights / weights.sum())
        users += [u] * count
        items += chosen.tolist()
        days += rng.integers(1000, 1030, size=count).tolist()
    table = Ratings.from_columns(np.array(users), np.array(items), np.full(len(users), 3.0),
                                 np.array(days), scale=Scale(1, 5, 1))  # fmt: skip
    draw = _DecoyDraw(table, 60)
    anchors = np.random.default_rng(1).integers(0, draw.n, size=2000)
    _, plain = draw(anchors, 0.0, np.random.default_rng(2))
    plain_gap = abs(draw.log_pop[draw.items[plain]].mean() - draw.real_log_pop)
    lean = draw.calibrate(2000, np.random.default_rng(3))
    assert lean > 0
    _, leaning = draw(anchors, lean, np.random.default_rng(2))
    lean_gap = abs(draw.log_pop[draw.items[leaning]].mean() - draw.real_log_pop)
    assert lean_gap < 0.75 * plain_gap


def test_a_short_or_text_pseudonym_key_is_refused_by_name():
    from publisher.core.errors import PolicyError

    for key in (b"short", "k" * 20):
        with pytest.raises(PolicyError) as caught:
            PseudonymizeUsers(key=key)
        assert str(caught.value) == "the pseudonymization key must be at least 16 bytes"


def test_each_anchor_draws_its_own_lender_in_its_window():
    """Anchors of one day each draw their own row of the window (a draw shared by a
    round would give them all the same lent item and rating)."""
    from policies.steps.decoys import _Lender

    days = np.repeat(np.arange(100, 200), 10)  # ten ratings a day for 100 days
    lender = _Lender(days, len(days), 60)
    anchors = np.full(500, len(days) - 1)  # the last day's last rating, 500 times
    picks = lender.draw(anchors, np.random.default_rng(0), widen=False)
    assert ((days[picks] >= 139) & (days[picks] <= 199)).all()  # the window: 60 days up to 199
    assert len(np.unique(picks)) > 300  # 610 rows to draw from; one shared draw gives 1


def _lean_table() -> Ratings:
    """One rating per customer (no collisions to redraw), items of very uneven
    popularity, no dates: every lent row is a uniform draw over the rows."""
    rng = np.random.default_rng(4)
    weights = 1 / np.arange(1, 101)
    items = rng.choice(100, size=5000, p=weights / weights.sum())
    return Ratings.from_columns(np.arange(5000), items, np.full(5000, 3.0), scale=Scale(1, 5, 1))


def test_the_lean_swaps_that_share_of_the_more_popular_candidates():
    """Lean l: when the second candidate is the more popular, take it with probability l.
    Lean 0 is a uniform row, lean 1 the more popular of two rows, lean 0.5 halfway in
    expectation. Seeded; 5,000 decoys put the halfway mean within a few percent of the
    gap (asserted: between 30% and 70% of it)."""
    from policies.steps.decoys import _DecoyDraw

    draw = _DecoyDraw(_lean_table(), 60)
    pending = np.arange(draw.n)
    means = {}
    for lean in (0.0, 0.5, 1.0):
        _, lent = draw(pending, lean, np.random.default_rng(7))
        assert len(lent) == draw.n
        means[lean] = draw.log_pop[draw.items[lent]].mean()
    gap = means[1.0] - means[0.0]
    assert gap > 0.3  # the more popular of two items is much more popular here
    assert 0.3 < (means[0.5] - means[0.0]) / gap < 0.7


def test_a_stubborn_anchor_can_be_replaced_by_any_row_including_the_first():
    """Customer b rated every item, so an anchor on b never finds a new pair; after 40
    rounds the anchor is redrawn from all rows, and only row 0 (customer a) can take a
    decoy. Over ten seeds most draws succeed, always on row 0."""
    from policies.steps.decoys import _DecoyDraw

    table = Ratings.from_columns(["a", "b", "b", "b", "b"], [0, 0, 1, 2, 3],
                                 np.full(5, 3.0), scale=Scale(1, 5, 1))  # fmt: skip
    draw = _DecoyDraw(table, 60)
    row_of_a = int(np.flatnonzero(draw.users == draw.users[0])[0])
    assert row_of_a == 0
    assert (draw.users[1:] != draw.users[0]).all()
    found = []
    for seed in range(10):
        anchors, lent = draw(np.array([1]), 0.0, np.random.default_rng(seed))
        assert anchors.tolist() in ([], [0])
        found += anchors.tolist()
        assert draw.items[lent].tolist() in ([], [1], [2], [3])
    assert len(found) >= 6  # 92% a seed (0.12 a round over 20 rounds)


@pytest.mark.parametrize(
    ("step", "window", "period"),
    [
        (JitterDates(max_days=3), 6, None),  # -3..+3 days: a window of 6
        (RedateRatings(fraction=0.5, max_days=4), 4, None),
        (CoarsenDates(to="quarter"), 0, "quarter"),
        (DropDates(), 0, None),
        (PerturbRatings(epsilon=1.0), 0, None),
        (DeleteRatings(fraction=0.5), 0, None),
    ],
    ids=lambda x: getattr(x, "name", str(x)),
)
def test_the_date_window_and_period_each_step_states(step, window, period):
    """What the date recovery audit reads: the window a step's moves span, its period."""
    assert step.date_window_days() == window
    assert step.date_period() == period
    assert step.moves_dates == (window > 0)
