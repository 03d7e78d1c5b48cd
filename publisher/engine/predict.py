"""``publisher predict``: ratings predicted from a model bundle and each user's own ratings.

Needs neither the original data nor the organizer's key: the bundle's files are checked
against its MANIFEST.json (integrity), its ``model/`` read, and every pair predicted from
the model plus the ratings KNOWN holds for that pair's user (:mod:`audits.recommend`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd

from audits.recommend import METHODS, predict
from publisher.core.assemble import id_positions
from publisher.core.errors import PublisherError
from publisher.core.model import ItemModel
from publisher.core.ratings import ITEM, RATING, USER
from publisher.engine.verify import verify_bundle
from publisher.readers import DEFAULT_READING, ReadOptions

__all__ = ["predict_bundle", "read_model"]

#: The most pairs one call predicts (a PAIRS file is read whole).
MAX_PAIRS = 50_000_000


def read_model(bundle: str | Path) -> ItemModel:
    """The model of a bundle whose files match its manifest.

    Raises
    ------
    PublisherError
        When a file does not match the manifest, or the bundle holds no model.
    """
    bundle = Path(bundle)
    result = verify_bundle(bundle, key=None)
    if result.problems:
        raise PublisherError(f"{bundle}: does not verify ({result.problems[0]})")
    if not (bundle / "model").is_dir():
        raise PublisherError(f"{bundle}: holds no model/ (not a model release)")
    return ItemModel.read(bundle / "model")


def _pairs(path: Path) -> pd.DataFrame:
    try:
        pairs = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_PAIRS + 1)
    except FileNotFoundError:
        raise PublisherError(f"{path}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise PublisherError(f"{path}: cannot read as CSV ({exc})") from None
    if list(pairs.columns[:2]) != ["user", "item"]:
        raise PublisherError(f"{path}: line 1: expected the header user,item")
    if len(pairs) > MAX_PAIRS:
        raise PublisherError(f"{path}: more than {MAX_PAIRS:,} pairs")
    empty = (pairs["user"].str.strip() == "") | (pairs["item"].str.strip() == "")
    if empty.any():
        line = int(np.flatnonzero(empty.to_numpy())[0]) + 2
        raise PublisherError(f"{path}: line {line}: empty user or item")
    return pairs[["user", "item"]]


def predict_bundle(
    bundle: str | Path,
    known: str | Path,
    pairs: str | Path,
    out: str | Path,
    *,
    method: str = "svd",
    reading: ReadOptions = DEFAULT_READING,
) -> pd.DataFrame:
    """Predict every pair of PAIRS and write ``user,item,prediction`` to ``out``.

    Parameters
    ----------
    bundle : path
        A model release (``model/`` inside).
    known : path
        Each user's own ratings (``user,item,rating``, or any format ``release`` reads).
    pairs : path
        CSV with a ``user,item`` header: what to predict.
    out : path
        The predictions CSV (written whole or not at all).
    method : {"svd", "knn"}
    reading : ReadOptions
        How to read ``known``.

    Returns
    -------
    pandas.DataFrame
        The predictions, as written.
    """
    if method not in METHODS:
        raise PublisherError(f"--method: use one of {', '.join(METHODS)}, got {method!r}")
    model = read_model(bundle)
    if reading.scale is None:
        reading = dataclasses.replace(reading, scale=model.scale)
    ratings = reading.read(known)
    wanted = _pairs(Path(pairs))
    frame = ratings.frame
    item_rows = model.positions(ratings.item_ids)
    known_arrays = (
        frame[USER].to_numpy(),
        item_rows[frame[ITEM].to_numpy()],
        frame[RATING].to_numpy(np.float64),
    )
    user_codes = id_positions(ratings.user_ids, wanted["user"])
    values = predict(
        model, known_arrays, (user_codes, model.positions(wanted["item"].to_numpy())), method=method
    )
    result = pd.DataFrame({"user": wanted["user"], "item": wanted["item"], "prediction": values})
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")
    try:
        result.to_csv(partial, index=False, float_format="%.4f")
        os.replace(partial, out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise PublisherError(f"{out}: cannot write ({exc.strerror})") from None
    return result
