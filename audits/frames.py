"""From pandas DataFrames to two tables an audit can compare: the original and its release.

An audit compares records by their user and item codes, so the release's codes must
be the original's: a released customer is known only by a pseudonym, and only the
organizer's mapping says whose. :func:`paired_tables` takes that mapping explicitly,
validates both frames the way files are validated (scale, dates, duplicates) and refuses
anything that does not line up. Tables built independently would not share codes, and
an attack on them would report a meaningless (often 0%) risk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from publisher.core.errors import InputError, show
from publisher.core.ratings import DATE, ITEM, RATING, USER, Ratings, Scale

__all__ = ["check_aligned", "matched_rows", "paired_tables"]

_FIELDS = ("user", "item", "rating", "date")


def _table(frame: pd.DataFrame, names: dict[str, str], scale: Scale, label: str) -> Ratings:
    missing = [names[f] for f in ("user", "item", "rating") if names[f] not in frame.columns]
    if missing:
        shown = ", ".join(map(str, frame.columns))
        raise InputError(f"{label}: no column {missing[0]!r} (columns: {shown})")
    days = frame[names["date"]] if names["date"] in frame.columns else None
    try:
        return Ratings.from_columns(
            frame[names["user"]].to_numpy(),
            frame[names["item"]].to_numpy(),
            frame[names["rating"]].to_numpy(),
            days,
            scale=scale,
            source=label,
        )
    except InputError as exc:
        raise InputError(f"{label}: {exc}") from None


def paired_tables(
    original: pd.DataFrame,
    released: pd.DataFrame,
    *,
    mapping: Mapping[Any, Any] | pd.Series | None,
    scale: Scale,
    columns: Mapping[str, str] | None = None,
) -> tuple[Ratings, Ratings]:
    """The original ratings and their release as tables whose codes line up.

    Parameters
    ----------
    original, released : pandas.DataFrame
        One rating per row: user, item, rating and optionally date columns (named
        ``user``, ``item``, ``rating``, ``date`` unless ``columns`` says otherwise).
    mapping : mapping or Series or None
        Each released user id (pseudonym) -> the original user id it stands for. None
        when the release kept the original ids.
    scale : Scale
        The rating scale of both.
    columns : mapping, optional
        Column names, e.g. ``{"user": "customer_id"}``.

    Returns
    -------
    (Ratings, Ratings)
        The original and the release, sharing user and item codes.

    Raises
    ------
    InputError
        For a frame that fails validation (naming the row), a released user missing from
        the mapping, a mapping to an unknown original user or two pseudonyms mapped to
        one user, or a released item the original does not have.

    Examples
    --------
    >>> original = pd.DataFrame({"user": ["ann", "bob"], "item": [1, 2], "rating": [5, 3]})
    >>> released = pd.DataFrame({"user": ["p9", "p4"], "item": [1, 2], "rating": [5, 3]})
    >>> a, b = paired_tables(original, released, mapping={"p9": "ann", "p4": "bob"},
    ...                      scale=Scale(1, 5, 1))
    >>> b.user_ids.tolist()
    ['p9', 'p4']
    """
    names = {field: field for field in _FIELDS} | dict(columns or {})
    base = _table(original, names, scale, "original")
    release = _table(released, names, scale, "released")
    pseudonyms = np.asarray(release.user_ids)
    if mapping is None:
        originals = pseudonyms
    else:
        table = pd.Series(mapping) if not isinstance(mapping, pd.Series) else mapping
        if not table.index.is_unique:
            raise InputError("the mapping names a released user twice")
        known = pd.Index(table.index).get_indexer(pseudonyms)
        if (known < 0).any():
            missing = pseudonyms[np.flatnonzero(known < 0)[0]]
            raise InputError(f"released user {show(str(missing))} is not in the mapping")
        originals = table.to_numpy()[known]
        repeated = pd.Series(originals).duplicated()
        if repeated.any():
            twice = originals[repeated.to_numpy().argmax()]
            raise InputError(f"two released users map to the original user {show(str(twice))}")
    user_codes = pd.Index(base.user_ids).get_indexer(originals)
    if (user_codes < 0).any():
        bad = originals[np.flatnonzero(user_codes < 0)[0]]
        raise InputError(f"the mapping names {show(str(bad))}, who is not in the original")
    item_codes = pd.Index(base.item_ids).get_indexer(release.item_ids)
    if (item_codes < 0).any():
        bad = release.item_ids[np.flatnonzero(item_codes < 0)[0]]
        raise InputError(f"released item {show(str(bad))} is not in the original")
    frame = release.frame
    user_ids = np.full(len(base.user_ids), "", dtype=object)
    user_ids[user_codes] = pseudonyms
    aligned = Ratings.from_codes(
        user_codes[frame[USER].to_numpy()],
        user_ids,
        item_codes[frame[ITEM].to_numpy()],
        np.asarray(base.item_ids),
        frame[RATING].to_numpy(),
        frame[DATE].to_numpy().astype("datetime64[D]").astype(np.int64) if DATE in frame else None,
        scale=scale,
        source="released",
    )
    return base, dataclasses.replace(aligned, pseudonymized=mapping is not None)


def check_aligned(original: Ratings, released: Ratings) -> None:
    """Refuse two tables whose user or item codes do not mean the same people and items.

    The pipeline keeps codes stable through every step; :func:`paired_tables` aligns
    frames through an explicit mapping. Anything else is an error, never a silent 0%.

    Raises
    ------
    ValueError
        Saying how to align them.
    """
    advice = "; build both with audits.paired_tables(original, released, mapping=...)"
    if not np.array_equal(np.asarray(original.item_ids), np.asarray(released.item_ids)):
        raise ValueError("original and released do not share item codes" + advice)
    if len(original.user_ids) != len(released.user_ids) or (
        not released.pseudonymized
        and not np.array_equal(np.asarray(original.user_ids), np.asarray(released.user_ids))
    ):
        raise ValueError("original and released do not share user codes" + advice)


@dataclasses.dataclass(frozen=True)
class MatchedRows:
    """The rows of two code-sharing tables restricted to some customers, and which match.

    ``released.iloc[released_at[k]]`` and ``original.iloc[original_at[k]]`` rate the same
    (customer, item); a released row in no pair is one the original does not have (a
    decoy).
    """

    released: pd.DataFrame
    original: pd.DataFrame
    released_at: np.ndarray
    original_at: np.ndarray


def matched_rows(
    original: Ratings, released: Ratings, users: np.ndarray | None = None
) -> MatchedRows:
    """Pair the released rows with the original rows of the same (customer, item).

    With ``users`` (user codes), only those customers' rows, in table order: the join
    then stays small at any scale. Each table holds a (customer, item) pair at most once.
    """
    rel, orig = released.frame, original.frame
    if users is not None:
        rel = rel[np.isin(rel[USER].to_numpy(), users)]
        orig = orig[np.isin(orig[USER].to_numpy(), users)]
    n_items = max(len(original.item_ids), len(released.item_ids))
    rel_keys = rel[USER].to_numpy().astype(np.int64) * n_items + rel[ITEM].to_numpy()
    orig_keys = orig[USER].to_numpy().astype(np.int64) * n_items + orig[ITEM].to_numpy()
    _, rel_at, orig_at = np.intersect1d(rel_keys, orig_keys, return_indices=True)
    return MatchedRows(rel, orig, rel_at, orig_at)
