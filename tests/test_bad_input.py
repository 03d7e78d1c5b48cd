"""The bad-input corpus (tests/data/bad, tests/data/bad_policies), driven through the CLI.

Each file gives one documented `Error: <file>: ...` line, exit code 1, no traceback,
and nothing written: no output folder and no temporary folder.
"""

import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.core.errors import InputError
from publisher.demo import demo_data
from publisher.readers.limits import ReadLimits, parse_limits

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
    "trailing_delimiter.csv": "line 2 has 4 fields but the header names 3 columns (a trailing "
    "delimiter, or 1 column without a name); name every column in the header or remove the "
    "extra fields",
    "unnamed_column.csv": "line 2 has 4 fields but the header names 3 columns (1 column "
    "without a name); name every column in the header or remove the extra fields",
    "day_numbers.csv": "date column 'date' holds integers from 10,956 to 12,773: as Unix "
    "seconds they would fall in 1970-1973 or after 2100, where no ratings are; declare their "
    "unit with --date-format days (days since 1970-01-01), yyyymmdd, unix-seconds or unix-ms",
    "impossible_yyyymmdd.csv": "line 3: date 20041340 is not a YYYYMMDD calendar date",
    "mv_0000005.txt": "line 3: id '007' has a leading zero; read as a number it would be the "
    "same id as one without it, so it is refused",
    "unknown_columns.csv": "cannot tell which column holds user and item and rating "
    f"(columns: alpha, beta, gamma); {COLUMNS}",
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
    "not_really.parquet": "not a readable Parquet file (Parquet magic bytes not found in "
    "footer. Either the file is corrupted or this is not a parquet file.)",
    "wrong_types.parquet": "column 'rating' must be numeric, not large_string",
    "float_items.parquet": "column 'item' must hold integers or strings, not double",
    "no_rating_column.parquet": f"cannot tell which column holds rating (columns: user, item); {COLUMNS}",
    "no_rating_files": "folder holds no rating files (expected training_set/mv_*.txt, mv_*.txt, "
    "combined_data_*.txt, ratings.csv, ratings.dat or u.data)",
}

BAD_POLICIES = {
    "unknown_key.yaml": "policy: unknown key 'color'; allowed: name, description, licence, "
    "steps, audits, gate, aggregates, model",
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
    "deep_nesting.yaml": "nested too deeply to be a policy",
    "gate_without_microdata.yaml": "gate.max_unique_fraction: aggregates.microdata is false, so "
    "no ratings are released to measure; remove this threshold",
    "decoys_before_noise.yaml": "steps[1].insert_ratings: decoys copy real rating values, so "
    "before steps[2].perturb_ratings one value would be released several times with "
    "independent noise and its epsilon would not hold; move insert_ratings after perturb_ratings",
    "statistic_twice.yaml": "aggregates.statistics[2]: item_count is listed twice (also at "
    "aggregates.statistics[0]); each statistic may appear once",
    "duplicate_gate.yaml": "line 9: key 'gate' given twice",
    "catalogue_outside.yaml": "aggregates.domain.items.catalogue: "
    "'../../../../../../../../etc/passwd' leads outside the policy's folder "
    f"{(DATA / 'bad_policies').resolve()}; a file a policy names must be inside it",
    "catalogue_absolute.yaml": "aggregates.domain.items.catalogue: '/proc/self/environ' is an "
    "absolute path; a file a policy names must be inside the policy's folder, named "
    "relative to it",
    "no_gate.yaml": "gate: the policy sets no gate, so a release would be published whatever "
    "its risk; set max_reidentification_rate (or max_unique_fraction, max_decoy_auc), or "
    "write 'gate: none' to publish without one on purpose",
    "huge_jitter.yaml": "steps[1].jitter_dates.max_days: must be an integer in [0, 3,653], "
    "got 1000000000000",
    "linkable_without_budget.yaml": "steps[0].pseudonymize_users.total_epsilon: must be a "
    "number > 0 with linkable: true (the noise of linked releases composes), got null",
}


def test_corpus_is_large_enough():
    assert len(BAD_INPUT) + len(BAD_POLICIES) >= 40
    assert sorted(p.name for p in (DATA / "bad").iterdir()) == sorted(BAD_INPUT)
    assert sorted(p.name for p in (DATA / "bad_policies").iterdir()) == sorted(BAD_POLICIES)


