"""``publisher release`` and ``publisher audit``: a policy applied to an input, audited."""

from __future__ import annotations

from pathlib import Path

import click

from policies import load_policy
from publisher.commands._common import (
    Failure,
    errors,
    input_options,
    note,
    quiet,
    summary,
    verbose,
)
from publisher.core.parsing import json_text
from publisher.engine import evaluate, release
from publisher.engine.bundle import write_json
from publisher.engine.evaluate import check_seed
from publisher.engine.keys import load_key, organizer_keys
from publisher.engine.output import check_file_output
from publisher.progress import Stages
from publisher.readers import ReadOptions
from publisher.reporting.phrases import UNGATED
from publisher.reporting.terminal import (
    render_audit_table,
    verdict_lines,
)


@click.command("release")
@input_options
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--key-file", type=click.Path(path_type=Path), help="Pseudonymization key file.")
@click.option(
    "--seed",
    type=int,
    help="Make the release reproducible; with noise in the policy it needs the key, "
    "which is mixed into the seed.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
@click.option("--csv", "write_csv", is_flag=True, help="Also write data/ratings.csv.")
@click.option(
    "--ledger",
    type=click.Path(path_type=Path),
    help="The signed record of this key's linkable releases (policies with "
    "pseudonymize_users.linkable); created by the first.",
)
@quiet
def release_command(
    input: Path,
    policy: str,
    out: Path,
    reading: ReadOptions,
    key_file: Path | None,
    seed: int | None,
    overwrite: bool,
    write_csv: bool,
    ledger: Path | None,
) -> None:
    """Apply POLICY to INPUT and write a verifiable bundle to --out.

    The key comes from --key-file or the PUBLISHER_KEY environment variable;
    without one, a fresh random key is used and discarded.

    Example:

        publisher release ratings.csv --policy balanced --out release-2026
    """
    with errors():
        key, source = load_key(key_file)
        loaded = load_policy(policy)
        keys = organizer_keys(key, loaded.files(), key_file)  # the raw key goes no further
        check_seed(loaded, seed, keys)  # before the key note: the run would not start
        if key is None:
            note(
                "No pseudonymization key given (--key-file or PUBLISHER_KEY): using a fresh "
                "random key and discarding it; these pseudonyms cannot be reproduced."
            )
        stages = Stages(visible=verbose())
        result = release(
            input,
            loaded,
            out,
            reading=reading,
            key=keys,
            key_source=source,
            seed=seed,
            overwrite=overwrite,
            write_csv=write_csv,
            stages=stages,
            ledger=ledger,
        )
    note(stages.summary())
    click.echo(summary(result))
    if result.gate is not None and result.gate.ungated:
        click.echo(f"{UNGATED}.")
    click.echo(
        f"{result.review}: review copy with the exact figures of the original, for the "
        "privacy reviewer; do not publish it"
    )
    click.echo(render_audit_table(result.report))


@click.command("audit")
@input_options
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    help="Write report.json to this file ('-': standard output, the table then goes to stderr).",
)
@click.option("--seed", type=int, help="Fix all randomness (reproducible audits).")
@quiet
def audit_command(
    input: Path,
    policy: str,
    reading: ReadOptions,
    json_path: Path | None,
    seed: int | None,
) -> None:
    """Apply POLICY to INPUT in memory and attack the result; writes no bundle.

    The policy may lack pseudonymize_users (e.g. the preset 'none', to measure the
    raw data): nothing leaves the process except the figures. Exits 3 when the gate
    would reject the release, as release does (so CI can use it). INPUT '-' reads
    standard input.

    Example:

        publisher audit ratings.csv --policy none --json raw-risk.json
    """
    to_stdout = json_path is not None and str(json_path) == "-"
    with errors():
        if json_path is not None and not to_stdout:
            check_file_output(json_path, report=True)  # before the work, not after it
        stages = Stages(visible=verbose())
        evaluation = evaluate(
            input,
            policy,
            reading=reading,
            seed=seed,
            stages=stages,
        )
        if json_path is not None and not to_stdout:
            write_json(json_path, evaluation.report)
    note(stages.summary())
    if to_stdout:
        click.echo(json_text(evaluation.report), nl=False)
    # With the JSON on stdout, the table goes to stderr: stdout stays one JSON document.
    click.echo(render_audit_table(evaluation.report), err=to_stdout)
    click.echo("\n".join(verdict_lines(evaluation.report)), err=to_stdout)
    if evaluation.verdict == "fail":
        # the gate's decision, as release takes it: CI can fail on it
        raise Failure("the gate would reject this release (audit only: nothing written)", 3)
