import numpy as np
import pytest

from audits import UniquenessAudit
from audits._index import IndexedTable
from audits._kernels import anonymity_sets
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
    from publisher.core import Scale

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
