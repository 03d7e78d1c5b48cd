"""The bundle's manifest: what it lists, how it is signed, and how a bundle is verified.

``MANIFEST.json`` lists the SHA-256 and size of every other file; when the organizer's
key is known it also carries an HMAC-SHA256 over the manifest under a subkey derived
for that purpose alone (:mod:`publisher.engine.keys`), so a verifier holding the key proves
origin, not just integrity.

Verification is done in the order an attacker would hate (TUF's client workflow): the
small manifest is read first, bounded in size and nesting; its signature is checked
before any other file is opened; the folder is walked without following links, and
anything that is not a regular file or a folder is a problem, never read; each listed
file is opened relative to its folder, without following links, and hashed only up to
the size the manifest states.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.core.errors import BundleVerificationError
from publisher.engine.keys import derive_key

__all__ = [
    "MANIFEST",
    "MAX_JSON_BYTES",
    "STAGING_MARKER",
    "VerifyResult",
    "build_manifest",
    "hash_file",
    "list_files",
    "load_json",
    "printable",
    "verify_bundle",
    "write_json",
    "write_text_atomic",
]

MANIFEST = "MANIFEST.json"
#: v2 signs with an HKDF subkey (publisher.engine.keys); v1 signed with HMAC(key, label),
#: which a customer id equal to the label could reveal as a pseudonym.
MANIFEST_SCHEMA = "publisher.manifest/2"
_OLD_SCHEMAS = ("publisher.manifest/1",)
#: A file inside a folder being built, naming its writer (see publisher.engine.output); never
#: part of a bundle.
STAGING_MARKER = ".publisher-staging"
#: MANIFEST.json and report.json are read up to this size.
MAX_JSON_BYTES = 64 << 20
#: A bundle holds at most this many entries and folders this deep.
MAX_ENTRIES = 100_000
MAX_DEPTH = 32
_TEMP_MARK = ".tmp-"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


def printable(name: str) -> str:
    r"""``name`` with every non-printable character escaped, so it prints on one line.

    A file name may hold a newline or terminal escapes; printed raw it could forge
    a line of output such as ``OK: ...``.

    Examples
    --------
    >>> printable("a\nOK: b")
    'a\\nOK: b'
    """
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def hash_file(path: Path, chunk: int = _CHUNK) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def list_files(root: Path) -> list[str]:
    """The bundle-relative names of the files under ``root`` (never a staging marker)."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name != STAGING_MARKER
    )


def _signing_key(key: bytes) -> bytes:
    return derive_key(key, "manifest")


def _canonical(manifest: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def _tag(key: bytes, manifest: dict[str, Any]) -> str:
    return hmac.new(_signing_key(key), _canonical(manifest), hashlib.sha256).hexdigest()


def write_text_atomic(path: Path, text: str) -> None:
    """Write text atomically: to a temporary sibling, then renamed over ``path``."""
    path = Path(path)
    temp = path.parent / f".{path.name}{_TEMP_MARK}{secrets.token_hex(4)}"
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def load_json(path: Path, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file of at most ``max_bytes``, refusing links and special files.

    Raises
    ------
    BundleVerificationError
        When the file is not a regular file, too large, not JSON or nested too deeply.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
            raise BundleVerificationError(f"{printable(str(path))}: is a symbolic link") from None
        raise BundleVerificationError(f"{printable(str(path))}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise BundleVerificationError(f"{printable(str(path))}: not a regular file")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BundleVerificationError(
            f"{printable(str(path))}: larger than {max_bytes:,} bytes; not reading it"
        )
    try:
        return json.loads(data)
    except RecursionError:
        raise BundleVerificationError(f"{printable(str(path))}: JSON nested too deeply") from None
    except ValueError as exc:
        raise BundleVerificationError(f"{printable(str(path))}: not valid JSON ({exc})") from None


def build_manifest(root: Path, meta: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """Describe every file under ``root`` and, given a key, sign the description.

    Parameters
    ----------
    root : Path
        The bundle folder (without its manifest yet).
    meta : dict
        Extra top-level fields (tool, policy, randomness, ...).
    key : bytes, optional
        The organizer's key; adds ``signature`` (HMAC-SHA256 under the manifest
        subkey, :func:`publisher.engine.keys.derive_key`).

    Returns
    -------
    dict
        The manifest, ready to be written as ``MANIFEST.json``.
    """
    files = {
        name: {"sha256": hash_file(root / name), "bytes": (root / name).stat().st_size}
        for name in list_files(root)
        if name != MANIFEST
    }
    manifest: dict[str, Any] = {"schema": MANIFEST_SCHEMA, **meta, "files": files}
    if key is not None:
        manifest["signature"] = {"algorithm": "HMAC-SHA256", "value": _tag(key, manifest)}
    return manifest


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
    """

    problems: list[str] = field(default_factory=list)
    files: int = 0
    origin: str = "not checked"
    manifest: dict[str, Any] = field(default_factory=dict)
    files_checked: bool = True

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


def _required(manifest: dict[str, Any]) -> list[str]:
    """Files every bundle of its kind has (a rejected report has no data or datasheet)."""
    names = ["report.json", "policy.yaml"]
    if not manifest.get("rejected"):
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
    if schema not in (MANIFEST_SCHEMA, *_OLD_SCHEMAS) or not isinstance(listed, dict):
        raise BundleVerificationError(
            f"{printable(str(root / MANIFEST))}: not a manifest of this tool "
            f"(schema {printable(str(schema))})"
        )
    return manifest


def _check_origin(manifest: dict[str, Any], key: bytes, result: VerifyResult) -> None:
    signature = manifest.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        result.problems.append("origin: the manifest is not signed")
    elif manifest["schema"] != MANIFEST_SCHEMA:
        result.problems.append(
            f"origin: signed under {manifest['schema']}, whose key derivation a crafted "
            "customer id can forge; re-release the data with this version"
        )
    elif hmac.compare_digest(_tag(key, manifest), signature["value"]):
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


def _unlisted(tree: _Tree, listed: dict[str, Any]) -> Iterator[str]:
    for name, kind in sorted(tree.others.items()):
        if name not in listed:
            yield f"not a regular file: {printable(name)} ({kind}; not in the manifest)"
    for name in sorted(set(tree.files) - set(listed) - {MANIFEST}):
        yield f"extra: {printable(name)}"
    needed = {parent for name in listed for parent in _parents(name)}
    for folder in sorted(set(tree.folders) - needed):
        yield f"extra folder: {printable(folder)}/"


def _parents(name: str) -> Iterator[str]:
    parts = name.split("/")
    for k in range(1, len(parts)):
        yield "/".join(parts[:k])


def verify_bundle(root: str | Path, *, key: bytes | None = None) -> VerifyResult:
    """Check a bundle against its manifest, reading nothing outside the bundle.

    Parameters
    ----------
    root : str or Path
        The bundle folder.
    key : bytes, optional
        The organizer's key: the manifest's signature is checked first, and when it
        does not match no other file is read (``files_checked`` is False).

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
    result.problems.extend(_unlisted(tree, listed))
    for name in _required(manifest):
        if name not in listed:
            result.problems.append(f"required file not in the manifest: {name}")
    if not manifest.get("rejected") and not any(
        name.startswith(("data/", "aggregates/")) for name in listed
    ):
        result.problems.append("required data not in the manifest: data/ or aggregates/")
    return result
