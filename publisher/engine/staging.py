"""Building folders out of sight and swapping them into place together, with a lock.

A release writes two folders that belong together: the bundle ``DIR`` and its review copy
``DIR.review`` (bound to the bundle by its manifest's SHA-256). Each is built in a hidden
sibling ``.NAME.tmp-*`` that carries a marker naming its writer, and :func:`staging`
swaps every folder of a run into place as one commit:

1. every folder it will replace is proved ours (it verifies as a bundle of this tool)
   BEFORE any swap, so a refusal changes nothing;
2. a journal ``.DIR.commit`` names each staging folder, its target and the SHA-256 of
   the new manifest, written atomically before the first swap;
3. each target is swapped with its staging folder (one ``renameat2(RENAME_EXCHANGE)``
   on Linux), after which the staging name holds the old copy;
4. the journal goes, then the old copies.

A run killed at any moment leaves, at worst, the journal: the next run on the same
``--out`` (:func:`recover`, under the lock) finishes the commit when any target already
holds its new folder (the others' new folders are still in their staging names) and
rolls it back otherwise, then removes every staging folder the journal names. Between
the kill and that run, ``publisher verify DIR.review`` fails on the binding and
``publisher verify DIR`` names the interrupted commit, so a reviewer is never shown a
mixed pair as whole.

The lock is ``flock`` on ``.DIR.lock``, a file this tool creates and recognises (it
holds only the holder's pid): a user's file of that name, or one hard-linked elsewhere,
is refused, never truncated.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from publisher.core.errors import PublisherError
from publisher.core.parsing import json_text
from publisher.engine.bundle import MANIFEST, STAGING_MARKER, commit_journal
from publisher.engine.output import check_output

__all__ = [
    "commit_journal",
    "make_private",
    "output_lock",
    "recover",
    "staging",
]

logger = logging.getLogger(__name__)

_TEMP_MARK = ".tmp-"
_LOCK_CONTENT = re.compile(rb"\A(\d{1,10}\n)?\Z")


# ------------------------------------------------------------------------ the lock
@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` (and its sibling folders) for a whole run.

    The lock is ``flock`` on a hidden sibling file ``.NAME.lock`` that records the
    holder's process id; it is released (and the file removed) when the block ends, and
    by the kernel if the process dies. A second run on the same folder fails at once. A
    file of that name that this tool did not write (other content, a link, a file with
    other hard links) is refused and left as it is.

    Missing parent folders are created for the run and removed again if it fails.

    Raises
    ------
    PublisherError
        When another run holds the lock, or the lock's name is taken by another file.
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


def _open_lock(path: Path, out: Path) -> tuple[int, bool]:
    """Open the lock file, creating it if absent; (fd, created). Refuse a foreign file."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), True
    except FileExistsError:
        pass
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise PublisherError(
            f"{path}: the lock file's name is taken ({exc.strerror}); this tool did not write "
            f"it, so it is left alone: move it away to write {out}"
        ) from None
    info = os.fstat(fd)
    content = os.pread(fd, 64, 0) if stat.S_ISREG(info.st_mode) else b""
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or not _LOCK_CONTENT.match(content):
        os.close(fd)
        raise PublisherError(
            f"{path}: a file of the lock's name exists and is not a lock of this tool (only a "
            f"pid, one link); it is left alone: move it away to write {out}"
        )
    return fd, False


@contextlib.contextmanager
def _flock(path: Path, out: Path) -> Iterator[None]:
    while True:
        fd, _ = _open_lock(path, out)
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
        # Ours now (created here, or a lock file of ours left by a run that died).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        # Unlink while still holding the lock, so no one can lock the same inode after us.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


