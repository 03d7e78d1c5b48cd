"""The organizer's own files survive every --out the tool is pointed at."""

import hashlib
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.demo import demo_data
from publisher.engine.bundle import STAGING_MARKER
from publisher.engine.output import check_output, owned
from publisher.engine.staging import output_lock, staging
from publisher.engine.verify import verify_bundle

from tests.test_cli import SMALL

engine_release = importlib.import_module("publisher.engine.release")  # the module, not the function

pytestmark = pytest.mark.slow  # real releases: run with -m slow or the full suite

BASE = "name: open\nsteps: [{pseudonymize_users: {}}]\naudits: {targets: 20}\n"
OPEN = BASE + "gate: none\n"
FAILING = BASE.replace("open", "failing") + "gate: {max_reidentification_rate: 0.0}\n"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links included, not followed) with its SHA-256."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = "link:" + os.readlink(path)
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "folder"
    return found


@pytest.fixture
def user_files(tmp_path):
    """A folder of somebody's work, with the ratings file inside it."""
    home = tmp_path / "work"
    (home / "thesis").mkdir(parents=True)
    (home / "thesis" / "chapter1.tex").write_text("\\chapter{Intro}\n")
    (home / ".bashrc").write_text("export PATH=$PATH\n")
    (home / "ratings.csv").write_text(SMALL)
    (home / "open.yaml").write_text(OPEN)
    (home / "failing.yaml").write_text(FAILING)
    return home


def run(*args, cwd=None, env=None):
    runner = CliRunner()
    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        return runner.invoke(main, [str(a) for a in args], env=env or {"PUBLISHER_KEY": None})
    finally:
        os.chdir(previous)


def release(home, out, *extra, policy="open.yaml", cwd=None, env=None):
    return run(
        "release", home / "ratings.csv", "-p", home / policy, "-o", out,
        "--scale", "1:5:1", "-q", *extra, cwd=cwd, env=env,
    )  # fmt: skip


@pytest.mark.parametrize("policy", ["open.yaml", "failing.yaml"])
@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("input-folder", "--out may not be or contain the input"),
        ("parent-of-input", "--out may not be or contain the input"),
        ("input-file", "--out may not be or contain the input"),
        ("cwd", "--out may not be or contain the current folder"),
        ("parent-of-cwd", "--out may not be or contain the current folder"),
        ("home", "--out may not be or contain the home folder"),
        ("root", "--out may not be the filesystem root"),
    ],
)
def test_out_that_would_hold_user_files_is_refused(user_files, policy, where, message):
    home = user_files
    out = {
        "input-folder": home,
        "parent-of-input": home.parent,
        "input-file": home / "ratings.csv",
        "cwd": Path("."),
        "parent-of-cwd": Path(".."),
        "home": Path("~").expanduser(),
        "root": Path("/"),
    }[where]
    before = snapshot(home)
    # The current folder lies inside the user's folder only for the cases about it.
    cwd = home / "thesis" if "cwd" in where else Path("/")
    result = release(home, out, "--overwrite", policy=policy, cwd=cwd)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert result.output.startswith("Error: ")
    assert result.output.count("\n") == 1
    assert snapshot(home) == before


def test_home_is_refused_even_when_elsewhere(user_files, monkeypatch):
    monkeypatch.setenv("HOME", str(user_files))
    with pytest.raises(Exception, match="may not be or contain the home folder"):
        check_output(user_files, overwrite=True)


@pytest.mark.parametrize("policy", ["open.yaml", "failing.yaml"])
def test_overwrite_refuses_a_folder_of_user_files(user_files, tmp_path, policy):
    home = user_files
    before = snapshot(home)
    result = release(home, home / "thesis", "--overwrite", policy=policy, cwd=tmp_path)
    assert result.exit_code == 1
    assert "not replaced: the tool replaces only a bundle it wrote" in result.output
    assert "(no MANIFEST.json; not a bundle)" in result.output
    assert snapshot(home) == before


def test_overwrite_refuses_a_bundle_with_a_user_file_added(user_files, tmp_path):
    home, out = user_files, tmp_path / "bundle"
    assert release(home, out, cwd=tmp_path).exit_code == 0
    (out / "my-notes.txt").write_text("mine")
    before = snapshot(out)
    result = release(home, out, "--overwrite", cwd=tmp_path)
    assert result.exit_code == 1
    assert "does not verify as one (extra: my-notes.txt)" in result.output
    assert snapshot(out) == before


def test_overwrite_replaces_its_own_bundle(user_files, tmp_path):
    home, out = user_files, tmp_path / "bundle"
    assert release(home, out, cwd=tmp_path).exit_code == 0
    first = json.loads((out / "MANIFEST.json").read_text())["created"]
    assert owned(out)
    result = release(home, out, "--overwrite", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert verify_bundle(out).ok
    assert json.loads((out / "MANIFEST.json").read_text())["created"] >= first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "bundle.review", "work"]


