import numpy as np
import pytest

from audits import UniquenessAudit
from audits._index import IndexedTable
from audits._kernels import anonymity_sets, match_counts
from audits.run import uniqueness_inversions
from audits.uniqueness import UniquenessResult, _period_table
from publisher.core import Scale
from publisher.core.ratings import Ratings


@pytest.fixture
def table(tiny):
    return IndexedTable(tiny)


def sets(table, user, items, tolerance=3):
    record = table.records.of_code[list(table.ratings.user_ids).index(user)]
    codes = [list(table.ratings.item_ids).index(i) for i in items]
    by_record = table.by_record
    return anonymity_sets(
        table.by_item.ptr,
        table.by_item.other,
        by_record.ptr,
        by_record.other,
        by_record.rating,
        by_record.day,
        np.array([record]),
        np.array([codes], np.int32),
        tolerance,
        True,
    )[0].tolist()


def test_hand_counted_anonymity_sets(table):
    # tiny: item 1 rated by a(5), b(5), c(1), e(3); item 2 by a(3), b(2); item 4 by c(4), d(2)
    assert sets(table, "a", [1]) == [4, 2, 2]  # b also gave 5, one day later
    assert sets(table, "d", [4]) == [2, 1, 1]
    assert sets(table, "a", [2, 1]) == [2, 1, 1]


def by_period(table, user, items):
    """Every column of match_counts: items, ratings, ratings and dates, then one per period."""
    record = table.records.of_code[list(table.ratings.user_ids).index(user)]
    codes = [list(table.ratings.item_ids).index(i) for i in items]
    r = table.by_record
    known, ratings, days = (
        np.array([[r.other.tolist().index(c, r.ptr[record], r.ptr[record + 1]) for c in codes]]),
        None,
        None,
    )
    ratings = r.rating[known].astype(np.int32)
    days = r.day[known].astype(np.int64)
    periods, origin = _period_table(r.day)
    sizes, own = match_counts(
        table.by_item.ptr, table.by_item.other, r.ptr, r.other, r.rating, r.day,
        np.array([codes], np.int32), ratings, days, np.array([record], np.int64), 3, True,
        periods, origin,
    )  # fmt: skip
    assert own.all()  # the target's own record always matches its own knowledge
    return sizes[0].tolist()


def test_hand_counted_released_periods(table):
    # a rated item 1 on 2005-08-05 (a Friday); b on 2005-08-06 (same week, month,
    # quarter, year); e on 2005-11-13 (same year only); c on 2002-11-09 (none)
    #                                 items ratings dates  day week month quarter year
    assert by_period(table, "a", [1]) == [4, 2, 2, 1, 2, 2, 2, 3]
    # d's item 4 (2006-07-03) against c's (2003-02-27): no period in common
    assert by_period(table, "d", [4]) == [2, 1, 1, 1, 1, 1, 1, 1]


def test_items_period_follows_the_release_period(tiny):
    result = (
        UniquenessAudit(
            tiny, dataset="original", known_items=(1,), n_users=5, rng=np.random.default_rng(0)
        )
        .evaluate()
        .results()[0]
    )
    assert result.sizes.shape[1] == 8
    by_day = result.unique_fraction("items_period")
    assert by_day == result.unique_fraction("items_period")  # day: as exact as it gets
    import dataclasses

    yearly = dataclasses.replace(result, period="year")
    undated = dataclasses.replace(result, period=None)
    assert yearly.unique_fraction("items_period") <= by_day
    assert undated.unique_fraction("items_period") == result.unique_fraction("items")
    assert yearly.to_dict()["period"] == "year"


def test_dates_within_tolerance(table):
    # a rated item 1 on day 13000, b on day 13001: within 3 days, not within 0
    assert sets(table, "a", [1], tolerance=3) == [4, 2, 2]
    assert sets(table, "a", [1], tolerance=0) == [4, 2, 1]


def test_audit_results_and_report_fields(tiny):
    audit = UniquenessAudit(
        tiny, dataset="original", known_items=(1, 2), n_users=10, rng=np.random.default_rng(0)
    ).evaluate()
    first, second = audit.results()
    assert first.eligible == 5  # users with >= 1 rating
    assert second.eligible == 3  # users with >= 2 ratings
    entry = second.to_dict()
    assert entry["users"] == 3
    assert set(entry["anonymity_sets_items"]) == {"1", "2-5", "6-20", "21-100", ">100"}
    assert sum(entry["anonymity_sets_items"].values()) == pytest.approx(1.0)