# ------------------------------------------------------------- staging folders
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _marker(folder: Path) -> dict | None:
    try:
        marker = json.loads((folder / STAGING_MARKER).read_text(encoding="utf-8"))
        return {"pid": int(marker["pid"]), "host": str(marker["host"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stale(folder: Path) -> bool:
    """True for a staging folder whose marker names a process of this host that is gone."""
    marker = _marker(folder)
    return (
        marker is not None and marker["host"] == socket.gethostname() and not _alive(marker["pid"])
    )


def _clean_stale(out: Path) -> None:
    for candidate in out.parent.glob(f".{out.name}{_TEMP_MARK}*"):
        if candidate.is_dir() and not candidate.is_symlink() and _stale(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
        else:
            logger.warning("left %s alone: not a staging folder of a finished run", candidate)


def make_private(folder: Path) -> None:
    """Folders 0700 and files 0600 under ``folder`` (the review copy holds exact figures)."""
    os.chmod(folder, 0o700)
    for path in folder.rglob("*"):
        if not path.is_symlink():
            os.chmod(path, 0o700 if path.is_dir() else 0o600)


def _manifest_digest(folder: Path) -> str | None:
    try:
        return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return None


def _swap(temp: Path, target: Path) -> None:
    """Put ``temp`` at ``target``; an existing target moves to ``temp`` (one exchange)."""
    if not target.exists():
        os.rename(temp, target)
    elif not _exchange(temp, target):
        # No atomic exchange here: move the old folder to a name of the journal first.
        old = temp.with_name(temp.name + "-old")
        os.rename(target, old)
        os.rename(temp, target)
        os.rename(old, temp)


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


def _write_journal(path: Path, pairs: list[dict[str, str]]) -> None:
    temp = path.with_name(path.name + f".{secrets.token_hex(4)}")
    record = {"pid": os.getpid(), "host": socket.gethostname(), "pairs": pairs}
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json_text(record))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)


def _read_journal(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        pairs = record["pairs"]
        ok = all(
            isinstance(p, dict)
            and {"temp", "target", "manifest"} <= set(p)
            and all(isinstance(p[k], str) and "/" not in p[k] for k in ("temp", "target"))
            and p["temp"].startswith(".")
            and _TEMP_MARK in p["temp"]
            for p in pairs
        )
        return record if ok and isinstance(record["host"], str) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recover(out: Path) -> None:
    """Finish or roll back a commit on ``out`` that a killed run left (hold the lock).

    When any target already holds its new folder, the others' new folders (still in
    their staging names) are swapped in: both new. Otherwise nothing was swapped and the
    new folders are discarded: both old. Then every staging folder the journal names is
    removed.

    Raises
    ------
    PublisherError
        For a journal this tool cannot read, or one written on another host.
    """
    journal = commit_journal(out)
    if not journal.exists() and not journal.is_symlink():
        return
    record = _read_journal(journal) if not journal.is_symlink() else None
    if record is None:
        raise PublisherError(
            f"{journal}: not a commit journal of this tool; it is left alone: move it away "
            f"to write {out}"
        )
    if record["host"] != socket.gethostname():
        raise PublisherError(
            f"{journal}: a release on host {record['host']} was interrupted while swapping "
            f"{out}; finish it there"
        )
    folder = out.parent
    pairs = [(folder / p["temp"], folder / p["target"], p["manifest"]) for p in record["pairs"]]
    forward = any(_manifest_digest(target) == new for _, target, new in pairs)
    for temp, target, new in pairs:
        if forward and _manifest_digest(target) != new and _manifest_digest(temp) == new:
            (temp / STAGING_MARKER).unlink(missing_ok=True)
            _swap(temp, target)
    for temp, _, _ in pairs:
        for leftover in (temp, temp.with_name(temp.name + "-old")):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
    journal.unlink()
    logger.warning(
        "%s: finished a commit a killed run had begun (%s)",
        out,
        "both folders new" if forward else "both folders as they were",
    )


@contextlib.contextmanager
def staging(
    *targets: Path,
    overwrite: bool = False,
    exists_hint: str = "pass --overwrite to replace it",
    kinds: Sequence[str | None] = (),
    private: Sequence[bool] = (),
    check: Callable[[list[Path]], None] | None = None,
) -> Iterator[list[Path]]:
    """Yield one temporary folder per target; on success they replace the targets together.

    Call it while holding :func:`output_lock` on the first target. On an exception (or
    Ctrl-C) the temporary folders are removed and no target is touched. Staging folders
    of earlier runs that died are removed first, and a commit such a run left half done
    is finished or rolled back (:func:`recover`). Every existing target is proved to be
    this tool's bundle before the first swap; then the targets are swapped in journal
    order (see the module docstring).

    Parameters
    ----------
    *targets : Path
        The folders to create or replace; the first names the journal.
    overwrite : bool
        Whether existing targets may be replaced (only bundles of this tool ever are).
    exists_hint : str
        What to do about an existing target that may not be replaced.
    kinds : sequence of str or None
        Per target: the kind of folder an existing one must be (see
        :func:`~publisher.engine.output.check_output`).
    private : sequence of bool
        Per target: build it 0700 with files 0600 (review copies, rejected reports).
    check : callable, optional
        Called with the finished temporary folders before anything is swapped (their
        markers still in them); an exception it raises cancels the commit.

    Raises
    ------
    PublisherError
        If a target exists and may not be replaced (see :func:`check_output`).
    """
    paths = [Path(t) for t in targets]
    flags = list(private) + [False] * (len(paths) - len(private))
    expected = list(kinds) + [None] * (len(paths) - len(kinds))
    for path in paths:
        check_output(path, overwrite=overwrite, prove_owned=False, exists_hint=exists_hint)
    primary = paths[0]
    primary.parent.mkdir(parents=True, exist_ok=True)
    recover(primary)
    for path in paths:
        _clean_stale(path)
    temps = []
    try:
        for path, hidden in zip(paths, flags, strict=True):
            temp = path.parent / f".{path.name}{_TEMP_MARK}{secrets.token_hex(4)}"
            temp.mkdir(mode=0o700 if hidden else 0o777)
            temps.append(temp)
            (temp / STAGING_MARKER).write_text(
                json_text({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8"
            )
        # The markers name this process until the swap; no manifest lists them.
        yield temps
        if check is not None:
            check(temps)
        for path, kind in zip(paths, expected, strict=True):
            if path.exists():  # proved ours at the start; again now, and all before any swap
                check_output(path, overwrite=True, kind=kind)
        for temp, hidden in zip(temps, flags, strict=True):
            if hidden:
                make_private(temp)
        pairs = [
            {"temp": t.name, "target": p.name, "manifest": _manifest_digest(t) or ""}
            for t, p in zip(temps, paths, strict=True)
        ]
        _write_journal(commit_journal(primary), pairs)
        try:
            for temp in temps:
                (temp / STAGING_MARKER).unlink()
            for temp, path in zip(temps, paths, strict=True):
                _swap(temp, path)
            commit_journal(primary).unlink()
        except BaseException:
            recover(primary)  # an error (or Ctrl-C) mid-commit: finish or roll back now
            raise
    finally:
        if not commit_journal(primary).exists():
            for temp in temps:
                if temp.exists():
                    shutil.rmtree(temp, ignore_errors=True)
