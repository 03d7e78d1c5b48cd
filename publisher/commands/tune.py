"""``publisher tune``: the privacy-utility frontier, and the policy to release with."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import click

from publisher.commands._common import errors, input_options, quiet
from publisher.commands._common import verbose as shown
from publisher.progress import CandidateProgress
from publisher.readers import ReadOptions
from publisher.tuning import NoRecommendationError, tune
from publisher.tuning.page import terminal_table
from publisher.tuning.space import OBJECTIVES

#: Loggers of one candidate's evaluation: their lines (steps, audits) show under -v only.
_EVALUATION_LOGGERS = ("publisher.engine", "publisher.readers", "audits", "policies")


@contextlib.contextmanager
def _evaluation_lines(shown: bool) -> Iterator[None]:
    """Hide (unless ``shown``) the INFO lines each candidate's evaluation writes."""
    loggers = [logging.getLogger(name) for name in _EVALUATION_LOGGERS]
    levels = [lg.level for lg in loggers]
    if not shown:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@click.command("tune")
@input_options
@click.option(
    "--space",
    type=click.Path(path_type=Path),
    help="Space file (STEP.PARAM: [values]); default: the built-in space.",
)
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="New folder.")
@click.option("--budget-minutes", type=float, help="Stop evaluating candidates after this long.")
@click.option("--seed", type=int, help="Fix the search's draws (recorded in frontier.json).")
@click.option(
    "--objective",
    type=click.Choice(list(OBJECTIVES)),
    help="Utility measure to optimize (default: the space's, else rmse_increase).",
)
@click.option("--no-prune", is_flag=True, help="Audit every candidate (no pruning).")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="A line per candidate and each candidate's step and audit lines.",
)
@quiet
def tune_command(
    input: Path,
    policy: str,
    reading: ReadOptions,
    space: Path | None,
    out: Path,
    budget_minutes: float | None,
    seed: int | None,
    objective: str | None,
    no_prune: bool,
    verbose: bool,
) -> None:
    """Search policies built on POLICY for the most useful one that passes its gate.

    POLICY gives the gate, the adversaries and the fixed steps; the space lists the
    values to try per step parameter. Writes frontier.json, frontier.html and (when a
    candidate passes, also on a fresh re-audit) recommended.yaml to --out. Exit code
    3 when nothing passes (the frontier is written all the same).

    Example:

        publisher tune ratings.csv --policy balanced --out tuning
        publisher release ratings.csv --policy tuning/recommended.yaml --out release
    """
    progress = CandidateProgress(lines=verbose) if shown() else None
    with errors(), _evaluation_lines(verbose):
        try:
            run = tune(
                input,
                policy,
                out,
                space=space,
                reading=reading,
                seed=seed,
                budget_minutes=budget_minutes,
                objective=objective,
                prune=not no_prune,
                progress=progress,
            )
        except NoRecommendationError as exc:
            click.echo(terminal_table(exc.run.frontier))
            raise
        finally:
            if progress is not None:
                progress.close()
    click.echo(terminal_table(run.frontier))
    click.echo(f"{out / 'frontier.html'}: the frontier, every candidate and the presets")
    click.echo(
        f"{out / 'recommended.yaml'}: the policy; publisher release {input} "
        f"--policy {out / 'recommended.yaml'} --out DIR"
    )
