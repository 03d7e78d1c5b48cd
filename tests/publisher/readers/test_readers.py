import gzip

import numpy as np
import pandas as pd
import pytest

from publisher.core.errors import InputError
from publisher.core.ratings import Scale
from publisher.demo import demo_data
from publisher.readers import detect_format, parse_columns, read_ratings

from tests.conftest import shared


def write(folder, name, content):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------- real data
def test_movielens_100k_u_data():
    ratings = read_ratings(shared("movielens-100k/u.data"))
    assert ratings.counts() == {"ratings": 100_000, "users": 943, "items": 1682}
    assert ratings.scale == Scale(1, 5, 1)
    hist = np.bincount(ratings.frame["rating"].astype(int))[1:].tolist()
    assert hist == [6110, 11370, 27145, 34174, 21201]  # the published ml-100k histogram
    # 881250949 = 1997-12-04 (UTC): the first line's timestamp
    user, item, date = ratings.frame.loc[0, ["user", "item", "date"]].astype(int)
    assert ratings.user_ids[user] == 196
    assert ratings.item_ids[item] == 242
    assert date == 881250949 // 86400


def test_movielens_latest_small_ratings_csv():
    ratings = read_ratings(demo_data())
    assert ratings.counts() == {"ratings": 100_836, "users": 610, "items": 9724}
    assert ratings.scale == Scale(0.5, 5, 0.5)
    assert detect_format(shared("movielens-latest-small")) == "movielens-csv"


def test_netflix_training_set_folder():
    folder = shared("netflix-prize-sample")
    ratings = read_ratings(folder)
    assert detect_format(folder) == "netflix"
    assert ratings.counts() == {"ratings": 20_352, "users": 19_519, "items": 10}
    per_movie = ratings.frame.groupby("item").size().tolist()
    assert per_movie == [547, 145, 2012, 142, 1140, 1019, 93, 14910, 95, 249]
    dates = ratings.frame["date"]
    assert str(np.datetime64(int(dates.min()), "D")) == "2000-09-09"
    assert str(np.datetime64(int(dates.max()), "D")) == "2005-12-31"
    # mv_0000001.txt begins 1488844,3,2005-09-06
    frame = ratings.frame
    code = int(np.flatnonzero(ratings.user_ids == 1488844)[0])
    row = frame[(frame["user"] == code) & (frame["item"] == 0)]
    assert row["rating"].tolist() == [3.0]
    assert str(np.datetime64(int(row["date"].iloc[0]), "D")) == "2005-09-06"


def test_netflix_single_file_and_gzip(tmp_path):
    source = shared("netflix-prize-sample/training_set/mv_0000001.txt")
    packed = write(tmp_path, "mv_0000001.txt.gz", gzip.compress(source.read_bytes()))
    assert read_ratings(source).counts() == {"ratings": 547, "users": 547, "items": 1}
    assert read_ratings(packed).counts() == {"ratings": 547, "users": 547, "items": 1}


# ---------------------------------------------------------------- tiny files
def test_csv_with_header_and_iso_dates(tmp_path):
    path = write(
        tmp_path, "r.csv", "customer,movie,stars,date\nu1,m1,4,2005-01-02\nu2,m1,5,2005-01-03\n"
    )
    ratings = read_ratings(path)
    assert ratings.user_ids.tolist() == ["u1", "u2"]
    assert ratings.frame["rating"].tolist() == [4.0, 5.0]
    assert ratings.frame["date"].tolist() == [12785, 12786]
    assert ratings.scale == Scale(4, 5, 1)  # inferred (and logged) when not declared


def test_tsv_without_header_positional(tmp_path):
    path = write(tmp_path, "r.tsv", "1\t10\t3\t1100000000\n2\t10\t5\t1100086400\n")
    ratings = read_ratings(path, scale=Scale(1, 5, 1))
    assert ratings.frame["date"].tolist() == [12731, 12732]
    assert ratings.item_ids.tolist() == [10]


def test_column_mapping_by_name_and_position(tmp_path):
    path = write(tmp_path, "r.csv", "a,b,c\n1,5,3\n2,5,4\n")
    ratings = read_ratings(path, columns={"user": "b", "item": "a", "rating": "3"}, scale=Scale())
    assert ratings.user_ids.tolist() == [5]
    assert ratings.item_ids.tolist() == [1, 2]
    assert parse_columns("user=b,item=a") == {"user": "b", "item": "a"}


