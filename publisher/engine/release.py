"""Writing a release: the public bundle and its review copy, or the rejected report.

A bundle holds the data, the aggregates, the public reports, the datasheet and the
manifest: nothing exact about the original data (:mod:`publisher.reporting.public`).
Its review copy ``DIR.review/`` holds the full reports for the privacy reviewer, with
a manifest signed the same way and bound to the bundle's manifest by its SHA-256.
A rejected release writes only ``DIR.rejected/``, a full report for review.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audits import UnprotectedAudit
from policies import Policy, load_policy
from policies.guarantees import policy_epsilons
from policies.schema import check_gate_declared
from policies.steps import PseudonymizeUsers
from publisher.core.decision import GateDecision
from publisher.core.errors import (
    PolicyError,
    ReleaseRejectedError,
)
from publisher.core.ratings import (
    DATE,
    ITEM,
    RATING,
    USER,
    Ratings,
    present_codes,
)
from publisher.engine.apply import StepRecord
from publisher.engine.bundle import (
    MANIFEST,
    build_manifest,
    hash_file,
    json_text,
    list_files,
)
from publisher.engine.evaluate import _NOT_PSEUDONYMIZED, Evaluation, check_seed, evaluate
from publisher.engine.keys import Keys
from publisher.engine.ledger import Ledger, LedgerEntry, entry_for, open_ledger
from publisher.engine.output import check_output, rejected_path, remove_owned, review_path
from publisher.engine.report_files import write_reports
from publisher.engine.staging import output_lock, staging
from publisher.progress import Stages
from publisher.readers import DEFAULT_READING, ReadOptions
from publisher.reporting.datasheet import render_datasheet
from publisher.reporting.public import public_view

logger = logging.getLogger(__name__)

#: What the folders a release writes must already be, to be replaced.
KINDS_OF_PAIR = ("bundle", "review")


@dataclass
class ReleaseResult:
    """The outcome of :func:`release`.

    Attributes
    ----------
    out : Path
        The bundle folder.
    review : Path
        Its review copy (full reports for the privacy reviewer).
    original, released : dict
        Ratings, users and items before and after the policy.
    steps : list of StepRecord
    key_source : str
        ``key-file``, ``environment`` or ``ephemeral`` (fresh random key, discarded).
    seeded : bool
        Whether a fixed seed drove the randomness.
    manifest : dict
    report : dict
        report.json as written to the review copy.
    gate : GateDecision or None
        The typed verdict and checks behind it.
    unprotected : UnprotectedAudit or None
        The attacks on the unprotected data, to reuse for another policy on this data.
    """

    out: Path
    review: Path
    original: dict[str, int]
    released: dict[str, int]
    steps: list[StepRecord]
    key_source: str
    seeded: bool
    manifest: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    gate: GateDecision | None = None
    unprotected: UnprotectedAudit | None = None


def check_releasable(policy: Policy, hint: str = "") -> None:
    """Refuse what ``release`` refuses about a policy itself (``policy check`` calls it too).

    Raises
    ------
    PolicyError
        For a policy without ``pseudonymize_users`` (a bundle would carry original ids),
        or one that releases ratings with no risk threshold and no ``gate: none``.
    """
    if policy.releases_microdata and policy.pseudonymizer is None:
        raise PolicyError(f"policy {policy.name}: {_NOT_PSEUDONYMIZED}{hint}")
    try:
        check_gate_declared(policy)
    except PolicyError as exc:
        raise PolicyError(f"policy {policy.name}: {exc}") from None


def released_frame(released: Ratings) -> pd.DataFrame:
    """The table as published: pseudonyms, public item ids, ratings, dates.

    Rows are sorted by pseudonym and item so that row order carries nothing of the
    original file order (which may follow original user ids).

    Raises
    ------
    PolicyError
        When the users were never pseudonymized: original ids must not be written.
    """
    if not released.pseudonymized:
        raise PolicyError(_NOT_PSEUDONYMIZED)
    frame = released.frame
    codes = frame[USER].to_numpy()
    present = present_codes(codes, len(released.user_ids))
    pseudonyms = released.user_ids[present].astype(str)
    by_name = np.argsort(pseudonyms, kind="stable")
    # Dictionary-encode: one string per customer, an int32 index per row (100M rows of
    # Python strings would take many GB).
    position = np.full(len(released.user_ids), -1, np.int32)
    position[present[by_name]] = np.arange(len(present), dtype=np.int32)
    index = position[codes]
    items = frame[ITEM].to_numpy()
    key = index.astype(np.int64) * len(released.item_ids) + items
    order = np.argsort(key, kind="stable")
    del key  # temporaries go as soon as they are used: 60M+ rows each at Netflix scale
    data: dict[str, Any] = {
        USER: pd.Categorical.from_codes(index[order], pseudonyms[by_name]),
        ITEM: released.item_ids[items[order]],
        RATING: frame[RATING].to_numpy(np.float32)[order],
    }
    del index
    if DATE in frame.columns:
        # datetime64[s] straight away: pandas would convert datetime64[D] to it (a copy)
        seconds = frame[DATE].to_numpy()[order].astype(np.int64)
        seconds *= 86_400
        data[DATE] = seconds.view("datetime64[s]")
    del order
    return pd.DataFrame(data, copy=False)


def _write_data(root: Path, frame: pd.DataFrame, write_csv: bool) -> None:
    (root / "data").mkdir()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # Drop pandas' schema metadata: it is noise for readers and not needed to round-trip.
    table = table.replace_schema_metadata(None)
    pq.write_table(table, root / "data" / "ratings.parquet", compression="zstd")
    if write_csv:
        frame.to_csv(root / "data" / "ratings.csv", index=False, date_format="%Y-%m-%d")


def _write_aggregates(root: Path, aggregates: dict[str, pd.DataFrame] | None) -> None:
    if not aggregates:
        return
    (root / "aggregates").mkdir()
    for name, table in aggregates.items():
        arrow = pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(None)
        pq.write_table(arrow, root / "aggregates" / f"{name}.parquet", compression="zstd")
        table.to_csv(root / "aggregates" / f"{name}.csv", index=False, date_format="%Y-%m-%d")


def _write_manifest(root: Path, meta: dict[str, Any], key: Keys | None) -> dict[str, Any]:
    """Describe (and with a key, sign) every file under ``root``; write and return it."""
    manifest = build_manifest(root, meta, key=key)
    (root / MANIFEST).write_text(json_text(manifest), encoding="utf-8")
    return manifest


def _write_full_reports(
    root: Path, evaluation: Evaluation, key: Keys | None, extra: dict[str, Any]
) -> None:
    """Write the policy and the full (review) reports, no data, into ``root``.

    The folder is a rejected release's report (``extra`` holds ``rejected: true``) or a
    bundle's review copy (``review: true`` and the bundle manifest's SHA-256); ``extra``
    goes into its manifest.
    """
    (root / "policy.yaml").write_text(evaluation.policy.to_yaml(), encoding="utf-8")
    write_reports(root, evaluation.report)
    _write_manifest(root, {**evaluation.meta, **extra}, key)


def public_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The manifest fields of the public bundle: the input's digest stays in the review copy.

    A SHA-256 of the original file is an exact function of it: with all but one
    customer's ratings, it tells whether that customer is in the data.
    """
    return {**meta, "input": {k: v for k, v in meta["input"].items() if k != "sha256"}}


