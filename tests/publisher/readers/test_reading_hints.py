"""Input a new user brings: date columns, delimiters and scales, through the CLI.

Every error's advice is followed here and must then work (issue 16).
"""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from publisher.cli import main

from tests.conftest import shared

HEADER = ["CustomerID", "MovieID", "Stars", "RatedOn"]


def rows(n_users=12, n_items=6):
    """Ratings 1-5 with ISO dates: user u rates items 1..n_items."""
    return [
        (u, i, (u + i) % 5 + 1, f"2005-{1 + (u + i) % 9:02d}-{10 + i:02d}")
        for u in range(1, n_users + 1)
        for i in range(1, n_items + 1)
    ]


def write(path, header, data, sep=","):
    lines = [sep.join(f'"{h}"' for h in header)]
    lines += [sep.join(str(v) for v in row) for row in data]
    path.write_text("\n".join(lines) + "\n")
    return path


def audit(path, *extra):
    """``publisher audit --policy none`` with a JSON report; returns (result, report)."""
    out = path.parent / f"{path.stem}-{len(extra)}.json"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(
        main, ["audit", str(path), "-p", "none", "-q", "--seed", "1", "--json", str(out), *extra]
    )
    report = json.loads(out.read_text()) if out.exists() else None
    return result, report


def error_line(result):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 0, 1]], ids=["in-order", "shuffled"])
def test_a_rated_on_column_is_read_as_the_dates(tmp_path, order):
    header = [HEADER[k] for k in order]
    data = [[row[k] for k in order] for row in rows()]
    result, report = audit(write(tmp_path / "r.csv", header, data))
    assert result.exit_code == 0, result.output
    assert report["input"]["dates"] is True
    assert "not read" not in result.output  # every column used


@pytest.mark.parametrize(
    "name", ["rated_at", "Created-At", "DATETIME", "ts", "time", "date", "timestamp"]
)
def test_common_date_headers_are_recognised(tmp_path, name):
    _, report = audit(write(tmp_path / "r.csv", [*HEADER[:3], name], rows()))
    assert report["input"]["dates"] is True


def test_a_date_column_under_an_unknown_name_is_an_error_whose_advice_works(tmp_path):
    path = write(tmp_path / "r.csv", [*HEADER[:3], "Wann"], rows())
    result, report = audit(path)
    assert error_line(result) == (
        f"Error: {path}: column 'Wann' holds dates but its name does not say so; pass "
        "--columns date=Wann to read them, or --no-dates to leave them out"
    )
    assert report is None  # nothing written
    result, report = audit(path, "--columns", "date=Wann")
    assert result.exit_code == 0, result.output
    assert report["input"]["dates"] is True
    result, report = audit(path, "--no-dates")
    assert result.exit_code == 0, result.output
    assert report["input"]["dates"] is False
    assert f"{path}: column Wann not read" in result.output  # said, not silent


def test_unix_seconds_under_an_unknown_name_are_recognised_by_content(tmp_path):
    data = [(u, i, r, 1_100_000_000 + 86_400 * (u + i)) for u, i, r, _ in rows()]
    path = write(tmp_path / "r.csv", ["user", "item", "rating", "epoch"], data)
    assert "column 'epoch' holds dates" in error_line(audit(path)[0])


def test_every_column_not_read_is_named(tmp_path):
    data = [(*row, f"Title {row[1]}", 7) for row in rows()]
    path = write(tmp_path / "r.csv", [*HEADER, "Title", "Votes"], data)
    result, _ = audit(path)
    assert result.exit_code == 0, result.output
    assert (
        f"{path}: columns Title, Votes not read (only user=CustomerID, item=MovieID, "
        "rating=Stars, date=RatedOn are)"
    ) in result.output


def test_no_dates_contradicting_a_date_mapping_is_an_error(tmp_path):
    path = write(tmp_path / "r.csv", HEADER, rows())
    result, _ = audit(path, "--no-dates", "--columns", "date=RatedOn")
    assert error_line(result) == (
        "Error: --columns date=RatedOn contradicts --no-dates; pass one of them"
    )


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("|", "pipe"), ("\t", "tab")])
def test_delimiters_are_sniffed_and_can_be_named(tmp_path, sep, name):
    path = write(tmp_path / "r.csv", HEADER, rows(), sep=sep)
    result, report = audit(path)
    assert result.exit_code == 0, result.output
    assert report["input"]["counts"]["ratings"] == len(rows())
    assert report["input"]["dates"] is True
    assert audit(path, "--delimiter", name)[0].exit_code == 0


def test_an_unsplit_file_advises_the_delimiter_and_the_advice_works(tmp_path):
    # Space-separated: no delimiter the tool knows splits it, and --columns cannot help.
    path = tmp_path / "r.txt"
    path.write_text("".join(" ".join(map(str, row)) + "\n" for row in rows()))
    line = error_line(audit(path)[0])
    assert line == (
        f"Error: {path}: the lines do not split into columns (one column: 1 1 3 2005-03-11); "
        "pass "
        "--delimiter comma, tab, semicolon or pipe"
    )
    fixed = tmp_path / "f.csv"  # the same rows, semicolon-separated, without a header
    fixed.write_text("".join(";".join(map(str, row)) + "\n" for row in rows()))
    result, report = audit(fixed, "--delimiter", "semicolon")
    assert result.exit_code == 0, result.output
    assert report["input"]["counts"]["ratings"] == len(rows())


