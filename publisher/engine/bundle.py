"""The bundle's manifest: what it lists and how it is signed; bounded JSON reading.

``MANIFEST.json`` lists the SHA-256 and size of every other file; when the organizer's
key is known it also carries an HMAC-SHA256 over the manifest under a subkey derived
for that purpose alone (:mod:`publisher.engine.keys`), so a verifier holding the key proves
origin, not just integrity.

Verification is in :mod:`publisher.engine.verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from publisher.core.errors import BundleVerificationError
from publisher.core.files import SmallFileError, read_small_file
from publisher.core.parsing import DuplicateKeyError, canonical_json, json_text, strict_json
from publisher.engine.keys import Keys

__all__ = [
    "MANIFEST",
    "MANIFEST_SCHEMA",
    "MAX_JSON_BYTES",
    "OLD_SCHEMAS",
    "STAGING_MARKER",
    "build_manifest",
    "commit_journal",
    "hash_file",
    "list_files",
    "load_json",
    "manifest_for",
    "printable",
    "signature_tag",
    "write_json",
    "write_text_atomic",
]

MANIFEST = "MANIFEST.json"
#: v2 signs with an HKDF subkey (publisher.engine.keys); v1 signed with HMAC(key, label),
#: which a customer id equal to the label could reveal as a pseudonym.
MANIFEST_SCHEMA = "publisher.manifest/2"
OLD_SCHEMAS = ("publisher.manifest/1",)
#: A file inside a folder being built, naming its writer (see publisher.engine.output); never
#: part of a bundle.
STAGING_MARKER = ".publisher-staging"
#: MANIFEST.json and report.json are read up to this size.
MAX_JSON_BYTES = 64 << 20
_TEMP_MARK = ".tmp-"
_CHUNK = 1 << 20


def commit_journal(out: Path) -> Path:
    """Where a commit on ``out`` keeps its journal: ``.NAME.commit`` beside it.

    See :mod:`publisher.engine.staging`; verify reads it to name an interrupted commit.
    """
    return out.parent / f".{out.name}.commit"


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


def _canonical(manifest: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return canonical_json(unsigned)


def signature_tag(key: Keys, manifest: dict[str, Any]) -> str:
    """HMAC-SHA256 of the manifest (its canonical JSON, signature left out), as hex."""
    return hmac.new(key.manifest, _canonical(manifest), hashlib.sha256).hexdigest()


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
    write_text_atomic(path, json_text(data))


def load_json(path: Path, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file of at most ``max_bytes``, refusing links and special files.

    Repeated members are refused at any depth (:func:`~publisher.core.parsing.strict_json`):
    a reader that keeps the first of two ``signature`` members and this tool, which
    would keep the last, must never see two different documents in the same bytes.

    Raises
    ------
    BundleVerificationError
        When the file is not a regular file, too large, not JSON, repeats a member or is
        nested too deeply.
    """
    try:
        data = read_small_file(path, max_bytes, follow_links=False, special=False)
    except SmallFileError as exc:
        reason = {
            "link": "is a symbolic link",
            "folder": "not a regular file",
            "special": "not a regular file",
            "size": f"larger than {max_bytes:,} bytes; not reading it",
        }.get(exc.kind, exc.detail)
        raise BundleVerificationError(f"{printable(str(path))}: {reason}") from None
    try:
        return strict_json(data)
    except DuplicateKeyError as exc:
        raise BundleVerificationError(f"{printable(str(path))}: {exc}") from None
    except RecursionError:
        raise BundleVerificationError(f"{printable(str(path))}: JSON nested too deeply") from None
    except ValueError as exc:
        raise BundleVerificationError(f"{printable(str(path))}: not valid JSON ({exc})") from None


def build_manifest(root: Path, meta: dict[str, Any], key: Keys | None = None) -> dict[str, Any]:
    """Describe every file under ``root`` and, given a key, sign the description.

    Parameters
    ----------
    root : Path
        The bundle folder (without its manifest yet).
    meta : dict
        Extra top-level fields (tool, policy, randomness, ...).
    key : Keys, optional
        The organizer key's subkeys; adds ``signature`` (HMAC-SHA256 under the manifest
        subkey).

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
    return manifest_for(files, meta, key)


def manifest_for(
    files: dict[str, dict[str, Any]], meta: dict[str, Any], key: Keys | None = None
) -> dict[str, Any]:
    """The manifest of ``files`` (name -> sha256 and bytes, as already known), signed with ``key``.

    ``publisher report`` re-signs with the entries it verified, never by re-hashing a
    folder someone else may have written to in the meantime.
    """
    manifest: dict[str, Any] = {"schema": MANIFEST_SCHEMA, **meta, "files": dict(files)}
    if key is not None:
        manifest["signature"] = {"algorithm": "HMAC-SHA256", "value": signature_tag(key, manifest)}
    return manifest