def _write_bundle(
    out: Path,
    evaluation: Evaluation,
    key: Keys | None,
    overwrite: bool,
    write_csv: bool,
    attachments: Mapping[str, Path] | None,
) -> dict[str, Any]:
    """Build the bundle and its review copy in staging folders and swap them in together.

    Both are built first, every folder they replace is proved ours, and the two swaps
    are one journaled commit (:mod:`publisher.engine.staging`): after any crash and the
    next run, both are old or both new. Returns the bundle's manifest.
    """
    policy = evaluation.policy
    public = public_view(evaluation.report)
    targets = (out, review_path(out))
    with staging(*targets, overwrite=overwrite, kinds=KINDS_OF_PAIR, private=(False, True)) as (
        root,
        review,
    ):
        if policy.releases_microdata:
            _write_data(root, released_frame(evaluation.released), write_csv)
        _write_aggregates(root, evaluation.aggregates)
        if evaluation.model is not None:
            model = policy.model
            assert model is not None
            evaluation.model.write(
                root / "model", matrices=evaluation.model.n_items <= model.max_matrix_items
            )
        (root / "policy.yaml").write_text(policy.to_yaml(), encoding="utf-8")
        for name, path in (attachments or {}).items():
            shutil.copyfile(path, root / name)
        write_reports(root, public)
        (root / "DATASHEET.md").write_text(
            render_datasheet(public, list_files(root)),
            encoding="utf-8",
        )
        manifest = _write_manifest(root, public_meta(evaluation.meta), key)
        # The review copy is bound to this bundle by its manifest's SHA-256.
        _write_full_reports(
            review,
            evaluation,
            key,
            {"review": True, "bundle_manifest_sha256": hash_file(root / MANIFEST)},
        )
    return manifest