def test_rejected_release_never_touches_unrelated_rejected_folder(user_files, tmp_path):
    home, out = user_files, tmp_path / "bundle"
    rejected = tmp_path / "bundle.rejected"
    rejected.mkdir()
    (rejected / "paper.pdf").write_bytes(b"%PDF-1.7 mine")
    before = snapshot(rejected)
    result = release(home, out, policy="failing.yaml", cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert "bundle.rejected: already exists; pass --overwrite to replace it" in result.output
    result = release(home, out, "--overwrite", policy="failing.yaml", cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert "bundle.rejected: not replaced: the tool replaces only a bundle it wrote" in (
        result.output
    )
    assert snapshot(rejected) == before
    assert not out.exists()


def test_rejected_release_replaces_its_own_rejected_report_with_overwrite(user_files, tmp_path):
    home, out = user_files, tmp_path / "bundle"
    assert release(home, out, policy="failing.yaml", cwd=tmp_path).exit_code == 3
    assert owned(tmp_path / "bundle.rejected")
    again = release(home, out, policy="failing.yaml", cwd=tmp_path)
    assert again.exit_code == 1
    assert "bundle.rejected: already exists; pass --overwrite to replace it" in again.output
    assert release(home, out, "--overwrite", policy="failing.yaml", cwd=tmp_path).exit_code == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.rejected", "work"]
    # a release that passes removes the stale rejected report (it proved it ours first)
    assert release(home, out, "--overwrite", cwd=tmp_path).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "bundle.review", "work"]


def test_a_rejected_release_never_replaces_a_published_bundle_put_in_its_place(
    user_files, tmp_path
):
    # Issue 24.6: a bundle that verifies, moved to R.rejected, was deleted by a rejected run.
    home, out = user_files, tmp_path / "bundle"
    assert release(home, tmp_path / "kept", cwd=tmp_path).exit_code == 0
    (tmp_path / "kept").rename(tmp_path / "bundle.rejected")
    before = snapshot(tmp_path / "bundle.rejected")
    for extra in ((), ("--overwrite",)):
        result = release(home, out, *extra, policy="failing.yaml", cwd=tmp_path)
        assert result.exit_code == 1, result.output
        assert snapshot(tmp_path / "bundle.rejected") == before
    assert "it is a bundle, not a rejected folder" in result.output


def test_failed_run_removes_the_parents_it_created(user_files, tmp_path):
    (user_files / "ratings.csv").write_text("user,item,rating\na,1,9\n")
    result = release(user_files, tmp_path / "new" / "deeper" / "out", cwd=tmp_path)
    assert result.exit_code == 1
    assert "rating 9 is off the scale" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["work"]


def test_out_symlink_is_refused(user_files, tmp_path):
    (tmp_path / "link").symlink_to(user_files / "thesis")
    before = snapshot(user_files)
    result = release(user_files, tmp_path / "link", "--overwrite", cwd=tmp_path)
    assert result.exit_code == 1
    assert "is a symbolic link" in result.output
    assert snapshot(user_files) == before


def test_demo_refuses_to_replace_user_folders(tmp_path):
    (tmp_path / "strict").mkdir()
    (tmp_path / "strict" / "keep.txt").write_text("mine")
    result = run("demo", "--out", tmp_path, "-q", cwd=tmp_path.parent)
    assert result.exit_code == 1
    assert "strict: not replaced: the tool replaces only a bundle it wrote" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["strict"]
    assert (tmp_path / "strict" / "keep.txt").read_text() == "mine"


# ------------------------------------------------------------------ the lock
def test_lock_refuses_a_second_holder_and_is_removed_after(tmp_path):
    out = tmp_path / "bundle"
    with output_lock(out):
        assert (tmp_path / ".bundle.lock").read_text().strip() == str(os.getpid())
        holder = subprocess.run(
            [sys.executable, "-c", LOCK_ONCE, str(out)], capture_output=True, text=True
        )
        assert holder.returncode == 1
        assert f"another publisher run (pid {os.getpid()}) is writing this folder" in (
            holder.stdout
        )
    assert list(tmp_path.iterdir()) == []
    assert subprocess.run([sys.executable, "-c", LOCK_ONCE, str(out)]).returncode == 0


LOCK_ONCE = """
import sys
from pathlib import Path
from publisher.core.errors import PublisherError
from publisher.engine.staging import output_lock
try:
    with output_lock(Path(sys.argv[1])):
        pass
except PublisherError as exc:
    print(exc)
    sys.exit(1)
"""


def test_two_concurrent_releases_one_wins_cleanly(user_files, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PUBLISHER_KEY"}
    out = tmp_path / "bundle"
    # The demo data: a release long enough (seconds) for the second run to meet the first.
    args = [
        sys.executable, "-m", "publisher", "release", str(demo_data()),
        "-p", "balanced", "-o", str(out), "-q",
    ]  # fmt: skip
    first = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / ".bundle.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lock.exists(), "the first run never took its lock"
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"Error: {out}: another publisher run (pid {first.pid}) is writing this folder; "
        "wait for it to finish or choose another --out"
    )
    _, err = first.communicate(timeout=300)
    assert first.returncode in (0, 3), err  # balanced may reject a 30-user table
    kept = out if first.returncode == 0 else tmp_path / "bundle.rejected"
    assert verify_bundle(kept).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept.name, "work"]


