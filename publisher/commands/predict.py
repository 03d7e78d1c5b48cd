"""``publisher predict``: ratings predicted from a model bundle (no original data, no key)."""

from __future__ import annotations

from pathlib import Path

import click

from audits.recommend import METHODS
from publisher.commands._common import errors, quiet
from publisher.engine.predict import predict_bundle


@click.command("predict")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--ratings",
    "known",
    required=True,
    type=click.Path(path_type=Path),
    help="Each user's own ratings (user,item,rating; MovieLens or Netflix files too).",
)
@click.option(
    "--pairs",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV with a user,item header: the ratings to predict.",
)
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Predictions CSV to write."
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="svd",
    show_default=True,
    help="svd: the factor model; knn: ridge regression on the user's nearest items.",
)
@quiet
def predict_command(bundle: Path, known: Path, pairs: Path, out: Path, method: str) -> None:
    """Predict the PAIRS' ratings from BUNDLE's DP model and each user's own RATINGS.

    Writes user,item,prediction (one row per pair, on the bundle's scale). The bundle's
    files are checked against its manifest first.

    Example:

        publisher predict dp-bundle --ratings mine.csv --pairs wanted.csv --out predicted.csv
    """
    with errors():
        result = predict_bundle(bundle, known, pairs, out, method=method)
    click.echo(f"{out}: {len(result):,} predictions ({method})")