def release(
    input: str | Path,
    policy: Policy | str | Path,
    out: str | Path,
    *,
    reading: ReadOptions = DEFAULT_READING,
    key: Keys | None = None,
    key_source: str | None = None,
    seed: int | None = None,
    overwrite: bool = False,
    write_csv: bool = False,
    licence: str | None = None,
    attachments: Mapping[str, Path] | None = None,
    stages: Stages | None = None,
    unprotected: UnprotectedAudit | None = None,
    ledger: str | Path | None = None,
) -> ReleaseResult:
    """Read a ratings dataset, apply a policy, audit the result and write a bundle.

    Parameters
    ----------
    input : path
        Ratings file or folder (see :func:`publisher.readers.read_ratings`).
    policy : Policy, preset name or path
    out : path
        The bundle folder to create (atomically).
    reading : ReadOptions
        How to read ``input`` (format, columns, scale, delimiter, dates, duplicates,
        limits; see :func:`publisher.readers.read_ratings`).
    key : bytes, optional
        The organizer's pseudonymization key. Without it a fresh random key is used
        and discarded (pseudonyms then cannot be reproduced or linked across
        releases, and the manifest is not signed).
    key_source : str, optional
        Where the key came from, for the manifest (``key-file`` or ``environment``).
    seed : int, optional
        Makes the run reproducible. Mixed with ``key``, so that only the key holder can
        replay the noise; refused without a key when the policy draws protective noise
        (:func:`~publisher.engine.evaluate.check_seed`). Recorded as "seeded-with-key"
        (or "seeded"), never its value.
    overwrite : bool
        Replace an existing ``out``.
    write_csv : bool
        Also write ``data/ratings.csv``.
    licence : str, optional
        Replaces the policy's ``licence`` (e.g. the data's own licence).
    attachments : mapping, optional
        Extra files copied into the bundle, by bundle name (e.g. the source README
        a licence requires to travel with the data).
    unprotected : UnprotectedAudit, optional
        The attacks on the unprotected data drawn for an earlier release of the same
        data with the same audit settings: reused so both reports show the same
        unprotected figures (redrawn when they do not fit).
    ledger : path, optional
        The ledger of linkable releases (:mod:`publisher.engine.ledger`); required, and
        only accepted, when the policy's pseudonyms are ``linkable``.

    Returns
    -------
    ReleaseResult

    Raises
    ------
    PublisherError
        On bad input, a bad policy or an existing ``out``; nothing is written then.
    """
    out = Path(out)
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    check_releasable(policy)
    linkable = _linkable(policy)
    if linkable is not None and ledger is None:
        raise PolicyError(
            f"policy {policy.name}: pseudonymize_users.linkable: the noise of releases whose "
            "pseudonyms link composes; pass --ledger FILE, the record of this key's linkable "
            "releases (a new file for the first)"
        )
    if linkable is None and ledger is not None:
        raise PolicyError(
            f"--ledger: policy {policy.name} gives each release its own pseudonyms, so its "
            "releases do not link; a ledger records linkable releases only"
        )
    with contextlib.ExitStack() as held:
        book = held.enter_context(open_ledger(ledger, key)) if ledger is not None else None
        return _release(
            out, policy, input, book, linkable,
            reading=reading, key=key, key_source=key_source, seed=seed, overwrite=overwrite,
            write_csv=write_csv, licence=licence, attachments=attachments, stages=stages,
            unprotected=unprotected,
        )  # fmt: skip


