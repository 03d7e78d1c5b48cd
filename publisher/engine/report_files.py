"""A bundle's report files: writing them, reading report.json back, re-rendering from it."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from publisher.core.errors import (
    BundleVerificationError,
    PublisherError,
)
from publisher.core.parsing import json_text, strict_json
from publisher.engine.bundle import MANIFEST, load_json, manifest_for
from publisher.engine.keys import Keys
from publisher.engine.output import folder_kind, review_path
from publisher.engine.staging import output_lock, staging
from publisher.engine.verify import reports_only, verify_bundle
from publisher.reporting.phrases import is_public
from publisher.reporting.public import consistency_problems, withheld_held
from publisher.reporting.render import render_html, render_markdown
from publisher.reporting.report_json import validate_report

logger = logging.getLogger(__name__)


def write_reports(root: Path, report: dict[str, Any]) -> None:
    """Write report.json, report.md and report.html into ``root``."""
    (root / "report.json").write_text(json_text(report), encoding="utf-8")
    (root / "report.md").write_text(render_markdown(report), encoding="utf-8")
    (root / "report.html").write_text(render_html(report), encoding="utf-8")


def read_report(
    bundle: str | Path, manifest: dict[str, Any] | None = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """Read a bundle's report.json and check it against the schema.

    Given the folder's ``manifest``, also check that a public bundle holds the public
    view: the review view carries exact figures of the original.

    Returns
    -------
    (dict or None, list of str)
        The report (None if absent or unreadable) and the problems found.
    """
    path = Path(bundle) / "report.json"
    if not path.is_file():
        return None, []
    try:
        report = load_json(path)
    except BundleVerificationError as exc:
        return None, [f"report.json: {str(exc).rsplit(': ', 1)[-1]}"]
    problems = [f"report.json: {problem}" for problem in validate_report(report)]
    if problems:
        return report, problems
    problems += [f"report.json: {problem}" for problem in consistency_problems(report)]
    public_bundle = manifest is not None and not reports_only(manifest)
    if public_bundle:
        # judged by content, not by the "view" label: anyone can relabel an unsigned report
        held = withheld_held(report)
        if not is_public(report) or held:
            problems.append(
                "report.json: not the public view, so it carries exact figures of the original "
                "data; a public bundle must hold the public view (the full one belongs in the "
                "review copy)" + (f"; it holds {', '.join(held[:3])}" if held else "")
            )
        if report["verdict"] == "fail":
            problems.append(
                "report.json: verdict fail in a published bundle (a rejected "
                "release publishes nothing)"
            )
    return report, problems


def rerender(bundle: str | Path, *, key: Keys | None = None) -> list[str]:
    """Re-render report.md and report.html of a bundle from its report.json.

    Under the bundle's lock: the bundle must verify first (a tampered report.json is not
    rendered); report.json is read once and must have the hash verified; a new folder is
    built beside it with the re-rendered files and every other listed file unchanged,
    and its manifest is the verified one with ONLY the re-rendered entries replaced
    (so a file swapped by someone between verify and re-signing is never signed: the new
    bundle would not verify, and the commit refuses it). A public bundle's review copy
    beside it is re-bound to the new manifest in the same commit
    (:mod:`publisher.engine.staging`). A signed manifest needs the organizer's key.

    Returns
    -------
    list of str
        The files that changed.

    Raises
    ------
    BundleVerificationError
        When the bundle does not verify or its report.json breaks the schema.
    PublisherError
        When a signed manifest would have to be re-signed without the key.
    """
    root = Path(bundle)
    with output_lock(root):
        result = verify_bundle(root, key=key)
        if not result.ok:
            raise BundleVerificationError(
                f"{root}: does not verify ({result.problems[0]}); not rendering from it"
            )
        manifest = result.manifest
        report = _verified_json(root, "report.json", manifest)
        problems = validate_report(report)
        if problems:
            raise BundleVerificationError(f"{root / 'report.json'}: {problems[0]}")
        rendered = {
            "report.md": render_markdown(report).encode("utf-8"),
            "report.html": render_html(report).encode("utf-8"),
        }
        changed = [
            name
            for name, data in rendered.items()
            if manifest["files"].get(name, {}).get("sha256") != hashlib.sha256(data).hexdigest()
        ]
        if not changed:
            return []
        if "signature" in manifest and key is None:
            raise PublisherError(
                f"{root}: the manifest is signed; pass --key-file to re-sign it after re-rendering"
            )
        review = review_path(root)
        rebind = folder_kind(manifest) == "bundle" and review.exists()
        review_manifest = _verified_review(review, key) if rebind else None
        targets = (root, review) if rebind else (root,)

        def unchanged(temps: list[Path]) -> None:
            for temp in temps:
                found = verify_bundle(temp, check_binding=False, staged=True)
                if not found.ok:
                    raise BundleVerificationError(
                        f"{root}: changed while being re-rendered ({found.problems[0]}); "
                        "nothing was re-signed"
                    )

        with staging(*targets, overwrite=True, private=(False, True), check=unchanged) as temps:
            new = _rebuilt(root, temps[0], manifest, rendered, changed, key)
            if review_manifest is not None:
                bound = hashlib.sha256(new).hexdigest()
                _rebuilt(review, temps[1], review_manifest, {}, [], key, bound)
    return changed


def _verified_json(root: Path, name: str, manifest: dict[str, Any]) -> Any:
    """A listed JSON file read once, from bytes whose SHA-256 is the manifest's."""
    data = (root / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest["files"][name]["sha256"]:
        raise BundleVerificationError(f"{root / name}: changed after it was verified")
    try:
        return strict_json(data)
    except (ValueError, RecursionError) as exc:
        raise BundleVerificationError(f"{root / name}: not valid JSON ({exc})") from None


def _verified_review(review: Path, key: Keys | None) -> dict[str, Any]:
    result = verify_bundle(review, key=key)
    if not result.ok:
        raise BundleVerificationError(
            f"{review}: does not verify ({result.problems[0]}); the bundle and its review copy "
            "change together, so nothing was re-rendered"
        )
    if "signature" in result.manifest and key is None:
        raise PublisherError(
            f"{review}: its manifest is signed; pass --key-file to re-bind it to the "
            "re-rendered bundle"
        )
    return result.manifest


def _rebuilt(
    source: Path,
    temp: Path,
    manifest: dict[str, Any],
    rendered: dict[str, bytes],
    changed: list[str],
    key: Keys | None,
    bound: str | None = None,
) -> bytes:
    """Fill ``temp``: links to the verified files, the re-rendered ones; return the manifest.

    The manifest keeps every verified entry and replaces only those of ``changed``
    (and, for a review copy, the bundle manifest's SHA-256 ``bound``).
    """
    files = dict(manifest["files"])
    for name in files:
        target = temp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name in changed:
            target.write_bytes(rendered[name])
            continue
        try:
            os.link(source / name, target, follow_symlinks=False)
        except OSError:  # a filesystem without hard links: a copy, checked like a link
            shutil.copyfile(source / name, target, follow_symlinks=False)
    for name in changed:
        files[name] = {
            "sha256": hashlib.sha256(rendered[name]).hexdigest(),
            "bytes": len(rendered[name]),
        }
    meta = {k: v for k, v in manifest.items() if k not in ("schema", "files", "signature")}
    if bound is not None:
        meta["bundle_manifest_sha256"] = bound
    new = manifest_for(files, meta, key)
    data = json_text(new).encode("utf-8")
    (temp / MANIFEST).write_bytes(data)
    return data
