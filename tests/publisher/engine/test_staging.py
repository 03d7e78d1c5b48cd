"""The bundle and its review copy change together: after any crash, and the next run, both
are old or both new; a killed commit is visible to verify until then; the lock file is ours."""

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from publisher.core.errors import PublisherError
from publisher.engine.bundle import MANIFEST, build_manifest, commit_journal
from publisher.engine.staging import output_lock, recover, staging
from publisher.engine.verify import verify_bundle

from tests.conftest import REPO

TOOL = {"tool": {"name": "ratings-publisher"}}


def write_pair(bundle: Path, review: Path, label: str) -> None:
    """A bundle and a review copy bound to it, as a release writes them."""
    for folder in (bundle, review):
        folder.mkdir(exist_ok=True)
        (folder / "report.json").write_text(json.dumps({"label": label}))
        (folder / "policy.yaml").write_text(f"name: {label}\n")
    (bundle / "DATASHEET.md").write_text(f"# {label}\n")
    (bundle / "data").mkdir()
    (bundle / "data" / "ratings.parquet").write_text(label)
    (bundle / MANIFEST).write_text(json.dumps(build_manifest(bundle, TOOL)))
    bound = hashlib.sha256((bundle / MANIFEST).read_bytes()).hexdigest()
    meta = {**TOOL, "review": True, "bundle_manifest_sha256": bound}
    (review / MANIFEST).write_text(json.dumps(build_manifest(review, meta)))


def label(folder: Path) -> str:
    return json.loads((folder / "report.json").read_text())["label"]


#: Runs a commit of a new pair over the old one in a child process that dies (os._exit,
#: no cleanup: a SIGKILL as far as the folders can tell) at a chosen point.
CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from publisher.engine import staging as s
    from tests.publisher.engine.test_staging import write_pair
    out, where = Path({out!r}), {where!r}
    review = out.with_name(out.name + ".review")
    real_swap, real_journal = s._swap, s._write_journal
    swaps = []
    def swap(temp, target):
        if where == f"before-swap-{{len(swaps)}}":
            os._exit(9)
        real_swap(temp, target)
        swaps.append(target)
        if where == "after-swaps" and len(swaps) == 2:
            os._exit(9)
    def journal(path, pairs):
        if where == "before-journal":
            os._exit(9)
        real_journal(path, pairs)
    s._swap, s._write_journal = swap, journal
    with s.output_lock(out):
        kinds = ("bundle", "review")
        with s.staging(out, review, overwrite=True, kinds=kinds, private=(False, True)) as (a, b):
            write_pair(a, b, "new")
            if where == "building":
                os._exit(9)
    """
)


def crash(out: Path, where: str) -> None:
    code = CHILD.format(tests=str(REPO), out=str(out), where=where)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode in (0, 9), done.stderr


@pytest.mark.parametrize(
    "where", ["building", "before-journal", "before-swap-0", "before-swap-1", "after-swaps"]
)
def test_a_commit_killed_anywhere_leaves_both_old_or_both_new_after_the_next_run(tmp_path, where):
    out, review = tmp_path / "bundle", tmp_path / "bundle.review"
    write_pair(out, review, "old")
    crash(out, where)
    if where == "before-swap-1":  # killed between the two swaps: the one mixed state
        assert label(out) == "new"
        assert label(review) == "old"
        assert any("binding:" in p for p in verify_bundle(review).problems)
        assert any(p.startswith("interrupted:") for p in verify_bundle(out).problems)
    # the next run on the same --out finishes or rolls back the commit
    with output_lock(out):
        recover(out)
    both = {label(out), label(review)}
    assert both == (
        {"old"} if where in ("building", "before-journal", "before-swap-0") else {"new"}
    )
    assert verify_bundle(out).ok
    assert verify_bundle(review).ok
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    if where in ("building", "before-journal"):  # before the journal: marked staging folders
        assert len(left) == 2
        assert all(".tmp-" in name for name in left)
        with output_lock(out), staging(out, review, overwrite=True) as (a, b):
            write_pair(a, b, "newer")  # the next run removes them (their writer is gone)
        assert {label(out), label(review)} == {"newer"}
        left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert left == []


def test_a_refused_replacement_swaps_nothing(tmp_path):
    # Issue 24.7: the review copy was swapped in before the bundle was refused.
    out, review = tmp_path / "bundle", tmp_path / "bundle.review"
    write_pair(out, review, "old")
    (out / "notes.txt").write_text("somebody's notes: the folder is not ours any more")
    with pytest.raises(PublisherError, match=r"bundle: not replaced: .*extra: notes\.txt"):
        with output_lock(out), staging(out, review, overwrite=True) as (a, b):
            write_pair(a / "new", b / "new", "new")
    assert label(review) == "old"
    assert verify_bundle(review).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "bundle.review"]


def test_private_folders_are_0700_with_files_0600(tmp_path):
    out = tmp_path / "bundle.review"
    with output_lock(out), staging(out, private=(True,)) as (root,):
        (root / "data").mkdir()
        (root / "data" / "x").write_text("exact figures")
        (root / "report.json").write_text("{}")
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "data" / "x").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "report.json").stat().st_mode) == 0o600


def test_a_journal_of_another_tool_is_left_alone(tmp_path):
    out = tmp_path / "bundle"
    commit_journal(out).write_text("my notes")
    with pytest.raises(
        PublisherError, match=r"not a commit journal of this tool; it is left alone"
    ):
        with output_lock(out):
            recover(out)
    assert commit_journal(out).read_text() == "my notes"


@pytest.mark.parametrize("kind", ["content", "hard-link", "symlink", "folder"])
def test_the_lock_never_touches_a_file_it_did_not_write(tmp_path, kind):
    # Issue 24.8: a user's file named .X.lock (or a hard link to one) lost its contents.
    out = tmp_path / "X"
    lock = tmp_path / ".X.lock"
    precious = tmp_path / "precious.txt"
    precious.write_text("a user's file\n")
    if kind == "content":
        lock.write_text("a user's file\n")
    elif kind == "hard-link":
        os.link(precious, lock)
    elif kind == "symlink":
        lock.symlink_to(precious)
    else:
        lock.mkdir()
    with pytest.raises(
        PublisherError, match=r"\.X\.lock: .*(not a lock of this tool|name is taken)"
    ):
        with output_lock(out):
            pass
    assert precious.read_text() == "a user's file\n"
    assert os.path.lexists(lock)
    if kind == "content":
        assert lock.read_text() == "a user's file\n"


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    out = tmp_path / "X"
    (tmp_path / ".X.lock").write_text("123456\n")  # its holder died: the kernel let go
    with output_lock(out):
        assert (tmp_path / ".X.lock").read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / ".X.lock").exists()
