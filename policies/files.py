"""Files a policy names (an item catalogue): input, and hostile until proved otherwise.

Every line of a catalogue becomes a row of a public table, so a policy that could name
any file could publish it: the organizer's key file, ``/proc/self/environ``, another
customer's data. A file a policy names must therefore be a relative path that stays
inside the policy's own folder once every link is resolved, a regular file (no FIFO,
device or ``/proc`` entry), at most a stated size, and never the organizer's key (the
release checks that last rule, :func:`check_not_key`, since only it holds the key).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from publisher.core.errors import PolicyError, show
from publisher.core.files import SmallFileError, read_small_file

__all__ = ["PolicyFile", "check_not_key", "read_policy_file"]


@dataclass(frozen=True)
class PolicyFile:
    """A file a policy names, as read: where it is named, its resolved path and bytes."""

    where: str
    path: Path
    data: bytes


def read_policy_file(name: str, base: Path | None, where: str, max_bytes: int) -> PolicyFile:
    """Read a file named in a policy, refusing anything outside the policy's folder.

    Parameters
    ----------
    name : str
        The path as the policy writes it, relative to the policy's folder.
    base : Path or None
        The policy's folder (the current folder for a policy given as text).
    where : str
        The policy key naming the file, for messages.
    max_bytes : int
        Largest file accepted.

    Returns
    -------
    PolicyFile

    Raises
    ------
    PolicyError
        Naming ``where`` and the rule that refused the file.
    """
    if not isinstance(name, str) or not name.strip():
        raise PolicyError(f"{where}: must be a file path, got {show(str(name))}")
    folder = Path(os.path.abspath(base if base is not None else Path.cwd()))
    given = PurePosixPath(name)
    if given.is_absolute() or Path(name).is_absolute():
        raise PolicyError(
            f"{where}: {show(name)} is an absolute path; a file a policy names must be "
            "inside the policy's folder, named relative to it"
        )
    try:
        resolved = (folder / name).resolve(strict=True)
    except FileNotFoundError:
        raise PolicyError(f"{where}: cannot read {folder / name} (no such file)") from None
    except (OSError, RuntimeError) as exc:  # a loop of links, a name too long
        raise PolicyError(f"{where}: cannot read {show(name)} ({exc})") from None
    root = folder.resolve()
    if root not in resolved.parents:
        raise PolicyError(
            f"{where}: {show(name)} leads outside the policy's folder {root}; a file a "
            "policy names must be inside it"
        )
    try:
        data = read_small_file(resolved, max_bytes, follow_links=False, special=False)
    except FileNotFoundError as exc:
        raise PolicyError(f"{where}: cannot read {resolved} ({exc.strerror})") from None
    except SmallFileError as exc:
        reason = {
            "folder": "is a folder, not a file",
            "special": "is not a regular file",
            "size": f"is larger than {max_bytes:,} bytes",
        }.get(exc.kind)
        if reason is None:  # a link swapped in after resolving, or an OS error
            raise PolicyError(
                f"{where}: cannot read {resolved} ({exc.detail or exc.kind})"
            ) from None
        raise PolicyError(f"{where}: {resolved} {reason}") from None
    return PolicyFile(where, resolved, data)


def check_not_key(files: list[PolicyFile], key: bytes | None, key_path: Path | None) -> None:
    """Refuse a policy file that is, or holds, the organizer's key.

    A catalogue is published line by line, so the key file (or a copy of it) named as
    one would publish the key. Checked by identity (the same file as ``key_path``) and by
    content (the key's bytes, or each of its lines, found in the file).

    Raises
    ------
    PolicyError
        Naming the policy key of the file.
    """
    for file in files:
        same = False
        if key_path is not None:
            try:
                same = os.path.samefile(file.path, key_path)
            except OSError:
                same = False
        # Lines shorter than 8 bytes would match by chance; the whole key is checked too.
        lines = [line.strip() for line in (key or b"").splitlines() if len(line.strip()) >= 8]
        holds = key is not None and (
            key in file.data or (bool(lines) and all(line in file.data for line in lines))
        )
        if same or holds:
            raise PolicyError(
                f"{file.where}: {file.path} holds the organizer's key; its lines would be "
                "published as item ids: name the public catalogue instead"
            )