def test_ratings_dat_double_colon(tmp_path):
    path = write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    ratings = read_ratings(path)
    assert detect_format(path) == "movielens-1m"
    assert ratings.counts() == {"ratings": 2, "users": 1, "items": 2}
    assert ratings.scale == Scale(1, 5, 1)


def test_combined_data_form(tmp_path):
    text = "1:\n10,3,2005-09-06\n11,5,2005-05-13\n2:\n10,1,2004-01-01\n"
    path = write(tmp_path, "combined_data_1.txt", text)
    ratings = read_ratings(path)
    assert ratings.item_ids.tolist() == [1, 2]
    assert ratings.frame[["user", "item", "rating"]].to_numpy().tolist() == [
        [0, 0, 3],
        [1, 0, 5],
        [0, 1, 1],
    ]


def test_crlf_bom_and_blank_lines(tmp_path):
    path = write(tmp_path, "r.csv", b"\xef\xbb\xbfuser,item,rating\r\n1,2,3\r\n\r\n2,2,4\r\n")
    assert read_ratings(path, scale=Scale()).counts() == {"ratings": 2, "users": 2, "items": 1}


def test_gzip_csv_detected_by_content(tmp_path):
    path = write(tmp_path, "r.csv.gz", gzip.compress(b"user,item,rating\n1,2,3\n"))
    assert read_ratings(path).n_ratings == 1


def test_parquet_with_timestamps(tmp_path):
    frame = pd.DataFrame(
        {
            "userId": ["x", "y"],
            "movieId": [1, 2],
            "rating": [1.0, 2.0],
            "timestamp": pd.to_datetime(["2001-01-01", "2001-01-02"]),
        }
    )
    path = tmp_path / "r.parquet"
    frame.to_parquet(path)
    ratings = read_ratings(path)
    assert detect_format(path) == "parquet"
    assert ratings.frame["date"].tolist() == [11323, 11324]