def test_no_dates_gives_null_date_mode():
    table = Ratings.from_columns(["a", "b"], [1, 1], [3, 3])
    result = (
        UniquenessAudit(
            table, dataset="released", known_items=(1,), n_users=2, rng=np.random.default_rng(0)
        )
        .evaluate()
        .results()[0]
    )
    entry = result.to_dict()
    assert entry["unique_ratings_dates"] is None
    assert entry["unique_items"] == 0.0


def shifted(ratings: Ratings, by: int) -> Ratings:
    """The same table with every rating moved ``by`` steps around the scale."""
    scale = ratings.scale
    index = (scale.to_index(ratings.frame["rating"].to_numpy()) + by) % scale.k
    return ratings.with_frame(ratings.frame.assign(rating=scale.values()[index]))


def release_side(original, released, m=2):
    audit = UniquenessAudit(
        released, reference=original, dataset="released", known_items=(m,), n_users=50,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    return audit.evaluate().results()[0]


@pytest.fixture
def varied():
    rng = np.random.default_rng(4)
    rows = [
        (u, int(i), int(rng.integers(1, 6)))
        for u in range(60)
        for i in rng.choice(30, 6, replace=False)
    ]
    users, items, values = zip(*rows, strict=True)
    return Ratings.from_columns(list(users), list(items), list(values), scale=Scale(1, 5, 1))


def test_release_is_measured_as_the_adversary_meets_it(varied):
    """Noisy ratings are unique without being linkable: singled out means exactly one
    released record matches the ORIGINAL values, and it is the target's own."""
    own = UniquenessAudit(
        varied, dataset="original", known_items=(2,), n_users=50, rng=np.random.default_rng(0)
    )
    baseline = own.evaluate().results()[0]
    same = release_side(varied, varied)
    assert same.unique_fraction("ratings") == baseline.unique_fraction("ratings") > 0.3
    noisy = shifted(varied, 1)  # every rating changed: the target's record never matches
    result = release_side(varied, noisy)
    assert result.unique_fraction("ratings") == 0.0
    assert not result.own[:, 1].any()
    # measured within the release alone (the old definition), the noise looked unique
    itself = UniquenessAudit(
        noisy, dataset="released", known_items=(2,), n_users=50, rng=np.random.default_rng(0)
    )
    assert itself.evaluate().results()[0].unique_fraction("ratings") > 0.3
    # items alone are untouched by rating noise: still singled out as in the original
    assert result.unique_fraction("items") == baseline.unique_fraction("items")


def test_release_knowledge_is_drawn_from_items_it_lists():
    """Survivor knowledge: a policy that deletes the items a customer is known by does not
    hide them; the attacker knows the ratings of films the release still lists."""
    # customer 0 rated items 0-3; items 0 and 1 are rated by nobody else and deleted
    rows = [(0, 0, 5), (0, 1, 4), (0, 2, 1), (0, 3, 2)]
    rows += [(u, 2, 3) for u in range(1, 6)] + [(u, 3, 3) for u in range(1, 6)]
    users, items, values = zip(*rows, strict=True)
    original = Ratings.from_columns(list(users), list(items), list(values), scale=Scale(1, 5, 1))
    ids = np.asarray(original.item_ids)[original.frame["item"].to_numpy()]
    keep = np.isin(ids, [2, 3])
    released = original.with_frame(original.frame[keep].reset_index(drop=True))
    result = release_side(original, released, m=2)
    # every sampled customer is known by items 2 and 3 (the ones listed), never 0 or 1
    assert result.eligible == 6
    # customer 0's exact ratings (1, 2) on 2 and 3 are theirs alone
    assert result.unique_fraction("ratings") == pytest.approx(1 / 6)
    # by 3 items nobody qualifies: customer 0 rated 4, but the release lists only 2 of them
    assert release_side(original, released, m=3).eligible == 0


def unique_result(dataset, singled, n=200, m=4):
    sizes = np.full((n, 8), 5)
    sizes[:singled, :] = 1
    return UniquenessResult(dataset, m, n, sizes, True, 3, np.ones((n, 8), bool), "month")


def test_a_release_that_singles_out_more_is_warned():
    quiet = uniqueness_inversions([unique_result("original", 100), unique_result("released", 90)])
    assert quiet == []
    loud = uniqueness_inversions([unique_result("original", 40), unique_result("released", 120)])
    assert len(loud) == 4  # every mode inverts
    assert loud[0] == (
        "the release singles out more customers than the original by 4 items (items): "
        "60.0% against 20.0%, beyond both intervals"
    )
    # within the intervals: no warning (a handful more by chance is not an inversion)
    assert (
        uniqueness_inversions([unique_result("original", 40), unique_result("released", 45)]) == []
    )
