"""Recommenders from a released model and each customer's own ratings (the second phase).

McSherry and Mironov's second phase needs no one else's data: a customer's predictions
come from the released model plus the ratings they know they gave. Both predictors
start from the baseline ``MAvg_j + b_u`` (the item's stabilised average plus the
customer's own average offset, shrunk by ``beta_p`` as in the first phase) and add a
prediction of the customer's centred residual on item j:

* ``svd``: the best linear predictor under the factor model ``F F^T + Psi`` (Psi: the
  items' uniqueness, diagonal): ``F_j (I + F_I^T Psi_I^-1 F_I)^-1 F_I^T Psi_I^-1 r_I``
  (Woodbury), with I the customer's items;
* ``knn``: a ridge regression of j on the ``neighbours`` items of I most similar to it
  (by the published Wgt when present, else by the factors' correlation) under the same
  covariance: ``C_jN (C_NN)^-1 r_N`` with ``C_NN = F_N F_N^T + Psi_N``.

Predictions are clipped to the scale. Unknown items (outside the model's domain) get
the customer's baseline on the global average.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from publisher.core.model import ItemModel

__all__ = ["METHODS", "predict"]

METHODS = ("svd", "knn")
DEFAULT_NEIGHBOURS = 30


def predict(
    model: ItemModel,
    known: tuple[np.ndarray, np.ndarray, np.ndarray],
    pairs: tuple[np.ndarray, np.ndarray],
    *,
    method: str = "svd",
    neighbours: int = DEFAULT_NEIGHBOURS,
) -> np.ndarray:
    """Predict the rating of every (user, item) pair.

    Parameters
    ----------
    model : ItemModel
    known : (users, items, ratings)
        Each customer's own ratings: user codes, item positions in ``model.item_ids``
        (-1: not in the model), values on the model's scale.
    pairs : (users, items)
        What to predict: user codes as in ``known``, item positions (-1: unknown).
    method : {"svd", "knn"}
    neighbours : int
        For ``knn``: how many of the customer's items each prediction regresses on.

    Returns
    -------
    numpy.ndarray
        One prediction per pair, on the model's scale.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    k_users, k_items, k_values = (np.asarray(a) for a in known)
    p_users, p_items = (np.asarray(a) for a in pairs)
    inside = k_items >= 0
    k_users, k_items, k_values = k_users[inside], k_items[inside], k_values[inside]
    out = np.empty(len(p_users))
    scale = model.scale
    order = np.argsort(k_users, kind="stable")
    k_users, k_items, k_values = k_users[order], k_items[order], k_values[order]
    starts = np.searchsorted(k_users, p_users, side="left")
    ends = np.searchsorted(k_users, p_users, side="right")
    pair_order = np.lexsort((p_items, p_users))
    similarity = _similarity(model)
    ridge = model.uniqueness
    lo = 0
    while lo < len(pair_order):
        hi = lo
        user = p_users[pair_order[lo]]
        while hi < len(pair_order) and p_users[pair_order[hi]] == user:
            hi += 1
        rows = pair_order[lo:hi]
        a, b = starts[rows[0]], ends[rows[0]]
        items, values = k_items[a:b], k_values[a:b]
        residual = values - model.item_average[items]
        offset = residual.sum() / (len(items) + model.beta_p) if len(items) else 0.0
        centred = np.clip(residual - offset, -model.clamp, model.clamp)
        targets = p_items[rows]
        known_target = targets >= 0
        base = (
            np.where(known_target, model.item_average[np.maximum(targets, 0)], model.global_average)
            + offset
        )
        if len(items) and known_target.any():
            t = targets[known_target]
            if method == "svd":
                base[known_target] += _svd(model.factors, items, centred, t, ridge)
            else:
                base[known_target] += _knn(model, similarity, items, centred, t, ridge, neighbours)
        out[rows] = base
        lo = hi
    return np.clip(out, scale.minimum, scale.maximum)


def _svd(
    factors: np.ndarray,
    items: np.ndarray,
    centred: np.ndarray,
    targets: np.ndarray,
    ridge: np.ndarray,
) -> np.ndarray:
    f = factors[items]
    scaled = f / ridge[items][:, None]
    k = factors.shape[1]
    p = np.linalg.solve(np.eye(k) + f.T @ scaled, scaled.T @ centred)
    return factors[targets] @ p


def _similarity(model: ItemModel) -> Callable[[np.ndarray, int], np.ndarray]:
    """How similar each of ``items`` is to ``target``: Wgt when published, else factors."""
    if model.wgt is not None:
        wgt = model.wgt

        def by_weight(items: np.ndarray, target: int) -> np.ndarray:
            return wgt[items, target]

        return by_weight
    norms = np.sqrt(np.einsum("ik,ik->i", model.factors, model.factors)) + 1e-12

    def by_factors(items: np.ndarray, target: int) -> np.ndarray:
        return np.abs(model.factors[items] @ model.factors[target]) / (norms[items] * norms[target])

    return by_factors


def _knn(
    model: ItemModel,
    similarity: Callable[[np.ndarray, int], np.ndarray],
    items: np.ndarray,
    centred: np.ndarray,
    targets: np.ndarray,
    ridge: np.ndarray,
    neighbours: int,
) -> np.ndarray:
    factors = model.factors
    out = np.empty(len(targets))
    for n, target in enumerate(targets):
        chosen = np.arange(len(items))
        if len(items) > neighbours:
            chosen = np.argpartition(-similarity(items, int(target)), neighbours - 1)[:neighbours]
        f = factors[items[chosen]]
        c_nn = f @ f.T + np.diag(ridge[items[chosen]])
        c_nj = f @ factors[target]
        out[n] = c_nj @ np.linalg.solve(c_nn, centred[chosen])
    return out
