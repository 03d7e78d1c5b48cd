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
