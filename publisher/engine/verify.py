"""Verifying a bundle, in the order an attacker would hate (TUF's client workflow).

The small manifest is read first, bounded in size and nesting; its signature is checked
before any other file is opened; the folder is walked without following links, and
anything that is not a regular file or a folder is a problem, never read; each listed
file is opened relative to its folder, without following links, and hashed only up to
the size the manifest states.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.core.errors import BundleVerificationError
from publisher.engine.bundle import (
    MANIFEST,
    MANIFEST_SCHEMA,
    OLD_SCHEMAS,
    STAGING_MARKER,
    commit_journal,
    load_json,
    printable,
    signature_tag,
)
from publisher.engine.keys import Keys

__all__ = ["MAX_DEPTH", "MAX_ENTRIES", "VerifyResult", "verify_bundle"]

#: A bundle holds at most this many entries and folders this deep.
MAX_ENTRIES = 100_000
MAX_DEPTH = 32
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


@dataclass
class VerifyResult:
    """The outcome of :func:`verify_bundle`.

    Attributes
    ----------
    problems : list of str
        One line per changed, missing or extra entry or bad signature; empty when OK.
        File names are escaped with :func:`printable`.
    files : int
        Number of files the manifest lists.
    origin : str
        ``"verified"`` (signature checked with the key), or ``"not checked"``.
    manifest : dict
        The manifest as read.
    files_checked : bool
        False when a bad signature stopped verification before any file was read.
    notes : list of str
        What was not checked and why (a review copy whose bundle is not beside it).
    """

    problems: list[str] = field(default_factory=list)
    files: int = 0
    origin: str = "not checked"
    manifest: dict[str, Any] = field(default_factory=dict)
    files_checked: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


_KINDS = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}


@dataclass
class _Tree:
    """What a walk that follows no link found: regular files, folders, anything else."""

    files: dict[str, int] = field(default_factory=dict)  # name -> size
    folders: list[str] = field(default_factory=list)
    others: dict[str, str] = field(default_factory=dict)  # name -> kind


def _walk(dir_fd: int, prefix: str, tree: _Tree, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BundleVerificationError(
            f"{printable(prefix)}: folders nested deeper than {MAX_DEPTH}"
        )
    with os.scandir(dir_fd) as entries:
        for entry in entries:
            if len(tree.files) + len(tree.folders) + len(tree.others) >= MAX_ENTRIES:
                raise BundleVerificationError(f"more than {MAX_ENTRIES:,} entries; not a bundle")
            name = prefix + entry.name
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISREG(mode):
                tree.files[name] = entry.stat(follow_symlinks=False).st_size
            elif stat.S_ISDIR(mode):
                tree.folders.append(name)
                sub = os.open(entry.name, _DIR_FLAGS, dir_fd=dir_fd)
                try:
                    _walk(sub, name + "/", tree, depth + 1)
                finally:
                    os.close(sub)
            else:
                tree.others[name] = _KINDS.get(stat.S_IFMT(mode), "special file")


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


def _hash_inside(root_fd: int, name: str, size: int) -> str | None:
    """SHA-256 of ``name`` under ``root_fd``, opened link-free; None if it is not ``size``.

    Reads at most ``size + 1`` bytes: a file that grew, or a device posing as one,
    never makes verify read past what the manifest states.
    """
    parts = name.split("/")
    fds: list[int] = []
    try:
        current = root_fd
        for part in parts[:-1]:
            current = os.open(part, _DIR_FLAGS, dir_fd=current)
            fds.append(current)
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=current)
        fds.append(fd)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        digest, remaining = hashlib.sha256(), size + 1
        while remaining > 0:
            block = os.read(fd, min(_CHUNK, remaining))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
        return digest.hexdigest() if remaining == 1 else None
    finally:
        for fd in reversed(fds):
            os.close(fd)


def _safe_name(name: Any) -> bool:
    if not isinstance(name, str) or not name or name.startswith("/") or "\0" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def reports_only(manifest: dict[str, Any]) -> bool:
    """Whether the folder is a review copy or a rejected report: reports, no data."""
    return bool(manifest.get("rejected") or manifest.get("review"))


def _required(manifest: dict[str, Any]) -> list[str]:
    """Files every folder of its kind has (a review copy or rejected report: no datasheet)."""
    names = ["report.json", "policy.yaml"]
    if not reports_only(manifest):
        names.append("DATASHEET.md")
    return names


def _read_manifest(root: Path) -> dict[str, Any]:
    try:
        manifest = load_json(root / MANIFEST)
    except FileNotFoundError:
        raise BundleVerificationError(
            f"{printable(str(root))}: no {MANIFEST}; not a bundle"
        ) from None
    schema = manifest.get("schema") if isinstance(manifest, dict) else None
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if schema not in (MANIFEST_SCHEMA, *OLD_SCHEMAS) or not isinstance(listed, dict):
        raise BundleVerificationError(
            f"{printable(str(root / MANIFEST))}: not a manifest of this tool "
            f"(schema {printable(str(schema))})"
        )
    return manifest


def _check_origin(manifest: dict[str, Any], key: Keys, result: VerifyResult) -> None:
    signature = manifest.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        result.problems.append("origin: the manifest is not signed")
    elif manifest["schema"] != MANIFEST_SCHEMA:
        result.problems.append(
            f"origin: signed under {manifest['schema']}, whose key derivation a crafted "
            "customer id can forge; re-release the data with this version"
        )
    elif hmac.compare_digest(signature_tag(key, manifest), signature["value"]):
        result.origin = "verified"
    else:
        result.problems.append(
            "origin: the signature does not match (another key, or an altered manifest)"
        )


def _entry_problem(name: str, entry: Any, tree: _Tree, root_fd: int) -> str | None:
    shown = printable(name)
    if not _safe_name(name):
        return f"unsafe name in the manifest: {printable(repr(name))}"
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("bytes"), int)
        or entry["bytes"] < 0
        or not isinstance(entry.get("sha256"), str)
        or not _HEX64.fullmatch(entry["sha256"])
    ):
        return f"changed: {shown} (manifest entry unreadable)"
    if name in tree.others:
        return f"not a regular file: {shown} ({tree.others[name]})"
    if name not in tree.files:
        return f"missing: {shown}"
    if tree.files[name] != entry["bytes"]:
        return f"changed: {shown} ({tree.files[name]} bytes, manifest says {entry['bytes']})"
    try:
        digest = _hash_inside(root_fd, name, entry["bytes"])
    except OSError as exc:
        return f"unreadable: {shown} ({exc.strerror})"
    if digest is None:
        return f"changed: {shown} (not the regular file of {entry['bytes']} bytes listed)"
    if digest != entry["sha256"]:
        return f"changed: {shown} (SHA-256 differs)"
    return None


def _unlisted(tree: _Tree, listed: dict[str, Any], staged: bool = False) -> Iterator[str]:
    for name, kind in sorted(tree.others.items()):
        if name not in listed:
            yield f"not a regular file: {printable(name)} ({kind}; not in the manifest)"
    ours = {MANIFEST, STAGING_MARKER} if staged else {MANIFEST}
    for name in sorted(set(tree.files) - set(listed) - ours):
        yield f"extra: {printable(name)}"
    needed = {parent for name in listed for parent in _parents(name)}
    for folder in sorted(set(tree.folders) - needed):
        yield f"extra folder: {printable(folder)}/"


def _parents(name: str) -> Iterator[str]:
    parts = name.split("/")
    for k in range(1, len(parts)):
        yield "/".join(parts[:k])


def bundle_of(review: Path) -> Path | None:
    """The bundle ``DIR`` beside a review copy ``DIR.review`` (None for another name)."""
    name = review.name.removesuffix(".review")
    return review.with_name(name) if name and name != review.name else None


def _check_binding(root: Path, manifest: dict[str, Any], result: VerifyResult) -> None:
    """A review copy must belong to the bundle beside it: its manifest's SHA-256 matches."""
    recorded = manifest.get("bundle_manifest_sha256")
    if manifest.get("review") is not True:
        return
    if not isinstance(recorded, str) or not _HEX64.fullmatch(recorded):
        result.problems.append("binding: the review copy names no bundle manifest SHA-256")
        return
    bundle = bundle_of(root)
    if bundle is None:
        result.notes.append(
            "the review copy is not named after a bundle (DIR.review): the binding to its "
            "bundle was not checked"
        )
        return
    try:
        fd = os.open(bundle / MANIFEST, _FILE_FLAGS)
    except FileNotFoundError:
        result.notes.append(
            f"the bundle {printable(str(bundle))} is not beside this review copy: the binding "
            "to it was not checked"
        )
        return
    except OSError as exc:
        result.problems.append(
            f"binding: cannot read {printable(str(bundle / MANIFEST))} ({exc.strerror})"
        )
        return
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    if digest.hexdigest() != recorded:
        result.problems.append(
            f"binding: {printable(str(bundle / MANIFEST))} is not the manifest this review copy "
            "was made for; the two folders are not of one release"
        )


