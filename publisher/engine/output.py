"""Where a bundle may be written: refused places, proof of ownership, the lock, the swap.

The tool touches only what it wrote. Before any work a release checks its output
folder (:func:`check_output`): it refuses the filesystem root, the home folder, the
current folder and any folder that contains them or the input, and ``--overwrite``
replaces only a folder that verifies as a bundle of this tool (:func:`owned`). An
exclusive lock per output folder (:func:`output_lock`) keeps two runs from writing the
same bundle. The bundle is built in a hidden sibling folder carrying a marker with the
writer's process id (:func:`staging`) and swapped into place in one atomic rename, so a
crash leaves either no bundle or a whole one; a later run removes a staging folder only
when its marker names a process that is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import logging
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from publisher.core.errors import PublisherError
from publisher.engine.bundle import MAX_JSON_BYTES, STAGING_MARKER, load_json
from publisher.engine.verify import verify_bundle
from publisher.reporting.report_json import REPORT_SCHEMA

__all__ = [
    "STAGING_MARKER",
    "check_output",
    "output_lock",
    "owned",
    "rejected_path",
    "remove_owned",
    "staging",
]

logger = logging.getLogger(__name__)

_TEMP_MARK = ".tmp-"


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


def owned(folder: Path) -> bool:
    """True when ``folder`` is a bundle (or rejected report) this tool wrote, unchanged.

    A folder proves itself by verifying: a ``MANIFEST.json`` of this tool that lists
    exactly the files present, with their hashes, and nothing else (no link, no extra
    file or folder). Anything less is somebody's data.
    """
    return _ownership_problem(folder) is None


def _ownership_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a bundle this tool wrote, unchanged; None when it is."""
    try:
        result = verify_bundle(folder)
    except PublisherError as exc:
        return str(exc).removeprefix(f"{folder}: ")
    if result.problems:
        return result.problems[0]
    tool = result.manifest.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "ratings-publisher":
        return "not written by this tool"
    return None


def check_output(
    out: Path,
    *,
    inputs: Iterable[Path] = (),
    overwrite: bool,
    label: str = "--out",
    prove_owned: bool = True,
    exists_hint: str = "pass --overwrite to replace it",
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
    problem = _ownership_problem(out) if prove_owned else None
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


def remove_owned(folder: Path) -> None:
    """Delete ``folder`` if it is a bundle this tool wrote; refuse anything else."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not owned(folder):
        raise PublisherError(f"{folder}: exists and is not a bundle this tool wrote; move it away")
    shutil.rmtree(folder)


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` (and its ``.rejected`` twin) for a whole run.

    The lock is ``flock`` on a hidden sibling file ``.NAME.lock`` that records the
    holder's process id; it is released (and the file removed) when the block ends,
    and by the kernel if the process dies. A second run on the same folder fails at
    once instead of racing the first.

    Missing parent folders are created for the run and removed again if it fails.

    Raises
    ------
    PublisherError
        When another run holds the lock.
    """
    with _parents_for(out):
        path = out.parent / f".{out.name}.lock"
        with _flock(path, out):
            yield


@contextlib.contextmanager
def _parents_for(out: Path) -> Iterator[None]:
    created = []
    for parent in reversed(Path(os.path.abspath(out)).parents):
        if not parent.exists():
            parent.mkdir()
            created.append(parent)
    try:
        yield
    except BaseException:
        for parent in reversed(created):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only if still empty: never anything else
        raise


@contextlib.contextmanager
def _flock(path: Path, out: Path) -> Iterator[None]:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise PublisherError(
                f"{out}: another publisher run (pid {holder}) is writing this folder; "
                "wait for it to finish or choose another --out"
            ) from None
        # The previous holder may have removed the file between our open and our lock:
        # then we locked an orphan, and must start again on the file now at `path`.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        # Unlink while still holding the lock, so no one can lock the same inode after us.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _stale(folder: Path) -> bool:
    """True for a staging folder whose marker names a process of this host that is gone."""
    try:
        marker = json.loads((folder / STAGING_MARKER).read_text(encoding="utf-8"))
        pid, host = int(marker["pid"]), str(marker["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return host == socket.gethostname() and not _alive(pid)


def _clean_stale(out: Path) -> None:
    for candidate in out.parent.glob(f".{out.name}{_TEMP_MARK}*"):
        if candidate.is_dir() and not candidate.is_symlink() and _stale(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
        else:
            logger.warning("left %s alone: not a staging folder of a finished run", candidate)


@contextlib.contextmanager
def staging(
    out: Path, *, overwrite: bool = False, exists_hint: str = "pass --overwrite to replace it"
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` when the block succeeds.

    Call it while holding :func:`output_lock`. On an exception (or Ctrl-C) the
    temporary folder is removed and ``out`` is untouched. Staging folders of earlier
    runs that died are removed first; nothing else is. An existing ``out`` is proved to
    be this tool's bundle right before it is swapped out, once the work is done.

    Raises
    ------
    PublisherError
        If ``out`` exists and may not be replaced (see :func:`check_output`).
    """
    out = Path(out)
    check_output(out, overwrite=overwrite, prove_owned=False, exists_hint=exists_hint)
    out.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(out)
    temp = out.parent / f".{out.name}{_TEMP_MARK}{secrets.token_hex(4)}"
    temp.mkdir()
    try:
        (temp / STAGING_MARKER).write_text(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8"
        )
        # The marker names this process until the swap; the manifest never lists it.
        yield temp
        (temp / STAGING_MARKER).unlink()
        if out.exists():
            # Proved ours at the start; prove it again now, the run took a while.
            check_output(out, overwrite=True)
            if _exchange(temp, out):
                shutil.rmtree(temp, ignore_errors=True)  # temp now holds the old bundle
            else:
                # No atomic exchange here: move the old bundle aside first, so a crash
                # between the two renames leaves it recoverable under .NAME.tmp-old-*.
                old = out.parent / f".{out.name}{_TEMP_MARK}old-{secrets.token_hex(4)}"
                os.rename(out, old)
                os.rename(temp, out)
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(temp, out)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result != 0 and ctypes.get_errno() not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
    return result == 0
