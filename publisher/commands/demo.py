"""``publisher demo`` and ``publisher synth``: the embedded data's story, synthetic data."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.commands._common import errors, quiet, summary
from publisher.demo import demo_data, run_demo
from publisher.engine.keys import load_key, organizer_keys
from publisher.engine.output import check_file_output
from publisher.reporting.format import count
from publisher.reporting.terminal import (
    render_comparison,
)
from publisher.synth import PRESETS, synthesize, write_synthetic


@click.command("demo")
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=Path("publisher-demo"),
    show_default=True,
    help="Folder for the demo bundles.",
)
@click.option("--key-file", type=click.Path(path_type=Path), help="Pseudonymization key file.")
@click.option(
    "--seed",
    type=int,
    help="Make the demo reproducible (needs the key, from --key-file or PUBLISHER_KEY).",
)
@quiet
def demo_command(out: Path, key_file: Path | None, seed: int | None) -> None:
    """Release the embedded MovieLens latest-small data (no arguments needed).

    Example:

        publisher demo --out /tmp/demo
    """
    with errors():
        key, _ = load_key(key_file)
        runs = run_demo(out, seed=seed, key=organizer_keys(key))
    click.echo(
        "MovieLens latest-small: 100,836 ratings by 610 users (GroupLens; shipped with its "
        "README.txt licence)"
    )
    click.echo(render_comparison([(run.policy, run.report) for run in runs]))
    for run in runs:
        if run.result is not None:
            click.echo(f"{run.policy}: published. {summary(run.result)}")
        else:
            click.echo(f"{run.policy}: REJECTED by its gate; no data published, report only.")
        click.echo(f"  report: {run.html}")
        if run.result is not None:
            click.echo(
                f"  public report (figures of the original withheld): {run.folder}/report.html"
            )
    rejected = [run.policy for run in runs if run.result is None]
    if rejected:
        click.echo(
            f"{' and '.join(rejected)} rejected: publisher tune searches the policies built on one "
            "for the most useful that passes its gate (about a minute here):\n"
            f"  publisher tune {demo_data()} --policy balanced --out {out}-tuning"
        )


@click.command("synth")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    required=True,
    help="Whose marginals to reproduce.",
)
@click.option(
    "--scale",
    type=click.FloatRange(0, 10, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiplies the numbers of customers and items.",
)
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Output file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "netflix"]),
    default="parquet",
    show_default=True,
    help="Parquet, or the Netflix Prize text format.",
)
@click.option("--seed", type=int, help="Fix the randomness.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out file.")
@quiet
def synth_command(
    preset: str, scale: float, out: Path, fmt: str, seed: int | None, overwrite: bool
) -> None:
    """Generate synthetic ratings with the marginals of Netflix Prize or MovieLens.

    Example:

        publisher synth --preset netflix --scale 0.1 --out netflix-10pct.parquet
    """
    with errors():
        check_file_output(out, overwrite=overwrite)  # before minutes of generation
        frame = synthesize(preset, scale=scale, seed=seed)
        write_synthetic(frame, out, format=fmt, overwrite=overwrite)
    click.echo(
        f"{out}: {count(len(frame))} ratings, {count(frame['user'].nunique())} users, "
        f"{count(frame['item'].nunique())} items"
    )
