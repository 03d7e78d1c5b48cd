"""The release bundle: atomic writing, the SHA-256 manifest and verification.

A bundle is built in a temporary sibling folder and renamed into place only when
complete, so a crash leaves either no bundle or a whole one. ``MANIFEST.json``
lists the SHA-256 and size of every other file; when the organizer's key is known
it also carries an HMAC over the manifest, so a verifier holding the key can prove
origin, not just integrity.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.errors import BundleVerificationError, PublisherError

__all__ = [
    "MANIFEST",
    "VerifyResult",
    "build_manifest",
    "hash_file",
    "staging",
    "verify_bundle",
    "write_json",
    "write_text_atomic",
]

MANIFEST = "MANIFEST.json"
MANIFEST_SCHEMA = "publisher.manifest/1"
_TEMP_MARK = ".tmp-"
_SIGNING_CONTEXT = b"publisher manifest signature v1"


def hash_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()
    )


def _signing_key(key: bytes) -> bytes:
    # Derive a separate key so the pseudonymization key is never used for two purposes.
    return hmac.new(key, _SIGNING_CONTEXT, hashlib.sha256).digest()


def _canonical(manifest: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


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


def build_manifest(root: Path, meta: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """Describe every file under ``root`` and, given a key, sign the description.

    Parameters
    ----------
    root : Path
        The bundle folder (without its manifest yet).
    meta : dict
        Extra top-level fields (tool, policy, randomness, ...).
    key : bytes, optional
        The organizer's key; adds ``signature`` (HMAC-SHA256 under a derived key).

    Returns
    -------
    dict
        The manifest, ready to be written as ``MANIFEST.json``.
    """
    files = {
        name: {"sha256": hash_file(root / name), "bytes": (root / name).stat().st_size}
        for name in _files(root)
        if name != MANIFEST
    }
    manifest: dict[str, Any] = {"schema": MANIFEST_SCHEMA, **meta, "files": files}
    if key is not None:
        tag = hmac.new(_signing_key(key), _canonical(manifest), hashlib.sha256).hexdigest()
        manifest["signature"] = {"algorithm": "HMAC-SHA256", "value": tag}
    return manifest


@contextlib.contextmanager
def staging(out: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` when the block succeeds.

    On an exception the temporary folder is removed and ``out`` is untouched.
    Stale temporary folders of earlier, killed runs are removed first.

    Raises
    ------
    PublisherError
        If ``out`` exists and ``overwrite`` is false.
    """
    out = Path(out)
    check_output(out, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}{_TEMP_MARK}*"):
        shutil.rmtree(stale, ignore_errors=True)
    temp = out.parent / f".{out.name}{_TEMP_MARK}{secrets.token_hex(4)}"
    temp.mkdir()
    try:
        yield temp
        if out.exists():
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
    return result == 0


def check_output(out: Path, *, overwrite: bool) -> None:
    """Fail early when ``out`` exists and may not be replaced."""
    if out.exists() and not overwrite:
        raise PublisherError(f"{out}: already exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise PublisherError(f"{out}: exists and is not a folder")


@dataclass
class VerifyResult:
    """The outcome of :func:`verify_bundle`.

    Attributes
    ----------
    problems : list of str
        One line per changed, missing or extra file or bad signature; empty when OK.
    files : int
        Number of files the manifest lists.
    origin : str
        ``"verified"`` (signature checked with the key), or ``"not checked"``.
    manifest : dict
        The manifest as read.
    """

    problems: list[str] = field(default_factory=list)
    files: int = 0
    origin: str = "not checked"
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def verify_bundle(root: str | Path, *, key: bytes | None = None) -> VerifyResult:
    """Re-hash every file of a bundle and compare with its manifest.

    Parameters
    ----------
    root : str or Path
        The bundle folder.
    key : bytes, optional
        The organizer's key: also checks the manifest's HMAC (proof of origin).

    Returns
    -------
    VerifyResult

    Raises
    ------
    BundleVerificationError
        When the folder or its manifest cannot be read at all.
    """
    root = Path(root)
    if not root.is_dir():
        raise BundleVerificationError(f"{root}: not a folder")
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        listed = manifest["files"]
        if not isinstance(listed, dict):
            raise TypeError
    except FileNotFoundError:
        raise BundleVerificationError(f"{root}: no {MANIFEST}; not a bundle") from None
    except (ValueError, KeyError, TypeError):
        raise BundleVerificationError(f"{root / MANIFEST}: unreadable manifest") from None
    result = VerifyResult(files=len(listed), manifest=manifest)
    present = set(_files(root)) - {MANIFEST}
    for name in sorted(listed):
        path = root / name
        if name not in present:
            result.problems.append(f"missing: {name}")
            continue
        entry = listed[name]
        if not isinstance(entry, dict):
            result.problems.append(f"changed: {name} (manifest entry unreadable)")
        elif path.stat().st_size != entry.get("bytes"):
            result.problems.append(
                f"changed: {name} ({path.stat().st_size} bytes, manifest says {entry.get('bytes')})"
            )
        elif hash_file(path) != entry.get("sha256"):
            result.problems.append(f"changed: {name} (SHA-256 differs)")
    for name in sorted(present - set(listed)):
        result.problems.append(f"extra: {name}")
    if key is not None:
        signature = manifest.get("signature")
        if not isinstance(signature, dict) or "value" not in signature:
            result.problems.append("origin: the manifest is not signed")
        else:
            expected = hmac.new(_signing_key(key), _canonical(manifest), hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, str(signature["value"])):
                result.origin = "verified"
            else:
                result.problems.append(
                    "origin: the signature does not match (another key, or an altered manifest)"
                )
    return result
