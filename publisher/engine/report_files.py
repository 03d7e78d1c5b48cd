"""A bundle's report files: writing them, reading report.json back, re-rendering from it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from publisher.core.errors import (
    BundleVerificationError,
    PublisherError,
)
from publisher.engine.bundle import (
    MANIFEST,
    build_manifest,
    load_json,
    write_text_atomic,
)
from publisher.engine.verify import reports_only, verify_bundle
from publisher.reporting.phrases import is_public
from publisher.reporting.render import render_html, render_markdown
from publisher.reporting.report_json import validate_report

logger = logging.getLogger(__name__)


def write_reports(root: Path, report: dict[str, Any]) -> None:
    """Write report.json, report.md and report.html into ``root``."""
    (root / "report.json").write_text(
        json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
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
    public_bundle = manifest is not None and not reports_only(manifest)
    if public_bundle and isinstance(report, dict) and not is_public(report):
        problems.append(
            "report.json: not the public view, so it carries exact figures of the original "
            "data; a public bundle must hold the public view (the full one belongs in the "
            "review copy)"
        )
    return report, problems


def rerender(bundle: str | Path, *, key: bytes | None = None) -> list[str]:
    """Re-render report.md and report.html of a bundle from its report.json.

    The bundle must verify first (a tampered report.json is not rendered). Files
    whose bytes change are rewritten and the manifest is rebuilt; a signed manifest
    needs the organizer's key to be re-signed.

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
    result = verify_bundle(root, key=key)
    if not result.ok:
        raise BundleVerificationError(
            f"{root}: does not verify ({result.problems[0]}); not rendering from it"
        )
    report = load_json(root / "report.json")
    problems = validate_report(report)
    if problems:
        raise BundleVerificationError(f"{root / 'report.json'}: {problems[0]}")
    rendered = {"report.md": render_markdown(report), "report.html": render_html(report)}
    changed = [
        name
        for name, text in rendered.items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    ]
    if not changed:
        return []
    manifest = result.manifest
    if "signature" in manifest and key is None:
        raise PublisherError(
            f"{root}: the manifest is signed; pass --key-file to re-sign it after re-rendering"
        )
    for name in changed:
        write_text_atomic(root / name, rendered[name])
    meta = {k: v for k, v in manifest.items() if k not in ("schema", "files", "signature")}
    write_text_atomic(
        root / MANIFEST, json.dumps(build_manifest(root, meta, key=key), indent=2) + "\n"
    )
    return changed