def _check_interrupted(root: Path, result: VerifyResult) -> None:
    """A journal beside the folder: a release was killed while swapping it into place."""
    names = {root} | ({bundle} if (bundle := bundle_of(root)) is not None else set())
    for name in sorted(names):
        if os.path.lexists(commit_journal(name)):
            result.problems.append(
                f"interrupted: a release was killed while swapping {printable(str(name))} and "
                "the folders that belong with it; run the release again on the same --out to "
                "finish (or roll back) that commit"
            )


def verify_bundle(
    root: str | Path, *, key: Keys | None = None, check_binding: bool = True, staged: bool = False
) -> VerifyResult:
    """Check a bundle against its manifest, reading nothing outside the bundle.

    Parameters
    ----------
    root : str or Path
        The bundle folder.
    key : bytes, optional
        The organizer's key: the manifest's signature is checked first, and when it
        does not match no other file is read (``files_checked`` is False).
    check_binding : bool
        Also check that a review copy belongs to the bundle beside it, and that no
        interrupted commit left the pair half swapped (off when a run proves a folder
        its own before replacing it).
    staged : bool
        The folder is being built (:mod:`publisher.engine.staging`): its staging marker
        is not an extra file.

    Returns
    -------
    VerifyResult
        Problems: changed, missing and extra files, extra folders, links, FIFOs and
        devices, unsafe names in the manifest, missing required files, a bad or absent
        signature.

    Raises
    ------
    BundleVerificationError
        When the folder or its manifest cannot be read at all.
    """
    root = Path(root)
    if not root.is_dir():
        raise BundleVerificationError(f"{printable(str(root))}: not a folder")
    manifest = _read_manifest(root)
    listed: dict[str, Any] = manifest["files"]
    result = VerifyResult(files=len(listed), manifest=manifest)
    if key is not None:
        _check_origin(manifest, key, result)
        if result.problems:
            result.files_checked = False
            return result
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        tree = _Tree()
        _walk(root_fd, "", tree, 0)
        if MANIFEST in tree.others:
            result.problems.append(f"not a regular file: {MANIFEST}")
        for name in sorted(listed):
            problem = _entry_problem(name, listed[name], tree, root_fd)
            if problem is not None:
                result.problems.append(problem)
    finally:
        os.close(root_fd)
    result.problems.extend(_unlisted(tree, listed, staged))
    for name in _required(manifest):
        if name not in listed:
            result.problems.append(f"required file not in the manifest: {name}")
    if not reports_only(manifest) and not any(
        name.startswith(("data/", "aggregates/", "model/")) for name in listed
    ):
        result.problems.append("required data not in the manifest: data/, aggregates/ or model/")
    if check_binding:
        _check_binding(root, manifest, result)
        _check_interrupted(root, result)
    return result
