"""Where a bundle may be written: refused places and the proof that a folder is ours.

The tool touches only what it wrote. Before any work a release checks its output
folders (:func:`check_output`): it refuses the filesystem root, the home folder, the
current folder and any folder that contains them or the input, and ``--overwrite``
replaces only a folder that verifies as a bundle of this tool, of the right kind
(:func:`owned`). Building folders and swapping them into place, under a lock, is
:mod:`publisher.engine.staging`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from publisher.core.errors import PublisherError
from publisher.engine.bundle import MAX_JSON_BYTES, load_json
from publisher.engine.verify import verify_bundle
from publisher.reporting.report_json import REPORT_SCHEMA

__all__ = [
    "KINDS",
    "check_file_output",
    "check_output",
    "folder_kind",
    "owned",
    "rejected_path",
    "remove_owned",
    "review_path",
]


def rejected_path(out: Path) -> Path:
    """Where a rejected release's report goes: ``DIR.rejected`` beside ``DIR``."""
    return out.with_name(out.name + ".rejected")


def review_path(out: Path) -> Path:
    """Where a release's review copy goes: ``DIR.review`` beside ``DIR``."""
    return out.with_name(out.name + ".review")


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(path)).resolve()


def _contains(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


#: What a folder of this tool may be: a published bundle, a review copy, a rejected report.
KINDS = ("bundle", "review", "rejected")


def folder_kind(manifest: dict) -> str:
    """Which of :data:`KINDS` a folder is, by its manifest."""
    if manifest.get("rejected") is True:
        return "rejected"
    return "review" if manifest.get("review") is True else "bundle"


def owned(folder: Path, kind: str | None = None) -> bool:
    """True when ``folder`` is a bundle (or review copy, rejected report) this tool wrote.

    A folder proves itself by verifying: a ``MANIFEST.json`` of this tool that lists
    exactly the files present, with their hashes, and nothing else (no link, no extra
    file or folder). Anything less is somebody's data. With ``kind``, it must also be
    that kind of folder (a rejected release replaces only a rejected report, never a
    published bundle put in its place).
    """
    return _ownership_problem(folder, kind) is None


def _ownership_problem(folder: Path, kind: str | None = None) -> str | None:
    """Why ``folder`` is not a bundle this tool wrote, unchanged; None when it is."""
    try:
        result = verify_bundle(folder, check_binding=False)
    except PublisherError as exc:
        return str(exc).removeprefix(f"{folder}: ")
    if result.problems:
        return result.problems[0]
    tool = result.manifest.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "ratings-publisher":
        return "not written by this tool"
    found = folder_kind(result.manifest)
    if kind is not None and found != kind:
        article = "an" if found[0] in "aeiou" else "a"
        return f"it is {article} {found.replace('review', 'review copy')}, not a {kind} folder"
    return None


def check_output(
    out: Path,
    *,
    inputs: Iterable[Path] = (),
    overwrite: bool,
    label: str = "--out",
    prove_owned: bool = True,
    exists_hint: str = "pass --overwrite to replace it",
    kind: str | None = None,
) -> None:
    """Refuse an output folder that would put the organizer's own files at risk.

    Parameters
    ----------
    out : Path
        The bundle folder to create or replace.
    inputs : iterable of Path
        Files and folders the run reads (the input data, attachments): ``out`` may
        neither be one of them nor contain one.
    overwrite : bool
        Whether an existing ``out`` may be replaced; even then only a bundle that
        this tool wrote and that still verifies is replaced.
    label : str
        The option's name for messages.
    prove_owned : bool
        Verify that an existing ``out`` is this tool's bundle (hashing all of it). A
        caller that proves it later, under the output lock, skips it in early checks.
    exists_hint : str
        What to do about an existing ``out`` that may not be replaced (a command
        without ``--overwrite`` says so).
    kind : {"bundle", "review", "rejected"}, optional
        The kind of folder an existing ``out`` must be to be replaced.

    Raises
    ------
    PublisherError
        With one line naming the folder and the rule that refused it.
    """
    target = _resolved(out)
    if target == Path(target.anchor):
        raise PublisherError(f"{out}: {label} may not be the filesystem root")
    home = Path.home().resolve()
    if _contains(target, home):
        raise PublisherError(f"{out}: {label} may not be or contain the home folder {home}")
    if _contains(target, Path.cwd().resolve()):
        raise PublisherError(
            f"{out}: {label} may not be or contain the current folder; name a new folder"
        )
    for source in inputs:
        if _contains(target, _resolved(source)):
            raise PublisherError(f"{out}: {label} may not be or contain the input {source}")
    if out.is_symlink():
        raise PublisherError(f"{out}: is a symbolic link; name a real folder for {label}")
    if not out.exists():
        return
    if not out.is_dir():
        raise PublisherError(f"{out}: exists and is not a folder")
    if not overwrite:
        raise PublisherError(f"{out}: already exists; {exists_hint}")
    problem = _ownership_problem(out, kind) if prove_owned else None
    if problem is not None:
        raise PublisherError(
            f"{out}: not replaced: the tool replaces only a bundle it wrote, and this folder "
            f"does not verify as one ({problem}); move it away or choose another {label}"
        )


def _is_report(path: Path) -> bool:
    try:
        report = load_json(path, max_bytes=MAX_JSON_BYTES)
    except (PublisherError, OSError):
        return False
    # any version this tool wrote (an older bundle is still ours to replace)
    schema = report.get("schema") if isinstance(report, dict) else None
    return isinstance(schema, str) and schema.startswith(REPORT_SCHEMA.rsplit("/", 1)[0] + "/")


def check_file_output(path: Path, *, overwrite: bool = False, report: bool = False) -> None:
    """Refuse to replace an existing file the tool cannot prove it wrote.

    Parameters
    ----------
    path : Path
        The file to write.
    overwrite : bool
        Replace any existing regular file (``synth --overwrite``).
    report : bool
        The file is a report.json: an earlier report of this tool may be replaced.

    Raises
    ------
    PublisherError
        When ``path`` exists and may not be replaced, or is not a regular file.
    """
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or not path.is_file():
        raise PublisherError(f"{path}: exists and is not a regular file; choose another path")
    if overwrite or (report and _is_report(path)):
        return
    if report:
        raise PublisherError(
            f"{path}: exists and is not a report.json of this tool; choose another path"
        )
    raise PublisherError(f"{path}: already exists; pass --overwrite to replace it")


def remove_owned(folder: Path, kind: str | None = None) -> None:
    """Delete ``folder`` if it is a bundle (of ``kind``) this tool wrote; refuse anything else."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not owned(folder, kind):
        raise PublisherError(f"{folder}: exists and is not a bundle this tool wrote; move it away")
    shutil.rmtree(folder)
