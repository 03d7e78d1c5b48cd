"""The Netflix text parser: compact columns, line numbers recovered from the skips."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.core.errors import InputError
from publisher.readers import read_ratings
from publisher.readers._netflix import ID_RANGE, OK, line_of_row, parse_netflix


def parse(text: str, id_type=np.int32):
    raw = np.frombuffer(text.encode(), dtype=np.uint8)
    n_lines = text.count("\n") + 1
    cols = (
        np.empty(n_lines, id_type),
        np.empty(n_lines, id_type),
        np.empty(n_lines, np.float32),
        np.empty(n_lines, np.int32),
    )
    n, status, bad, skips = parse_netflix(raw, *cols)
    return [c[:n] for c in cols], status, bad, skips


def test_columns_and_skips_by_hand():
    text = "1:\n7,3,2005-01-02\n\n2:\n7,4.5,1999-11-11\n8,1,2005-12-31\n"
    (movie, user, rating, day), status, bad, skips = parse(text)
    assert (status, bad) == (OK, 6)
    assert movie.tolist() == [1, 2, 2]
    assert user.tolist() == [7, 7, 8]
    assert rating.tolist() == [3.0, 4.5, 1.0]
    # 12785 = 2005-01-02, 10906 = 1999-11-11, 13148 = 2005-12-31 (days since 1970-01-01)
    assert day.tolist() == [12785, 10906, 13148]
    assert skips.tolist() == [0, 1, 1]  # "1:" before row 0; blank and "2:" before row 1
    assert [line_of_row(skips, k) for k in range(3)] == [1, 4, 5]


def test_an_id_beyond_int32_asks_for_int64_columns():
    text = "1:\n3000000000,3,2005-01-02\n"
    _, status, bad, _ = parse(text)
    assert (status, bad) == (ID_RANGE, 1)
    (_, user, _, _), status, _, _ = parse(text, np.int64)
    assert status == OK
    assert user.tolist() == [3_000_000_000]


def test_reader_keeps_ids_beyond_int32(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("4000000000:\n3000000000,3,2005-01-02\n5,4,2005-01-03\n")
    ratings = read_ratings(path)
    assert ratings.user_ids.tolist() == [5, 3_000_000_000]
    assert ratings.item_ids.tolist() == [4_000_000_000]


def test_a_nineteen_digit_id_is_refused_not_wrapped(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_text("1:\n9999999999999999999,3,2005-01-02\n")
    with pytest.raises(InputError, match=r"huge.txt: line 2: expected 'CustomerID,Rating"):
        read_ratings(path)


def test_late_errors_name_the_line_after_blank_lines_and_headers(tmp_path):
    # Off-scale ratings are found after parsing, from the row number alone.
    path = tmp_path / "ratings.txt"
    path.write_text("1:\n1,3,2005-01-02\n\n\n2:\n1,4,2005-01-02\n3:\n2,6,2005-01-02\n")
    with pytest.raises(InputError, match=r"ratings.txt: line 8: rating 6 is off the scale"):
        read_ratings(path)


lines = st.lists(
    st.one_of(
        st.just(""),
        st.integers(1, 99).map(lambda m: f"{m}:"),
        st.integers(1, 99).map(lambda u: f"{u},3,2005-01-02"),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(lines)
def test_line_of_row_matches_a_line_count(body):
    text = "\n".join(["1:", *body]) + "\n"
    (_, _, _, _), status, _, skips = parse(text)
    assert status == OK
    expected = [k for k, line in enumerate(text.splitlines()) if "," in line]
    assert [line_of_row(skips, k) for k in range(len(expected))] == expected
