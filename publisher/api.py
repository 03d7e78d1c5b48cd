"""The library in three calls: audit a dataset, release it, verify a bundle.

Each takes a path (any format the command line reads) or a pandas DataFrame, and a
policy (a :class:`~policies.Policy`, a preset name or a policy file)::

    import publisher

    evaluation = publisher.audit(frame, policy="balanced", columns={"user": "customer"})
    print(evaluation.verdict)
    result = publisher.release(frame, policy="strict", out="bundle")
    print(publisher.verify("bundle").ok)

They are what the commands run (``publisher audit``, ``release``, ``verify``), so a
figure from Python is the one the terminal shows for the same data, policy and seed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from policies import Policy, load_policy
from publisher.core.ratings import Scale
from publisher.engine.evaluate import Evaluation, evaluate, evaluate_ratings
from publisher.engine.keys import organizer_keys
from publisher.engine.release import ReleaseResult
from publisher.engine.release import release as release_path
from publisher.engine.verify import VerifyResult, verify_bundle
from publisher.readers import ReadOptions
from publisher.readers.parquet import read_frame

__all__ = ["audit", "load_policy", "release", "verify"]

#: What a DataFrame input is reported as (``input.format`` of report.json).
DATAFRAME = "dataframe"


def _policy(policy: Policy | str | Path) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(policy)


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of the frame's Arrow IPC stream: its columns, types and values, no index.

    The report's ``input.sha256`` for a DataFrame: the same frame gives the same digest
    (with this version of pyarrow), a changed value a different one.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def audit(
    data: pd.DataFrame | str | Path,
    policy: Policy | str | Path = "balanced",
    *,
    columns: Mapping[str, str] | None = None,
    scale: Scale | str | None = None,
    key: bytes | None = None,
    seed: int | None = None,
    reading: ReadOptions | None = None,
) -> Evaluation:
    """Apply ``policy`` to ``data`` in memory and run its audits; nothing is written.

    Parameters
    ----------
    data : DataFrame or path
        A ratings file or folder, or a DataFrame with user, item, rating (and
        optionally date) columns, found as in a CSV header or named by ``columns``.
    policy : Policy, preset name or path
    columns : mapping, optional
        Which column holds each field, e.g. ``{"user": "customer", "item": "movie"}``.
    scale : Scale or str, optional
        The rating scale (``"1:5:1"``); inferred from the data when absent (a warning).
    key, seed
        As for ``publisher release``: the organizer's key, and a seed that makes the
        run reproducible (refused without a key when the policy draws protective noise).
    reading : ReadOptions, optional
        Every other reading option, for a path (format, delimiter, limits...).

    Returns
    -------
    Evaluation
        ``.report`` is report.json's content (``.report["verdict"]``: the gate's),
        ``.released`` the released table, ``.audits`` the typed audit results.
    """
    resolved = _policy(policy)
    keys = organizer_keys(key, resolved.files())  # the raw key goes no further
    options = _options(reading, columns, scale)
    if isinstance(data, pd.DataFrame):
        ratings = read_frame(
            data,
            columns=options.columns,
            scale=options.scale,
            duplicates=options.duplicates,
            dates=options.dates,
            date_format=options.date_format,
        )
        return evaluate_ratings(
            ratings,
            resolved,
            input_format=DATAFRAME,
            input_sha256=lambda: frame_digest(data),
            key=keys,
            seed=seed,
        )
    return evaluate(data, resolved, reading=options, key=keys, seed=seed)


def release(
    data: pd.DataFrame | str | Path,
    policy: Policy | str | Path,
    out: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    scale: Scale | str | None = None,
    key: bytes | None = None,
    seed: int | None = None,
    overwrite: bool = False,
    reading: ReadOptions | None = None,
    **options: Any,
) -> ReleaseResult:
    """Apply ``policy``, audit, gate, and write the bundle ``out`` (as ``publisher release``).

    Parameters are those of :func:`audit`, plus ``out`` (a new folder; ``overwrite``
    replaces a bundle there) and any keyword of :func:`publisher.engine.release`
    (``write_csv``, ``licence``, ``attachments``, ``ledger``...). A DataFrame is
    written first to a Parquet file in a private temporary folder (removed after) and
    released from it: the report's ``input.sha256`` is that file's digest.

    Raises
    ------
    publisher.core.errors.ReleaseRejectedError
        The gate refused the release: only the report was written, to ``out.rejected``.
    """
    resolved = _policy(policy)
    keys = organizer_keys(key, resolved.files())  # the raw key goes no further
    reading_options = _options(reading, columns, scale)

    def from_path(path: str | Path) -> ReleaseResult:
        return release_path(
            path, resolved, out, reading=reading_options, key=keys, seed=seed,
            overwrite=overwrite, **options,
        )  # fmt: skip

    if not isinstance(data, pd.DataFrame):
        return from_path(data)
    with tempfile.TemporaryDirectory(prefix="publisher-frame-") as folder:  # 0700
        path = Path(folder) / "ratings.parquet"
        data.to_parquet(path, index=False)
        return from_path(path)


def verify(path: str | Path, *, key: bytes | None = None) -> VerifyResult:
    """Check a bundle against its manifest (and, with ``key``, its signature).

    Returns
    -------
    VerifyResult
        ``.ok`` and ``.problems``; reading nothing outside the bundle.
    """
    return verify_bundle(path, key=organizer_keys(key))


def _options(
    reading: ReadOptions | None, columns: Mapping[str, str] | None, scale: Scale | str | None
) -> ReadOptions:
    options = reading or ReadOptions()
    if columns is not None:
        options = dataclasses.replace(options, columns=dict(columns))
    if scale is not None:
        parsed = Scale.parse(scale) if isinstance(scale, str) else scale
        options = dataclasses.replace(options, scale=parsed)
    return options
