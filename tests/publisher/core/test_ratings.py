import numpy as np
import pandas as pd
import pytest

from publisher.core.errors import InternalError
from publisher.core.ratings import Ratings, Scale, days_to_dates


def test_scale_values_and_index():
    scale = Scale(0.5, 5, 0.5)
    assert scale.k == 10
    assert scale.to_index(np.array([0.5, 5.0, 3.0])).tolist() == [0, 9, 5]
    assert scale.on_scale(np.array([0.5, 0.75, 5.5, np.nan, 2.0])).tolist() == [
        True,
        False,
        False,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1:5", "rating scale must be MIN:MAX:STEP, got '1:5'"),
        ("a:5:1", "rating scale must be MIN:MAX:STEP, got 'a:5:1'"),
        ("5:1:1", "rating scale must have finite min <= max and step > 0, got 5.0:1.0:1.0"),
        ("1:5:0", "rating scale must have finite min <= max and step > 0, got 1.0:5.0:0.0"),
        ("1:5:3", "rating scale 1.0:5.0:3.0: max - min must be a whole number of steps"),
    ],
)
def test_scale_parse_errors(text, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        Scale.parse(text)


def test_from_columns_codes_by_sorted_id_not_row_order():
    first = Ratings.from_columns(["z", "a"], [2, 1], [1, 2])
    second = Ratings.from_columns(["a", "z"], [1, 2], [2, 1])
    assert first.user_ids.tolist() == ["a", "z"]
    assert first.frame["user"].tolist() == [1, 0]
    assert second.frame["user"].tolist() == [0, 1]
    assert first.frame.dtypes.astype(str).tolist() == ["int32", "int32", "float32"]
    assert not first.has_dates


def test_counts(tiny):
    assert tiny.counts() == {"ratings": 10, "users": 5, "items": 4}
    assert tiny.has_dates


def test_missing_column_is_internal_error():
    with pytest.raises(InternalError, match="probably a bug"):
        Ratings(frame=pd.DataFrame({"user": [0]}), user_ids=np.array([1]), item_ids=np.array([1]))


def test_days_to_dates():
    assert days_to_dates(np.array([0, 13149])).astype(str).tolist() == ["1970-01-01", "2006-01-01"]


def test_from_codes_copies_unless_the_arrays_are_handed_over():
    users, items = np.array([0, 1], np.int32), np.array([0, 0], np.int32)
    ratings, days = np.array([3, 4], np.float32), np.array([10, 11], np.int32)
    ids = np.array([7, 8])

    kept = Ratings.from_codes(users, ids, items, ids[:1], ratings, days)
    ratings[0] = 5  # the caller still owns its arrays: the table must not change
    assert kept.frame["rating"].tolist() == [3.0, 4.0]

    handed = Ratings.from_codes(users, ids, items, ids[:1], ratings, days, handover=True)
    assert np.shares_memory(handed.frame["user"].to_numpy(), users)  # no copy
    assert np.shares_memory(handed.frame["date"].to_numpy(), days)

    frozen = np.array([1, 2], np.float32)
    frozen.flags.writeable = False  # e.g. a zero-copy view of Arrow memory
    table = Ratings.from_codes(users, ids, items, ids[:1], frozen, handover=True)
    assert not np.shares_memory(table.frame["rating"].to_numpy(), frozen)  # copied
    table.frame.loc[0, "rating"] = 5.0  # in-place writes stay possible
