"""The bad-input corpus (tests/data/bad, tests/data/bad_policies), driven through the CLI.

Each file gives one documented `Error: <file>: ...` line, exit code 1, no traceback,
and nothing written: no output folder and no temporary folder.
"""

from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.demo import demo_data

DATA = Path(__file__).parent / "data"
ONE_TO_FIVE = "rating {} is off the scale 1:5:1 (MIN:MAX:STEP)"
DUPLICATE = (
    "second rating of the same item by the same user (first at line 2); "
    "pass --duplicates keep-last to keep the last one"
)
COLUMNS = "pass --columns user=COL,item=COL,rating=COL"

BAD_INPUT = {
    "truncated_line.csv": "line 3: missing rating",
    "extra_fields.csv": "line 3: expected 3 fields, found 5",
    "non_utf8.csv": "line 3: not valid UTF-8",
    "binary_garbage.csv": "line 2: not valid UTF-8",
    "empty.csv": "file is empty",
    "whitespace_only.csv": "file is empty",
    "header_only.csv": "no ratings (the file holds only a header)",
    "header_only_crlf.csv": "no ratings (the file holds only a header)",
    "nan_rating.csv": "line 2: rating 'nan' is not a number",
    "inf_rating.csv": "line 2: rating inf is not a finite number",
    "negative_rating.csv": "line 2: " + ONE_TO_FIVE.format(-1),
    "off_scale_rating.csv": "line 3: " + ONE_TO_FIVE.format(6),
    "half_star_on_integer_scale.csv": "line 2: " + ONE_TO_FIVE.format(3.5),
    "text_rating.csv": "line 2: rating 'good' is not a number",
    "missing_user.csv": "line 2: missing user",
    "future_date.csv": "line 2: date in the future",
    "unparseable_date.csv": "line 2: unparseable date 'yesterday'",
    "before_1900.csv": "line 2: date before 1900-01-01",
    "impossible_date.csv": "line 2: unparseable date '2005-02-30'",
    "duplicate_pair.csv": "line 4: " + DUPLICATE,
    "unknown_columns.csv": "cannot tell which column holds user and item and rating "
    f"(columns: alpha, beta, gamma); {COLUMNS}",
    "comma_in_tsv.tsv": "cannot tell which column holds user and item and rating "
    f"(columns: user,item,rating); {COLUMNS}",
    "bad_separator.dat": "line 2: missing rating",
    "u_letter.data": "line 2: rating 'x' is not a number",
    "mv_0000001.txt": "line 1: expected a 'MovieID:' line, got '1,3,2005-09-06'",
    "mv_0000002.txt": "line 3: expected 'CustomerID,Rating,YYYY-MM-DD' or 'MovieID:', "
    "got '1;4;2005-09-07'",
    "mv_0000003.txt": "line 2: unparseable date '2005-13-06'",
    "mv_0000004.txt": "line 2: rating '' is not a number",
    "combined_data_9.txt": "line 3: " + DUPLICATE,
    "truncated.csv.gz": "cannot read (the gzip stream is truncated)",
    "zero_byte.parquet": "file is empty",
    "not_really.parquet": "not a readable Parquet file (Could not open Parquet input source : "
    "Parquet magic bytes not found in footer. Either the file is corrupted "
    "or this is not a parquet file.)",
    "wrong_types.parquet": "column 'rating' must be numeric, not large_string",
    "float_items.parquet": "column 'item' must hold integers or strings, not double",
    "no_rating_column.parquet": f"cannot tell which column holds rating (columns: user, item); {COLUMNS}",
    "no_rating_files": "folder holds no rating files (expected training_set/mv_*.txt, mv_*.txt, "
    "combined_data_*.txt, ratings.csv, ratings.dat or u.data)",
}

BAD_POLICIES = {
    "unknown_key.yaml": "policy: unknown key 'color'; allowed: name, description, licence, "
    "steps, audits, gate, aggregates",
    "unknown_step_key.yaml": "steps[0].drop_rare_items: unknown key 'max_raters'; allowed: min_raters",
    "wrong_type.yaml": "steps[0].cap_user_ratings.max_ratings: must be an integer >= 1, got 'many'",
    "negative_epsilon.yaml": "steps[0].perturb_ratings.epsilon: must be a number > 0, got -0.5",
    "fraction_above_one.yaml": "steps[0].sample_users.fraction: must be a number in (0, 1], got 1.5",
    "alias_bomb.yaml": "line 2: YAML aliases are not allowed in a policy",
    "python_tag.yaml": "line 1: invalid YAML (could not determine a constructor for the tag "
    "'tag:yaml.org,2002:python/object/apply:os.system')",
    "not_a_mapping.yaml": "policy: must be a mapping, got a list",
    "bad_yaml.yaml": "line 3: invalid YAML (expected the node content, but found '<stream end>')",
    "not_utf8.yaml": "not valid UTF-8",
    "overspent.yaml": "aggregates.epsilon: aggregates.statistics[1].rating_histogram overspends "
    "the privacy budget",
}


def test_corpus_is_large_enough():
    assert len(BAD_INPUT) + len(BAD_POLICIES) >= 40
    assert sorted(p.name for p in (DATA / "bad").iterdir()) == sorted(BAD_INPUT)
    assert sorted(p.name for p in (DATA / "bad_policies").iterdir()) == sorted(BAD_POLICIES)


def run_release(input_path, policy, out):
    return CliRunner().invoke(
        main,
        ["release", str(input_path), "-p", str(policy), "-o", str(out), "--scale", "1:5:1"],
        env={"PUBLISHER_KEY": ""},
    )


def assert_clean_failure(result, path, message, tmp_path):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # handled: no traceback
    assert "Traceback" not in result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert error_lines == [f"Error: {path}: {message.splitlines()[0]}"]
    assert list(tmp_path.iterdir()) == []  # no output folder, no temporary folder


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input(name, tmp_path):
    path = DATA / "bad" / name
    result = run_release(path, "balanced", tmp_path / "out")
    assert_clean_failure(result, path, BAD_INPUT[name], tmp_path)


@pytest.mark.parametrize("name", sorted(BAD_POLICIES))
def test_bad_policy(name, tmp_path):
    path = DATA / "bad_policies" / name
    result = run_release(demo_data(), path, tmp_path / "out")
    assert_clean_failure(result, path, BAD_POLICIES[name], tmp_path)
    checked = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert checked.exit_code == 1
    assert checked.stderr.startswith(f"Error: {path}: {BAD_POLICIES[name]}")


def test_overspent_budget_names_requested_remaining_difference(tmp_path):
    path = DATA / "bad_policies" / "overspent.yaml"
    result = run_release(demo_data(), path, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-4:] == [
        f"Error: {path}: aggregates.epsilon: aggregates.statistics[1].rating_histogram "
        "overspends the privacy budget",
        "  Requested:  epsilon=0.4, delta=0",
        "  Remaining:  epsilon=0.2, delta=0",
        "  Difference: epsilon=0.2, delta=0",
    ]
    assert list(tmp_path.iterdir()) == []