def _linkable(policy: Policy) -> PseudonymizeUsers | None:
    step = policy.pseudonymizer
    return step if step is not None and step.linkable else None


def _release(
    out: Path,
    policy: Policy,
    input: str | Path,
    book: Ledger | None,
    linkable: PseudonymizeUsers | None,
    *,
    reading: ReadOptions,
    key: Keys | None,
    key_source: str | None,
    seed: int | None,
    overwrite: bool,
    write_csv: bool,
    licence: str | None,
    attachments: Mapping[str, Path] | None,
    stages: Stages | None,
    unprotected: UnprotectedAudit | None,
) -> ReleaseResult:
    check_seed(policy, seed, key)
    spent = policy_epsilons(policy)
    ledger_state = None
    if book is not None and linkable is not None:
        # Refused before any work: the epsilons are the policy's, known at load.
        probe = LedgerEntry("0" * 32, "", policy.name, policy.digest(), *spent)
        book.check(probe, linkable.total_epsilon)  # type: ignore[arg-type]
        ledger_state = {
            "releases": len(book.entries) + 1,
            **book.totals(probe),
            "total_epsilon": linkable.total_epsilon,
        }
    inputs = [Path(input), *(attachments or {}).values()]
    stages = stages or Stages()
    # Refuse before any work (the cheap checks), then again under the lock, where an
    # existing bundle is proved ours (another run may have finished in between).
    # the bundle first: a name like "." is refused before its siblings are named
    check_output(out, inputs=inputs, overwrite=overwrite, prove_owned=False)
    outputs = (
        (out, "bundle"),
        (review_path(out), "review"),
        # Only a rejected report of this tool may be there, and only --overwrite lets this
        # run replace it (a rejected release) or remove it (a published one: it is stale).
        (rejected_path(out), "rejected"),
    )
    for folder, _ in outputs:
        check_output(folder, inputs=inputs, overwrite=overwrite, prove_owned=False)
    with output_lock(out):
        for folder, kind in outputs:
            check_output(folder, inputs=inputs, overwrite=overwrite, kind=kind)
        evaluation = evaluate(
            input,
            policy,
            reading=reading,
            key=key,
            seed=seed,
            licence=licence,
            stages=stages,
            unprotected=unprotected,
            ledger=ledger_state,
        )
        if evaluation.gate.verdict == "fail":
            rejected = rejected_path(out)
            with staging(rejected, overwrite=overwrite, kinds=("rejected",), private=(True,)) as (
                root,
            ):
                _write_full_reports(root, evaluation, key, {"rejected": True})
            failures = evaluation.gate.failures
            raise ReleaseRejectedError(
                f"release rejected by the gate ({len(failures)} of "
                f"{len(evaluation.gate.checks)} checks failed: {failures[0]}); "
                f"report written to {rejected}; no data was published",
                report=evaluation.report,
                unprotected=evaluation.unprotected,
                gate=evaluation.gate,
            )
        for warning in evaluation.gate.close_calls:
            logger.warning("close to the gate: %s", warning)
        entry = entry_for(evaluation.meta, *spent) if book is not None else None
        if book is not None and entry is not None:
            book.record(entry)  # before the swap: a crash over-counts, never under-counts
        try:
            with stages("write bundle"):
                manifest = _write_bundle(out, evaluation, key, overwrite, write_csv, attachments)
        except BaseException:
            if book is not None and entry is not None and not out.exists():
                book.forget(entry)
            raise
        if rejected_path(out).exists():  # proved a rejected report of ours, --overwrite given
            remove_owned(rejected_path(out), kind="rejected")
    logger.info("wrote bundle %s", out)
    return ReleaseResult(
        out=out,
        review=review_path(out),
        original=evaluation.original.counts(),
        released=evaluation.released.counts(),
        steps=evaluation.steps,
        key_source=key_source or ("ephemeral" if key is None else "key-file"),
        seeded=seed is not None,
        manifest=manifest,
        report=evaluation.report,
        gate=evaluation.gate,
        unprotected=evaluation.unprotected,
    )
