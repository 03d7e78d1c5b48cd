"""``publisher tune``: the privacy-utility frontier, and the policy to release with."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.commands._common import errors, input_options, note, quiet
from publisher.readers import ReadOptions
from publisher.tuning import NoRecommendationError, tune
from publisher.tuning.page import terminal_table
from publisher.tuning.search import Trial
from publisher.tuning.space import OBJECTIVES


def _progress(trial: Trial, k: int, n: int) -> None:
    figures = trial.figures or {}
    upper = figures.get("risk_upper")
    risk = "" if upper is None else f" risk upper {100 * upper:.1f}%"
    note(
        f"[{k + 1}/{n}] #{trial.candidate.number} {trial.status}{risk} "
        f"({trial.seconds:.1f} s){': ' + trial.reason if trial.reason else ''}"
    )


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
    with errors():
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
                progress=_progress,
            )
        except NoRecommendationError as exc:
            click.echo(terminal_table(exc.run.frontier))
            raise
    click.echo(terminal_table(run.frontier))
    click.echo(f"{out / 'frontier.html'}: the frontier, every candidate and the presets")
    click.echo(
        f"{out / 'recommended.yaml'}: the policy; publisher release {input} "
        f"--policy {out / 'recommended.yaml'} --out DIR"
    )
