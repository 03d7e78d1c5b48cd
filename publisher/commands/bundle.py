"""``publisher verify`` and ``publisher report``: checking a bundle, re-rendering its reports."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.commands._common import Failure, errors, organizer_key, plural, quiet
from publisher.engine import read_report, rerender
from publisher.engine.bundle import printable
from publisher.engine.verify import verify_bundle
from publisher.reporting.terminal import (
    headline,
)


@click.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="The organizer's key: also prove the bundle's origin.",
)
@quiet
def verify_command(bundle: Path, key_file: Path | None) -> None:
    """Re-hash every file of BUNDLE against its MANIFEST.json (exit 4 on any mismatch).

    Example:

        publisher verify release-2026 --key-file organizer.key
    """
    with errors():
        key = organizer_key(key_file)
        result = verify_bundle(bundle, key=key)
        report, problems = read_report(bundle, result.manifest) if result.ok else (None, [])
    shown = printable(str(bundle))
    for problem in result.problems + problems:
        click.echo(problem)
    if not result.files_checked:
        click.echo("files not read: the manifest's origin did not verify")
    if result.problems or problems:
        count = plural(len(result.problems) + len(problems), "problem")
        raise Failure(f"{shown}: verification failed ({count})", 4)
    if result.origin == "verified":
        origin = "origin verified with the organizer's key"
    elif "signature" in result.manifest:
        origin = (
            "integrity only: origin not checked (pass --key-file to prove it); until then "
            "anyone could have rewritten these files and their manifest"
        )
    else:
        origin = (
            "integrity only: the manifest is unsigned, so anyone could have written these "
            "files and their manifest; this proves nothing about who made the bundle"
        )
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"OK: {shown}: {result.files} files match MANIFEST.json; {origin}")
    if report is not None:
        click.echo(headline(report))


@click.command("report")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="The organizer's key, to re-sign a signed manifest.",
)
@quiet
def report_command(bundle: Path, key_file: Path | None) -> None:
    """Re-render BUNDLE's report.md and report.html from its report.json.

    The bundle must verify first; the manifest is rebuilt when a file changes.

    Example:

        publisher report release-2026
    """
    with errors():
        key = organizer_key(key_file)
        changed = rerender(bundle, key=key)
    what = ", ".join(changed) if changed else "nothing changed"
    click.echo(f"{bundle}: re-rendered report.md and report.html ({what})")
    click.echo(f"  {bundle / 'report.html'}")
