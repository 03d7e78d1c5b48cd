"""``publisher tune`` through the CLI: the contract of exit codes and files."""

import json

from click.testing import CliRunner

from publisher.cli import main

from .conftest import KEPT

SPACE = "objective: ratings_kept\ndrop_rare_items.min_raters: [null, 2]\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_recommendation_exits_0_and_releases_through_its_gate(tmp_path, known_csv, base_file):
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "tuning"
    result = run("tune", known_csv, "-p", base_file, "--space", space, "--out", out,
                 "--seed", 5, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "frontier.html", "frontier.json", "recommended.yaml",
    ]  # fmt: skip
    frontier = json.loads((out / "frontier.json").read_text())
    assert frontier["schema"] == "publisher.frontier/3"
    assert frontier["search"]["seed"] == 5
    assert frontier["search"]["candidates"] == 2
    assert frontier["recommended"]["knobs"] == {"drop_rare_items.min_raters": 2}
    assert frontier["recommended"]["reaudit"]["verdict"] == "pass"
    assert frontier["recommended"]["search"]["utility"]["ratings_kept"] == KEPT
    assert set(frontier["presets"]) == {
        "balanced",
        "dp-recommender",
        "netflix-2006",
        "none",
        "strict",
    }
    # a model release has no ratings table to place on the frontier's axes
    assert frontier["presets"]["dp-recommender"]["error"] == (
        "not compared: it releases no ratings table"
    )
    html = (out / "frontier.html").read_text()
    assert "Recommended: candidate #1" in html
    assert html.count("data:image/svg+xml;base64,") == 1  # self-contained
    assert "#1 min_raters=2" in result.output  # the terminal table
    text = (out / "recommended.yaml").read_text()
    assert text.startswith("# Recommended by publisher tune")
    assert "ratings kept 76.9%" in text
    # the organizer's next command: a release of the recommendation passes its gate
    bundle = tmp_path / "release"
    released = run("release", known_csv, "-p", out / "recommended.yaml", "--out", bundle, "-q")
    assert released.exit_code == 0, released.output
    report = json.loads((bundle / "report.json").read_text())
    assert report["verdict"] == "pass"
    assert report["policy"]["name"] == "base-tuned"
    assert report["released"]["ratings"] == 2000


def test_no_passing_candidate_exits_3_with_the_frontier_and_no_policy(
    tmp_path, known_csv, base_file
):
    space = tmp_path / "space.yaml"
    space.write_text("perturb_ratings.epsilon: [null, 4]\n")  # leaves the rare items
    out = tmp_path / "tuning"
    result = run("tune", known_csv, "-p", base_file, "--space", space, "--out", out,
                 "--seed", 5, "-q")  # fmt: skip
    assert result.exit_code == 3, result.output
    assert sorted(p.name for p in out.iterdir()) == ["frontier.html", "frontier.json"]
    frontier = json.loads((out / "frontier.json").read_text())
    assert frontier["recommended"] is None
    assert {c["status"] for c in frontier["candidates"]} == {"screened-out"}
    # the finding, in one line: how close the space came and where it ends
    least = frontier["no_recommendation"]["least_risky"]
    figures = {c["number"]: c["risk_upper"] for c in frontier["candidates"]}
    assert least["risk_upper"] == min(figures.values())
    # epsilon 4 did no better (the rare items single customers out): the knob that
    # would is not in this space, and comes first among those not searched
    assert frontier["no_recommendation"]["next"][0] == (
        "add drop_rare_items.min_raters (not searched)"
    )
    last = result.output.splitlines()[-1]
    assert last.startswith(f"Error: {out}: no candidate passed the gate of base (0 audited")
    assert f"the least risky, #{least['candidate']} (perturb_ratings.epsilon=" in last
    assert "next: add drop_rare_items.min_raters (not searched); add cap_user" in last
    assert last.endswith(
        f"releases the DP aggregates alone; the frontier is in {out}/frontier.html"
    )
    page = (out / "frontier.html").read_text()
    assert "No recommendation" in page
    assert "add drop_rare_items.min_raters (not searched)" in page


def test_an_existing_out_folder_is_never_touched(tmp_path, known_csv, base_file):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    result = run("tune", known_csv, "-p", base_file, "--out", out, "-q")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {out}: already exists; tune writes a new folder: name another --out\n"
    )
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_bad_space_is_one_line_and_writes_nothing(tmp_path, known_csv, base_file):
    space = tmp_path / "space.yaml"
    space.write_text("coarsen_dates.to: [decade]\n")
    out = tmp_path / "tuning"
    result = run("tune", known_csv, "-p", base_file, "--space", space, "--out", out)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {space}: coarsen_dates.to[0]: must be one of week, month, quarter, year, "
        "got 'decade' (or, in a space, null or drop)\n"
    )
    assert not out.exists()


def test_budget_minutes_must_be_positive(tmp_path, known_csv, base_file):
    result = run("tune", known_csv, "-p", base_file, "--out", tmp_path / "t",
                 "--budget-minutes", 0)  # fmt: skip
    assert result.exit_code == 1
    assert result.output == "Error: --budget-minutes: must be > 0, got 0.0\n"


def test_each_candidates_lines_show_under_verbose_only(tmp_path, known_csv, base_file):
    """Off a terminal: a line per tenth of the candidates by default; with -v a line per
    candidate and its evaluation's step and audit lines."""
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    plain = CliRunner().invoke(main, [str(a) for a in (
        "tune", known_csv, "-p", base_file, "--space", space, "--out", tmp_path / "a",
        "--seed", 5)])  # fmt: skip
    assert plain.exit_code == 0, plain.output
    assert "tune: 1/2 candidates (50%)" in plain.stderr
    assert "tune: 2/2 candidates (100%)" in plain.stderr
    assert "[1/2]" not in plain.stderr
    assert "step drop_rare_items" not in plain.stderr
    loud = CliRunner().invoke(main, [str(a) for a in (
        "tune", known_csv, "-p", base_file, "--space", space, "--out", tmp_path / "b",
        "--seed", 5, "-v")])  # fmt: skip
    assert loud.exit_code == 0, loud.output
    assert "[1/2] #0" in loud.stderr
    assert "step drop_rare_items" in loud.stderr
    assert "tune: 1/2 candidates" not in loud.stderr
    quiet = run("tune", known_csv, "-p", base_file, "--space", space, "--out", tmp_path / "c",
                "--seed", 5, "-q")  # fmt: skip
    assert "candidates (" not in quiet.stderr


def test_an_interrupted_tune_writes_the_partial_frontier_and_exits_130(
    tmp_path, known_csv, base_file, monkeypatch
):
    from publisher.progress import CandidateProgress

    def interrupt(self, trial, k, n):
        raise KeyboardInterrupt

    monkeypatch.setattr(CandidateProgress, "__call__", interrupt)
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "tuning"
    result = CliRunner().invoke(main, [str(a) for a in (
        "tune", known_csv, "-p", base_file, "--space", space, "--out", out, "--seed", 5)])  # fmt: skip
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines()[-1] == "Interrupted"
    assert f"interrupted after 1 of 2 candidates: the partial frontier is in {out}" in (
        result.stderr
    )
    assert sorted(p.name for p in out.iterdir()) == ["frontier.html", "frontier.json"]
    frontier = json.loads((out / "frontier.json").read_text())
    assert frontier["search"]["interrupted"] is True
    assert "interrupted: a partial frontier" in (out / "frontier.html").read_text()