# ----------------------------------------------------------- stale staging folders
def test_only_staging_folders_of_dead_runs_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    host = __import__("socket").gethostname()
    folders = {
        "dead": {"pid": int(dead), "host": host},
        "alive": {"pid": os.getpid(), "host": host},
        "elsewhere": {"pid": int(dead), "host": host + "-other"},
        "unmarked": None,
    }
    for name, marker in folders.items():
        folder = tmp_path / f".bundle.tmp-{name}"
        folder.mkdir()
        (folder / "x").write_text("data")
        if marker is not None:
            (folder / STAGING_MARKER).write_text(json.dumps(marker))
    with staging(tmp_path / "bundle") as (root,):
        (root / "x").write_text("y")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".bundle.tmp-alive", ".bundle.tmp-elsewhere", ".bundle.tmp-unmarked", "bundle"]
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == ["x"]  # no marker left


def test_staging_failure_leaves_nothing(tmp_path):
    out = tmp_path / "bundle"

    def fail_midway():
        with staging(out) as (root,):
            (root / "partial").write_text("x")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fail_midway()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------- single-file outputs
def test_audit_json_replaces_only_its_own_report(user_files, tmp_path):
    thesis = user_files / "thesis" / "chapter1.tex"
    before = snapshot(user_files)
    refused = run("audit", user_files / "ratings.csv", "-p", "none", "--json", thesis, "-q",
                  "--scale", "1:5:1")  # fmt: skip
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: {thesis}: exists and is not a report.json of this tool; choose another path\n"
    )
    assert snapshot(user_files) == before
    report = tmp_path / "risk.json"
    for _ in range(2):  # written, then replaced: it is ours
        done = run("audit", user_files / "ratings.csv", "-p", "none", "--json", report, "-q",
                   "--scale", "1:5:1", "--seed", 1)  # fmt: skip
        assert done.exit_code == 0, done.output
        assert json.loads(report.read_text())["schema"] == "publisher.report/5"


def test_synth_refuses_an_existing_file_without_overwrite(user_files, tmp_path):
    target = user_files / "thesis" / "chapter1.tex"
    before = snapshot(user_files)
    refused = run("synth", "--preset", "movielens", "--scale", "0.01", "--out", target)
    assert refused.exit_code == 1
    assert refused.stderr == f"Error: {target}: already exists; pass --overwrite to replace it\n"
    assert snapshot(user_files) == before
    out = tmp_path / "synth.parquet"
    assert run("synth", "--preset", "movielens", "--scale", "0.01", "--out", out).exit_code == 0
    again = run("synth", "--preset", "movielens", "--scale", "0.01", "--out", out, "--overwrite")
    assert again.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth.parquet", "work"]


def test_an_overwrite_that_ends_in_an_error_leaves_the_review_copy_alone(
    user_files, tmp_path, monkeypatch
):
    # Issue 24.7: the review copy was swapped before the bundle was refused, so the
    # reviewer's copy of the published bundle was replaced by one of a bundle never made.
    home, out = user_files, tmp_path / "bundle"
    assert release(home, out, cwd=tmp_path).exit_code == 0
    review = snapshot(tmp_path / "bundle.review")
    real = engine_release.evaluate

    def evaluate_then_touch(*args, **kwargs):  # someone adds a file while the run works
        evaluation = real(*args, **kwargs)
        (out / "notes.txt").write_text("mine now")
        return evaluation

    monkeypatch.setattr(engine_release, "evaluate", evaluate_then_touch)
    result = release(home, out, "--overwrite", cwd=tmp_path)
    assert result.exit_code == 1
    assert "not replaced" in result.output
    assert snapshot(tmp_path / "bundle.review") == review
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "bundle.review", "work"]


def test_a_user_file_named_like_the_lock_keeps_its_contents(user_files, tmp_path):
    # Issue 24.8: the lock file was opened, truncated and unlinked whoever wrote it.
    lock = tmp_path / ".bundle.lock"
    lock.write_text("my shopping list\n")
    result = release(user_files, tmp_path / "bundle", cwd=tmp_path)
    assert result.exit_code == 1
    assert "is not a lock of this tool" in result.output
    assert lock.read_text() == "my shopping list\n"


def test_the_review_copy_and_rejected_report_are_private(user_files, tmp_path):
    # Issue 24.17: the review copy holds the original's exact figures; it was 0755/0644.
    os.umask(0o022)
    assert release(user_files, tmp_path / "bundle", cwd=tmp_path).exit_code == 0
    assert release(user_files, tmp_path / "r", policy="failing.yaml", cwd=tmp_path).exit_code == 3
    for folder in (tmp_path / "bundle.review", tmp_path / "r.rejected"):
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert {oct(p.stat().st_mode & 0o777) for p in folder.rglob("*")} == {"0o600"}
    assert oct((tmp_path / "bundle").stat().st_mode & 0o777) == "0o755"  # the public one