def run_release(input_path, policy, out):
    return CliRunner().invoke(
        main,
        ["release", str(input_path), "-p", str(policy), "-o", str(out), "--scale", "1:5:1"],
        env={"PUBLISHER_KEY": None},
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


# ------------------------------------------------------------ hostile inputs
# Generated at test time (nothing of this size is committed); bench/bombs.py builds the
# full-size versions and prints each one's peak memory.
def gzip_member(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def zeros_gz(path):
    path.write_bytes(gzip_member(bytes(1 << 20)) * 64)  # 64 KB inflating to 64 MB


def repeated_line_gz(path):
    path.write_bytes(gzip_member(b"7,3,4,2005-01-01\n" * 2_000_000))  # 34 MB of one line


def nul_bytes(path):
    path.write_bytes(bytes(1 << 20))


def long_value(path):
    path.write_text("user,item,rating\n1,2," + "9" * 5000 + "x\n")


def wide_header(path):
    path.write_text(",".join(f"c{k}" for k in range(1500)) + "\n")


def many_row_groups(path):
    table = pa.table({"user": list(range(150)), "item": [1] * 150, "rating": [3.0] * 150})
    pq.write_table(table, path, row_group_size=1)


def dense_parquet(path):
    n = 2_000_000  # constant columns: a few KB on disk for millions of rows
    table = pa.table({"user": pa.array(np.zeros(n, np.int32)), "item": pa.array(np.ones(n, np.int32)),
                      "rating": pa.array(np.full(n, 3.0, np.float32))})  # fmt: skip
    pq.write_table(table, path)


RAISE = "; raise the limit with --limit {}=N"
HOSTILE = {
    "zeros.csv.gz": (zeros_gz, [], "line 1 is longer than 65,536 bytes" + RAISE.format("line_bytes")),
    "repeated.csv.gz": (repeated_line_gz, [], "line 2: " + DUPLICATE.replace("line 2", "line 1")),
    "repeated-keep-last.csv.gz": (
        repeated_line_gz, ["--duplicates", "keep-last"],
        "decompresses to more than 20 times its size" + RAISE.format("expansion"),
    ),
    "nul.csv": (nul_bytes, [], "line 1 is longer than 65,536 bytes" + RAISE.format("line_bytes")),
    "long-value.csv": (long_value, [], "line 2: rating '" + "9" * 40 + "...' is not a number"),
    "wide.csv": (wide_header, [], "line 1 has 1,500 columns, more than 1,000" + RAISE.format("columns")),
    "groups.parquet": (
        many_row_groups, ["--limit", "row_groups=100"],
        "150 Parquet row groups, more than 100" + RAISE.format("row_groups"),
    ),
    "footer.parquet": (
        many_row_groups, ["--limit", "footer_bytes=1000"],
        "Parquet metadata of {footer} bytes, more than 1,000" + RAISE.format("footer_bytes"),
    ),
    "dense.parquet": (
        dense_parquet, [],
        "declares 2,000,000 rows in {size} bytes, more than 20 rows a byte" + RAISE.format("expansion"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_fails_fast_in_one_line(name, tmp_path):
    build, options, message = HOSTILE[name]
    folder = tmp_path / "input"
    folder.mkdir()
    path = folder / name
    build(path)
    if "{" in message:
        footer = int.from_bytes(path.read_bytes()[-8:-4], "little")
        message = message.format(footer=f"{footer:,}", size=f"{path.stat().st_size:,}")
    out = tmp_path / "work"
    out.mkdir()
    result = CliRunner().invoke(
        main,
        [
            "release",
            str(path),
            "-p",
            "balanced",
            "-o",
            str(out / "out"),
            "--scale",
            "1:5:1",
            *options,
        ],
        env={"PUBLISHER_KEY": None},
    )
    assert_clean_failure(result, path, message, out)
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(line) - len(str(path)) < 150


def test_limits_can_be_raised():
    assert parse_limits(["expansion=50", "line_bytes=1_000_000"]) == ReadLimits(
        expansion=50, line_bytes=1_000_000
    )
    with pytest.raises(InputError, match="--limit must look like NAME=N"):
        parse_limits(["speed=1"])
    with pytest.raises(InputError, match="--limit expansion: must be a whole number >= 1, got 0"):
        parse_limits(["expansion=0"])


def test_raised_limit_lets_a_legitimate_input_through(tmp_path):
    path = tmp_path / "wide.csv"
    names = ["user", "item", "rating"] + [f"c{k}" for k in range(1200)]
    rows = [
        ",".join([f"u{u}", str(i), str(1 + (u + i) % 5)] + ["0"] * 1200)
        for u in range(40)
        for i in range(1, 9)
    ]
    path.write_text("\n".join([",".join(names), *rows]) + "\n")
    refused = CliRunner().invoke(main, ["audit", str(path), "-p", "none", "-q"])
    assert refused.exit_code == 1
    accepted = CliRunner().invoke(
        main,
        ["audit", str(path), "-p", "none", "-q", "--limit", "columns=2000", "--scale", "1:5:1"],
    )
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.slow
def test_full_size_zero_bomb_stays_small(tmp_path):
    """4.5 MB of gzip inflating to 4.7 GB: refused in seconds, peak RSS far under 2 GiB."""
    path = tmp_path / "zeros.csv.gz"
    path.write_bytes(gzip_member(bytes(1 << 20)) * 4500)
    env = {k: v for k, v in os.environ.items() if k != "PUBLISHER_KEY"}
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "audit", str(path), "-p", "none", "-q"],
        stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    err = process.stderr.read().decode()
    process.stderr.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 1
    assert "line 1 is longer than 65,536 bytes" in err
    assert usage.ru_maxrss / 2**20 < 1.0  # GiB; 0.29 measured (bench/bombs.py)


def test_a_policy_error_quotes_at_most_40_characters_of_the_input(tmp_path):
    # Issue 24.14: `--policy /etc/passwd` printed most of the file.
    secret = "root:x:0:0:root:/root:/bin/bash " + "daemon:x:1:1:daemon:/usr/sbin " * 40
    policy = tmp_path / "passwd"
    policy.write_text(secret)
    result = CliRunner().invoke(main, ["policy", "check", str(policy)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {policy}: policy: must be a mapping, got 'root:x:0:0:root:/root:/bin/bash "
        "daemon:x...'\n"
    )
    key = tmp_path / "keyed.yaml"
    key.write_text("name: p\n" + "x" * 500 + ": 1\n")
    result = CliRunner().invoke(main, ["policy", "check", str(key)])
    assert result.stderr.count("x") < 60


AGG = "aggregates: {{epsilon: {eps}, max_ratings_per_user: {bound}, statistics: [{stat}], domain: {{{dom}}}}}"
OUT_OF_RANGE = {
    "jitter-days": (
        "steps: [{pseudonymize_users: {}}, {jitter_dates: {max_days: 1000000000000}}]",
        "steps[1].jitter_dates.max_days: must be an integer in [0, 3,653], got 1000000000000",
    ),
    "redate-days": (
        "steps: [{pseudonymize_users: {}}, {redate_ratings: {fraction: 0.5, max_days: 10000000000}}]",
        "steps[1].redate_ratings.max_days: must be an integer in [1, 3,653], got 10000000000",
    ),
    "date-tolerance": (
        "audits: {adversaries: [{known_items: 2, date_tolerance_days: 100000000000000000000}]}",
        "audits.adversaries[0].date_tolerance_days: must be an integer in [0, 36,525], got "
        "100000000000000000000",
    ),
    "rating-tolerance": (
        "audits: {adversaries: [{known_items: 2, rating_tolerance: 1.0e+300}]}",
        "audits.adversaries[0].rating_tolerance: must be a number in [0, 1,000], got 1e+300",
    ),
    "contribution-bound": (
        AGG.format(eps=1, bound=100000000000000, stat="rating_histogram", dom="scale: '1:5:1'"),
        "aggregates.max_ratings_per_user: must be an integer in [1, 1,000,000], got 100000000000000",
    ),
    "tiny-epsilon": (
        AGG.format(eps="1.0e-300", bound=5, stat="rating_histogram", dom="scale: '1:5:1'"),
        "aggregates.epsilon: must be a number >= 0.0001, got 1e-300",
    ),
    "tiny-scale-step": (
        AGG.format(eps=1, bound=5, stat="rating_histogram", dom="scale: '0:5:0.0000001'"),
        "aggregates.domain.scale: rating scale 0:5:1e-07: at most 10,001 values, each within "
        "-1,000,000 to 1,000,000",
    ),
    "huge-scale": (
        AGG.format(eps=1, bound=5, stat="rating_histogram", dom="scale: '0:1e300:1e299'"),
        "aggregates.domain.scale: rating scale 0:1e+300:1e+299: at most 10,001 values, each "
        "within -1,000,000 to 1,000,000",
    ),
    "item-range-at-int64-edge": (
        AGG.format(
            eps=1, bound=5, stat="item_count",
            dom="items: {range: [9223372036854775800, 9223372036854775807]}",
        ),
        "aggregates.domain.items.range: ids must lie within -10**18 to 10**18, got a list",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("body", "message"), OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
def test_policy_check_refuses_every_value_release_could_not_run(tmp_path, body, message):
    # Issue 24.12: these passed `policy check` and crashed `release` with a traceback.
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\ngate: none\n{body}\n")
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: {message}\n"


def test_policy_check_refuses_what_release_refuses_about_the_policy(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nsteps: []\ngate: none\n")
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 1
    assert "the policy has no pseudonymize_users step" in result.stderr
    assert CliRunner().invoke(main, ["policy", "check", str(path), "--for", "audit"]).exit_code == 0


def test_a_policy_without_a_gate_is_refused_and_gate_none_says_so(tmp_path):
    # Issue 24.20: no gate: published everything, exit 0, no warning.
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nsteps: [{pseudonymize_users: {}}]\n")
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}: gate: the policy sets no gate, so a release would be published "
        "whatever its risk; set max_reidentification_rate (or max_unique_fraction, "
        "max_decoy_auc), or write 'gate: none' to publish without one on purpose\n"
    )
    path.write_text("name: p\nsteps: [{pseudonymize_users: {}}]\ngate: {max_rmse_increase: 1}\n")
    assert "the policy sets no risk threshold" in (
        CliRunner().invoke(main, ["policy", "check", str(path)]).stderr
    )
    path.write_text("name: p\nsteps: [{pseudonymize_users: {}}]\ngate: none\n")
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.stdout.endswith("; gate: none (published without a threshold)\n")