def test_the_column_advice_works_when_followed(tmp_path):
    path = write(tmp_path / "r.csv", ["a", "b", "c", "RatedOn"], rows())
    line = error_line(audit(path)[0])
    assert line.endswith("pass --columns user=COL,item=COL,rating=COL")
    result, report = audit(path, "--columns", "user=a,item=b,rating=c")
    assert result.exit_code == 0, result.output
    assert report["input"]["dates"] is True


def test_a_delimiter_option_outside_the_four_is_a_usage_error(tmp_path):
    path = write(tmp_path / "r.csv", HEADER, rows())
    result, _ = audit(path, "--delimiter", ":")
    assert result.exit_code == 2
    assert "use comma, tab, semicolon or pipe" in result.output


def test_a_scale_the_data_leaves_half_empty_is_refused_with_the_range_seen(tmp_path):
    path = write(tmp_path / "r.csv", HEADER, rows())
    result, _ = audit(path, "--scale", "1:10:1")
    assert error_line(result) == (
        f"Error: {path}: no rating above 5.5, the middle of the declared scale 1:10:1; the "
        "ratings run from 1 to 5: declare the scale they use (e.g. --scale 1:5:1)"
    )
    result, report = audit(path, "--scale", "1:5:1")  # the advice, followed
    assert result.exit_code == 0, result.output
    assert report["input"]["scale"] == "1:5:1"


def test_a_scale_contradicting_the_format_is_refused_and_the_advice_works(tmp_path):
    path = tmp_path / "u.data"  # MovieLens 100K: 1-5 stars, by definition
    path.write_text("".join(f"{u}\t{i}\t{r}\t{880000000 + u * i}\n" for u, i, r, _ in rows()))
    result, _ = audit(path, "--scale", "1:10:1")
    assert error_line(result) == (
        f"Error: {path}: --scale 1:10:1 contradicts the MovieLens 100K scale 1:5:1; "
        "leave --scale out"
    )
    result, report = audit(path)
    assert result.exit_code == 0, result.output
    assert report["input"]["scale"] == "1:5:1"


@pytest.mark.slow
def test_movielens_100k_with_a_rated_on_header_keeps_its_risk(tmp_path):
    """The newcomer's case: the same data read with and without naming the date column."""
    source = shared("movielens-100k/u.data")
    frame = pd.read_csv(source, sep="\t", names=HEADER)
    frame["RatedOn"] = pd.to_datetime(frame["RatedOn"], unit="s").dt.strftime("%Y-%m-%d")
    path = tmp_path / "ml.csv"
    frame[["RatedOn", "Stars", "CustomerID", "MovieID"]].to_csv(path, index=False)
    out = {}
    for name, extra in [("auto", []), ("mapped", ["--columns", "date=RatedOn"])]:
        json_path = tmp_path / f"{name}.json"
        result = CliRunner().invoke(
            main,
            [
                "audit",
                str(path),
                "-p",
                "balanced",
                "-q",
                "--seed",
                "3",
                "--json",
                str(json_path),
                *extra,
            ],
        )
        assert result.exit_code == 3, result.output  # balanced fails on this data
        out[name] = json.loads(json_path.read_text())
    assert out["auto"]["input"]["dates"] is True
    first = [r["linkage"][0]["original"]["reidentified"] for r in out.values()]
    assert first[0] == first[1]
    assert first[0] > 0.25  # 34.3% measured with dates; 11.6% when they were dropped


def test_the_date_hint_quotes_a_name_for_the_shell(tmp_path):
    path = write(tmp_path / "r.csv", [*HEADER[:3], "Wann genau"], rows())
    assert "pass --columns 'date=Wann genau' to read them" in error_line(audit(path)[0])
    _, report = audit(path, "--columns", "date=Wann genau")
    assert report["input"]["dates"] is True


def test_the_duplicates_advice_works_when_followed(tmp_path):
    data = [*rows(), (1, 1, 5, "2005-09-30")]  # user 1 rates item 1 twice
    path = write(tmp_path / "r.csv", HEADER, data)
    line = error_line(audit(path)[0])
    assert line.endswith("pass --duplicates keep-last to keep the last one")
    result, report = audit(path, "--duplicates", "keep-last")
    assert result.exit_code == 0, result.output
    assert report["input"]["counts"]["ratings"] == len(rows())


def test_the_limit_advice_works_when_followed(tmp_path):
    header = [*HEADER, *(f"extra{k}" for k in range(1_001))]
    data = [(*row, *(0,) * 1_001) for row in rows()]
    path = write(tmp_path / "r.csv", header, data)
    line = error_line(audit(path)[0])
    assert line.endswith("raise the limit with --limit columns=N")
    result, _ = audit(path, "--limit", "columns=2000")
    assert result.exit_code == 0, result.output


def test_randomized_response_stays_on_the_scale_the_data_uses(tmp_path):
    """No --scale: the scale is the data's (2 to 4 here), and no noisy value leaves it."""
    import numpy as np

    from policies.steps import PerturbRatings
    from publisher.readers import read_ratings

    data = [(u, i, 2 + (u * i) % 3, d) for u, i, _, d in rows(40, 6)]
    ratings = read_ratings(write(tmp_path / "r.csv", HEADER, data))
    assert str(ratings.scale) == "2:4:1"
    noisy = PerturbRatings(epsilon=0.1).transform(ratings, np.random.default_rng(0))
    assert set(noisy.frame["rating"].tolist()) == {2.0, 3.0, 4.0}
