"""A released recommender model: the noisy statistics and their cleaned factors.

What a model bundle's ``model/`` folder holds, as one value that the release writes,
``publisher predict`` reads and the utility audit scores. Nothing here touches ratings:
it is built by :mod:`policies.mcsherry` and :mod:`policies.cleaning` and read back from
files with :meth:`ItemModel.read` (numpy's format without pickles, CSV, JSON).

Files of ``model/``:

* ``MODEL.json``: kind, unit, epsilon, delta, the constants, the scale, the noisy global
  sum, count and average, the shapes;
* ``items.csv``: item, noisy_sum, noisy_count, average (stabilised), variance and
  uniqueness (cleaned: each item's variance, and the part the factors leave);
* ``factors.npy``: items x k cleaned factors (float32);
* ``cov.npy``, ``wgt.npy``: the noisy item x item matrices (float32), when the item
  domain is small enough (``max_matrix_items``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from publisher.core.assemble import id_positions
from publisher.core.errors import PublisherError
from publisher.core.parsing import json_text
from publisher.core.ratings import Scale

__all__ = ["MODEL_FILES", "ItemModel", "ModelFileError"]

MODEL_FILES = ("MODEL.json", "items.csv", "factors.npy", "cov.npy", "wgt.npy")
FORMAT = "mcsherry-mironov/1"


class ModelFileError(PublisherError):
    """A model folder that is missing a file or holds one of the wrong shape."""


@dataclass(frozen=True, kw_only=True)
class ItemModel:
    """The released model (see the module notes).

    Attributes
    ----------
    scale : Scale
    item_ids : numpy.ndarray
        The declared item domain, in row order.
    global_average : float
    item_average, item_count, item_sum : numpy.ndarray
        Stabilised averages; the noisy counts and sums they come from.
    factors : numpy.ndarray
        Items x k.
    variance : numpy.ndarray
        Cleaned per-item variance of centred ratings.
    uniqueness : numpy.ndarray
        Per item, the variance the factors leave unexplained: the predictors' ridge.
    beta_p, clamp : float
        How a customer centres their own ratings (the second phase needs them).
    cov, wgt : numpy.ndarray or None
        The noisy matrices, when published.
    meta : dict
        kind, unit, epsilon, delta and the constants, as MODEL.json records them.
    """

    scale: Scale
    item_ids: np.ndarray = field(repr=False)
    global_average: float
    global_sum: float = 0.0
    global_count: float = 0.0
    item_average: np.ndarray = field(repr=False)
    item_count: np.ndarray = field(repr=False)
    item_sum: np.ndarray = field(repr=False)
    factors: np.ndarray = field(repr=False)
    variance: np.ndarray = field(repr=False)
    uniqueness: np.ndarray = field(repr=False)
    beta_p: float
    clamp: float
    cov: np.ndarray | None = field(default=None, repr=False)
    wgt: np.ndarray | None = field(default=None, repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        """Items in the domain."""
        return len(self.item_ids)

    @property
    def rank(self) -> int:
        """k, the number of factors."""
        return int(self.factors.shape[1])

    def positions(self, item_ids: np.ndarray) -> np.ndarray:
        """Each of ``item_ids``' row in the model (-1: not in its domain).

        Ids compare as text, as the readers and the policy's domain compare them.
        """
        return id_positions(self.item_ids, item_ids)

    def write(self, folder: Path, *, matrices: bool) -> list[str]:
        """Write the files into ``folder`` (created); returns their names."""
        folder.mkdir()
        names = ["MODEL.json", "items.csv", "factors.npy"]
        header = {
            "format": FORMAT,
            **self.meta,
            "scale": str(self.scale),
            "items": self.n_items,
            "rank": self.rank,
            "global": {
                "noisy_sum": self.global_sum,
                "noisy_count": self.global_count,
                "average": self.global_average,
            },
            "beta_p": self.beta_p,
            "clamp": self.clamp,
            "matrices": bool(matrices and self.cov is not None),
        }
        (folder / "MODEL.json").write_text(json_text(header), encoding="utf-8")
        pd.DataFrame(
            {
                "item": self.item_ids,
                "noisy_sum": self.item_sum,
                "noisy_count": self.item_count,
                "average": self.item_average,
                "variance": self.variance,
                "uniqueness": self.uniqueness,
            }
        ).to_csv(folder / "items.csv", index=False)
        np.save(folder / "factors.npy", self.factors.astype(np.float32), allow_pickle=False)
        if header["matrices"]:
            assert self.cov is not None
            assert self.wgt is not None
            np.save(folder / "cov.npy", self.cov.astype(np.float32), allow_pickle=False)
            np.save(folder / "wgt.npy", self.wgt.astype(np.float32), allow_pickle=False)
            names += ["cov.npy", "wgt.npy"]
        return names

    @classmethod
    def read(cls, folder: Path) -> ItemModel:
        """Read a model folder back, checking every shape against MODEL.json.

        Raises
        ------
        ModelFileError
            Naming the file that is missing or malformed.
        """
        header = _json(folder / "MODEL.json")
        if header.get("format") != FORMAT:
            raise ModelFileError(
                f"{folder / 'MODEL.json'}: not a model this version reads "
                f"(format {header.get('format')!r}, expected {FORMAT})"
            )
        try:
            scale = Scale.parse(str(header["scale"]))
            n, k = int(header["items"]), int(header["rank"])
            glob = header["global"]
            beta_p, clamp = float(header["beta_p"]), float(header["clamp"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{folder / 'MODEL.json'}: malformed ({exc})") from None
        try:
            items = pd.read_csv(folder / "items.csv")
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{folder / 'items.csv'}: cannot read ({exc})") from None
        columns = ["item", "noisy_sum", "noisy_count", "average", "variance", "uniqueness"]
        if list(items.columns) != columns or len(items) != n:
            raise ModelFileError(
                f"{folder / 'items.csv'}: expected {n} rows of {', '.join(columns)}"
            )
        factors = _array(folder / "factors.npy", (n, k))
        cov = wgt = None
        if header.get("matrices"):
            cov = _array(folder / "cov.npy", (n, n)).astype(np.float64)
            wgt = _array(folder / "wgt.npy", (n, n)).astype(np.float64)
        meta: dict[str, Any] = {
            str(key): header[key]
            for key in ("kind", "unit", "epsilon", "delta", "split", "beta_m", "shrink")
            if key in header
        }
        return cls(
            scale=scale,
            item_ids=items["item"].to_numpy(),
            global_average=float(glob["average"]),
            global_sum=float(glob.get("noisy_sum", 0.0)),
            global_count=float(glob.get("noisy_count", 0.0)),
            item_average=items["average"].to_numpy(np.float64),
            item_count=items["noisy_count"].to_numpy(np.float64),
            item_sum=items["noisy_sum"].to_numpy(np.float64),
            factors=factors.astype(np.float64),
            variance=items["variance"].to_numpy(np.float64),
            uniqueness=items["uniqueness"].to_numpy(np.float64),
            beta_p=beta_p,
            clamp=clamp,
            cov=cov,
            wgt=wgt,
            meta=meta,
        )


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing; not a model folder") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: not a JSON object")
    return data


def _array(path: Path, shape: tuple[int, int]) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot read ({exc})") from None
    if array.shape != shape or not np.issubdtype(array.dtype, np.floating):
        raise ModelFileError(f"{path}: expected a {shape[0]} x {shape[1]} float array")
    if not np.all(np.isfinite(array)):
        raise ModelFileError(f"{path}: holds non-finite values")
    return array