def test_duplicates_keep_last(tmp_path):
    path = write(tmp_path, "r.csv", "user,item,rating\n1,2,3\n1,2,5\n")
    ratings = read_ratings(path, scale=Scale(), duplicates="keep-last")
    assert ratings.frame["rating"].tolist() == [5.0]


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.csv", "", "{p}: file is empty"),
        ("h.csv", "user,item,rating\n", "{p}: no ratings (the file holds only a header)"),
        (
            "o.csv",
            "user,item,rating\n1,2,3\n1,3,7\n",
            "{p}: line 3: rating 7 is off the scale 1:5:1 (MIN:MAX:STEP)",
        ),
        (
            "h.csv",
            "user,item,rating\n1,2,3.5\n",
            "{p}: line 2: rating 3.5 is off the scale 1:5:1 (MIN:MAX:STEP)",
        ),
        ("n.csv", "user,item,rating\n1,2,abc\n", "{p}: line 2: rating 'abc' is not a number"),
        ("i.csv", "user,item,rating\n1,2,inf\n", "{p}: line 2: rating inf is not a finite number"),
        ("m.csv", "user,item,rating\n1,2\n", "{p}: line 2: missing rating"),
        (
            "w.csv",
            "user,item,rating\n1,2,3\n1,2,3,4,5\n",
            "{p}: line 3: expected 3 fields, found 5",
        ),
        (
            "d.csv",
            "user,item,rating,date\n1,2,3,2005-02-30\n",
            "{p}: line 2: unparseable date '2005-02-30'",
        ),
        ("f.csv", "user,item,rating,date\n1,2,3,2999-01-01\n", "{p}: line 2: date in the future"),
        (
            "o.csv",
            "user,item,rating,date\n1,2,3,1850-01-01\n",
            "{p}: line 2: date before 1900-01-01",
        ),
        (
            "u.csv",
            "user,item,rating\n1,2,3\n1,3,3\n1,2,4\n",
            "{p}: line 4: second rating of the same item by the same user (first at line 2); "
            "pass --duplicates keep-last to keep the last one",
        ),
        ("x.csv", b"user,item,rating\n1,2,3\n\xff\xfe,2,3\n", "{p}: line 3: not valid UTF-8"),
        (
            "q.csv",
            "foo,bar,baz\n1,2,3\n",
            "{p}: cannot tell which column holds user and item and rating (columns: foo, bar, baz); "
            "pass --columns user=COL,item=COL,rating=COL",
        ),
        (
            "mv_0000002.txt",
            "1,3,2005-01-01\n",
            "{p}: line 1: expected a 'MovieID:' line, got '1,3,2005-01-01'",
        ),
        (
            "mv_0000003.txt",
            "3:\n1,3,2005-01-01\n1;3\n",
            "{p}: line 3: expected 'CustomerID,Rating,YYYY-MM-DD' or 'MovieID:', got '1;3'",
        ),
        ("mv_0000004.txt", "4:\n1,3,2005-13-01\n", "{p}: line 2: unparseable date '2005-13-01'"),
        (
            "mv_0000005.txt",
            "5:\n1,9,2005-01-01\n",
            "{p}: line 2: rating 9 is off the scale 1:5:1 (MIN:MAX:STEP)",
        ),
        ("r.parquet", b"", "{p}: file is empty"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    scale = None if name.startswith("mv_") else Scale(1, 5, 1)
    with pytest.raises(InputError) as caught:
        read_ratings(path, scale=scale)
    assert str(caught.value) == message.format(p=path)


def test_truncated_gzip(tmp_path):
    packed = gzip.compress(b"user,item,rating\n" + b"1,2,3\n" * 5000)
    path = write(tmp_path, "t.csv.gz", packed[: len(packed) // 2])
    with pytest.raises(InputError, match=r"t\.csv\.gz: cannot read \("):
        read_ratings(path, scale=Scale())


def test_folder_without_rating_files(tmp_path):
    with pytest.raises(InputError, match="folder holds no rating files"):
        read_ratings(tmp_path)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        read_ratings(tmp_path / "nope.csv")


def test_parquet_with_wrong_rating_type(tmp_path):
    path = tmp_path / "r.parquet"
    pd.DataFrame({"user": [1], "item": [2], "rating": ["five"]}).to_parquet(path)
    with pytest.raises(InputError, match="column 'rating' must be numeric, not"):
        read_ratings(path)


def test_netflix_file_error_names_the_right_file_in_a_folder(tmp_path):
    write(tmp_path, "training_set/mv_0000001.txt", "1:\n1,3,2005-01-01\n")
    bad = write(tmp_path, "training_set/mv_0000002.txt", "2:\n1,3,2005-01-01\n2,3,x\n")
    with pytest.raises(InputError) as caught:
        read_ratings(tmp_path)
    assert str(caught.value) == f"{bad}: line 3: unparseable date 'x'"


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        (["007", "7"], ["007", "7"]),
        (["-0", "0"], ["-0", "0"]),
        (["\u0667", "7"], ["7", "\u0667"]),  # ARABIC-INDIC DIGIT SEVEN and an ASCII 7
        (["7", "12"], [7, 12]),
    ],
    ids=["leading-zero", "minus-zero", "arabic-indic", "canonical"],
)
def test_distinct_ids_that_look_numeric_are_never_merged(tmp_path, users, expected):
    # Issue 24.9: 007 and 7 became one customer, with no warning.
    path = tmp_path / "r.csv"
    rows = "".join(f"{u},{i},4\n" for u in users for i in (1, 2))
    path.write_text("user,item,rating\n" + rows, encoding="utf-8")
    ratings = read_ratings(path, scale=Scale(1, 5, 1))
    assert ratings.n_users == len(users)
    assert sorted(ratings.user_ids.tolist(), key=str) == sorted(expected, key=str)


def test_item_ids_keep_their_leading_zeros(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\na,00012,4\na,12,3\nb,00012,5\n")
    ratings = read_ratings(path, scale=Scale(1, 5, 1))
    assert sorted(ratings.item_ids.tolist()) == ["00012", "12"]


def test_integer_ids_that_turn_to_text_in_a_later_chunk_are_reread_as_text(tmp_path, monkeypatch):
    from publisher.readers import delimited

    monkeypatch.setattr(delimited, "_FIRST_CHUNK_ROWS", 2)
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\n7,1,4\n8,1,4\n007,1,4\n")
    ratings = read_ratings(path, scale=Scale(1, 5, 1))
    assert sorted(ratings.user_ids.tolist()) == ["007", "7", "8"]


def test_a_netflix_id_with_a_leading_zero_is_refused(tmp_path):
    path = tmp_path / "mv_0000001.txt"
    path.write_text("1:\n7,4,2005-01-01\n007,3,2005-01-02\n")
    with pytest.raises(InputError, match=r"line 3: id '007' has a leading zero"):
        read_ratings(path)


@pytest.mark.parametrize(
    ("dates", "date_format", "expected"),
    [
        (["20041221", "19991231"], "auto", ["2004-12-21", "1999-12-31"]),
        (["1103587200000", "946598400000"], "auto", ["2004-12-21", "1999-12-31"]),
        (["1103587200", "946598400"], "auto", ["2004-12-21", "1999-12-31"]),
        (["12773", "10956"], "days", ["2004-12-21", "1999-12-31"]),
        (["20041221", "19991231"], "yyyymmdd", ["2004-12-21", "1999-12-31"]),
        (["86400", "172800"], "unix-seconds", ["1970-01-02", "1970-01-03"]),
    ],
    ids=["yyyymmdd", "unix-ms", "unix-seconds", "days", "declared-yyyymmdd", "declared-seconds"],
)
def test_integer_dates_are_read_in_their_unit(tmp_path, dates, date_format, expected):
    # Issue 24.10: YYYYMMDD integers and day numbers were read as Unix seconds (1970).
    rows = "".join(f"u{k},1,4,{d}\n" for k, d in enumerate(dates))
    path = write(tmp_path, "r.csv", "user,item,rating,date\n" + rows)
    ratings = read_ratings(path, scale=Scale(1, 5, 1), date_format=date_format)
    days = ratings.frame.sort_values("user")["date"].to_numpy()
    assert days.astype("datetime64[D]").astype(str).tolist() == expected


def test_day_numbers_are_refused_unless_declared(tmp_path):
    path = write(tmp_path, "r.csv", "user,item,rating,date\na,1,4,12773\nb,1,3,10956\n")
    with pytest.raises(InputError) as caught:
        read_ratings(path, scale=Scale(1, 5, 1))
    assert str(caught.value) == (
        f"{path}: date column 'date' holds integers from 10,956 to 12,773: as Unix seconds they "
        "would fall in 1970-1973 or after 2100, where no ratings are; declare their unit with "
        "--date-format days (days since 1970-01-01), yyyymmdd, unix-seconds or unix-ms"
    )


def test_a_later_chunk_is_read_in_the_unit_of_the_first(tmp_path, monkeypatch):
    from publisher.readers import delimited

    monkeypatch.setattr(delimited, "_FIRST_CHUNK_ROWS", 2)
    path = write(
        tmp_path, "r.csv", "user,item,rating,date\na,1,4,20041221\nb,1,4,20041222\nc,1,4,20041399\n"
    )
    with pytest.raises(InputError, match=r"line 4: date 20041399 is not a YYYYMMDD calendar date"):
        read_ratings(path, scale=Scale(1, 5, 1))


def test_parquet_integer_dates_and_a_float16_rating_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    table = pa.table(
        {
            "user": [1, 2],
            "item": [1, 1],
            "rating": pa.array([4.0, 3.0], type=pa.float16()),
            "date": [20041221, 19991231],
        }
    )
    pq.write_table(table, path)
    ratings = read_ratings(path, scale=Scale(1, 5, 1))
    assert ratings.frame["rating"].tolist() == [4.0, 3.0]
    assert ratings.frame["date"].to_numpy().astype("datetime64[D]").astype(str).tolist() == [
        "2004-12-21",
        "1999-12-31",
    ]


@pytest.mark.parametrize(
    ("content", "delimiter", "why"),
    [
        ("user,item,rating\na,1,4,\nb,2,3,\n", None, "a trailing delimiter, or 1 column"),
        ("user;item;rating\n1;1;4;x\n2;2;3;y\n", None, "1 column without a name"),
        ("user,item,rating\n1,1,4,\n2,2,3,\n", None, "a trailing delimiter"),
    ],
    ids=["text-ids", "semicolon-unnamed", "numeric-ids"],
)
@pytest.mark.parametrize("duplicates", ["error", "keep-last"])
def test_rows_wider_than_the_header_are_refused_not_shifted(
    tmp_path, content, delimiter, why, duplicates
):
    # Issue 24.12: pandas took the first column as the row index; with keep-last the
    # release succeeded with users read as items and items as ratings.
    path = write(tmp_path, "r.csv", content)
    with pytest.raises(InputError) as caught:
        read_ratings(path, scale=Scale(1, 5, 1), duplicates=duplicates)
    assert str(caught.value).startswith(f"{path}: line 2 has 4 fields but the header names 3 ")
    assert why in str(caught.value)
