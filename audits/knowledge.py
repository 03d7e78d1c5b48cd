"""What the attacker knows of a target: the knowledge models, as data.

The adversary knows ``known_items`` of a target's ratings (``wrong_items`` of them
misremembered), approximately. WHICH ratings is a model of the world, and the audit
takes the worst case over the models a policy declares (all three by default):

``original``
    drawn uniformly from the target's ORIGINAL ratings (the published attack's draw).
``released``
    drawn from the target's original ratings of items present in the release: items are
    public, so an attacker who knows more of a customer's ratings simply keeps those of
    movies the release lists. Under ``original`` a policy that deletes most items deletes
    most of the attacker's knowledge with them; this model does not let it hide.
``popular``
    drawn from the target's original ratings with probability proportional to the item's
    number of raters ("what people talk about": the films a friend or a review site
    mentions).

Wrong items are items the target never rated, drawn from the same pool (items in the
release for ``released``, popularity-weighted for ``popular``). A target is eligible for
a model when it has at least the adversary's true items in that model's pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audits._index import IndexedTable
from audits.scoreboard import AuxiliaryInformation
from publisher.core.adversary import KNOWLEDGE_MODELS, Adversary

__all__ = ["KNOWLEDGE_MODELS", "KnowledgePool", "draw_knowledge", "knowledge_pool"]


@dataclass(frozen=True)
class KnowledgePool:
    """Where one knowledge model draws from, on one original table.

    Attributes
    ----------
    model : str
    allowed : bool array (items,)
        Item codes the knowledge may name.
    weights : float array (items,) or None
        Relative probability of each item (None: uniform).
    """

    model: str
    allowed: np.ndarray
    weights: np.ndarray | None


def eligible_items(original: IndexedTable, adversary: Adversary) -> np.ndarray:
    """Item codes the adversary may know: all rated items, minus the top N by raters."""
    support = original.by_item.support()
    eligible = support > 0
    if adversary.exclude_top:
        top = np.argsort(-support, kind="stable")[: adversary.exclude_top]
        eligible[top] = False
    return eligible


def knowledge_pool(
    model: str,
    original: IndexedTable,
    adversary: Adversary,
    present: np.ndarray | None = None,
) -> KnowledgePool:
    """The pool of ``model`` on ``original``; ``present`` marks the items of the release.

    ``present`` None (the unprotected data itself): every item is there, and ``released``
    draws as ``original`` does.
    """
    if model not in KNOWLEDGE_MODELS:
        raise ValueError(f"unknown knowledge model {model!r}; use {', '.join(KNOWLEDGE_MODELS)}")
    allowed = eligible_items(original, adversary)
    weights = None
    if model == "released" and present is not None:
        allowed = allowed & np.asarray(present, dtype=bool)
    elif model == "popular":
        weights = original.by_item.support().astype(np.float64)
    return KnowledgePool(model, allowed, weights)


def eligible_users(original: IndexedTable, adversary: Adversary, pool: KnowledgePool) -> np.ndarray:
    """User codes with at least ``true_items`` ratings in the pool of the model."""
    index = original.by_record
    if pool.allowed.all():
        counts = index.support()  # every rated item is allowed: no per-rating pass needed
    else:
        allowed = pool.allowed[index.other].astype(np.int32)
        counts = np.add.reduceat(allowed, index.ptr[:-1]) if len(allowed) else allowed
        counts = np.where(np.diff(index.ptr) > 0, counts, 0)
    return original.records.codes[counts >= adversary.true_items]


def _choose(
    rng: np.random.Generator, items: np.ndarray, size: int, weights: np.ndarray | None
) -> np.ndarray:
    """``size`` distinct positions of ``items``, uniformly or by ``weights``."""
    if size == 0:
        return np.zeros(0, np.int64)
    if weights is None:
        return rng.choice(len(items), size=size, replace=False)
    w = weights[items]
    return rng.choice(len(items), size=size, replace=False, p=w / w.sum())


def draw_knowledge(
    original: IndexedTable,
    adversary: Adversary,
    targets: np.ndarray,
    pool: KnowledgePool,
    rng: np.random.Generator,
) -> AuxiliaryInformation:
    """Draw each target's auxiliary information from its ORIGINAL ratings, by ``pool``.

    Parameters
    ----------
    original : IndexedTable
        The unprotected data.
    adversary : Adversary
    targets : numpy.ndarray
        User codes, each with at least ``adversary.true_items`` ratings in the pool.
    pool : KnowledgePool
    rng : numpy.random.Generator

    Returns
    -------
    AuxiliaryInformation
    """
    m = adversary.known_items
    n = len(targets)
    scale = original.ratings.scale
    index = original.by_record
    items = np.zeros((n, m), np.int32)
    rating = np.zeros((n, m), np.int64)
    day = np.zeros((n, m), np.int64)
    length = np.full(n, m, np.int64)
    candidates_all = np.flatnonzero(pool.allowed)
    t_units = math.floor(adversary.rating_tolerance)
    step_per_unit = 1.0 / scale.step
    d = adversary.date_tolerance_days or 0
    for row, code in enumerate(targets):
        record = original.records.of_code[code]
        lo, hi = index.ptr[record], index.ptr[record + 1]
        own_items = index.other[lo:hi]
        candidates = np.flatnonzero(pool.allowed[own_items])
        k = adversary.true_items
        chosen = candidates[_choose(rng, own_items[candidates], k, pool.weights)]
        items[row, :k] = own_items[chosen]
        offsets = np.rint(rng.integers(-t_units, t_units + 1, size=k) * step_per_unit)
        rating[row, :k] = np.clip(index.rating[lo + chosen] + offsets, 0, scale.k - 1)
        day[row, :k] = index.day[lo + chosen] + rng.integers(-d, d + 1, size=k)
        if adversary.wrong_items:
            # Items the target did not rate; a table so dense that fewer remain gets fewer.
            unrated = np.setdiff1d(candidates_all, own_items, assume_unique=True)
            w = min(adversary.wrong_items, len(unrated))
            items[row, k : k + w] = unrated[_choose(rng, unrated, w, pool.weights)]
            rating[row, k : k + w] = rng.integers(0, scale.k, size=w)
            days = index.day[lo:hi]
            day[row, k : k + w] = rng.integers(days.min(), days.max() + 1, size=w)
            length[row] = k + w
    return AuxiliaryInformation(
        targets=np.asarray(targets),
        items=items,
        rating=rating,
        day=day,
        length=length,
        use_dates=adversary.date_tolerance_days is not None,
        rating_steps=round(t_units * step_per_unit),
        date_days=d,
        wrong_rate=adversary.wrong_items / adversary.known_items,
    )


def known_in_release(aux: AuxiliaryInformation, present: np.ndarray) -> float:
    """Mean number of a target's known items that the release lists (wrong ones included)."""
    if not len(aux.items):
        return 0.0
    slots = np.arange(aux.items.shape[1])[None, :] < aux.length[:, None]
    return float((np.asarray(present, bool)[aux.items] & slots).sum(axis=1).mean())
