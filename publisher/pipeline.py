"""The release pipeline: read, apply the policy, write the bundle.

The pipeline owns all randomness: one :class:`numpy.random.SeedSequence`, split
into one child for the steps and one for the audits, and the steps' child split
again into one generator per step. A release draws its entropy from the OS;
``seed`` exists for tests and reproducible audits and is recorded only as
"seeded" in the manifest, never as its value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audits import AuditReport, run_audits
from audits.utility import UtilityAudit
from policies import Policy, load_policy
from policies.aggregates import compute_aggregates
from policies.steps import PseudonymizeUsers
from publisher import __version__
from publisher.bundle import (
    MANIFEST,
    build_manifest,
    hash_file,
    list_files,
    load_json,
    verify_bundle,
    write_text_atomic,
)
from publisher.core.errors import (
    BundleVerificationError,
    InternalError,
    PolicyError,
    PublisherError,
    ReleaseRejectedError,
)
from publisher.core.ratings import (
    DATE,
    ITEM,
    RATING,
    USER,
    Ratings,
    Scale,
    present_codes,
)
from publisher.datasheet import render_datasheet
from publisher.gate import apply_gate
from publisher.keys import derive_key
from publisher.output import check_output, output_lock, rejected_path, staging
from publisher.progress import Stages
from publisher.readers import detect_format, read_ratings
from publisher.readers.limits import DEFAULT_LIMITS, ReadLimits
from publisher.render import render_html, render_markdown
from publisher.report import build_report, distributions, validate_report

__all__ = [
    "Evaluation",
    "ReleaseResult",
    "StepRecord",
    "apply_policy",
    "evaluate",
    "input_digest",
    "read_report",
    "release",
    "released_frame",
    "rerender",
    "write_reports",
]

logger = logging.getLogger(__name__)

_NOT_PSEUDONYMIZED = (
    "the policy has no pseudonymize_users step, so a bundle would carry original user ids; "
    "add '- pseudonymize_users: {}' (use 'publisher audit' to assess raw data)"
)


@dataclass(frozen=True)
class StepRecord:
    """What one step did: its configuration and the table's size before and after."""

    name: str
    config: dict[str, Any]
    before: dict[str, int]
    after: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the datasheet and report."""
        return dataclasses.asdict(self)


@dataclass
class ReleaseResult:
    """The outcome of :func:`release`.

    Attributes
    ----------
    out : Path
        The bundle folder.
    original, released : dict
        Ratings, users and items before and after the policy.
    steps : list of StepRecord
    key_source : str
        ``key-file``, ``environment`` or ``ephemeral`` (fresh random key, discarded).
    seeded : bool
        Whether a fixed seed drove the randomness.
    manifest : dict
    """

    out: Path
    original: dict[str, int]
    released: dict[str, int]
    steps: list[StepRecord]
    key_source: str
    seeded: bool
    manifest: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


def apply_policy(
    ratings: Ratings,
    policy: Policy,
    *,
    key: bytes | None,
    seed: np.random.SeedSequence,
) -> tuple[Ratings, list[StepRecord]]:
    """Apply the policy's steps in order, each with its own random generator.

    Parameters
    ----------
    ratings : Ratings
        The original table (never modified).
    policy : Policy
    key : bytes or None
        The pseudonymization key; None draws a fresh random one that is discarded.
    seed : numpy.random.SeedSequence
        The steps' share of the pipeline's randomness.

    Returns
    -------
    (Ratings, list of StepRecord)
    """
    children = seed.spawn(len(policy.steps))
    records = []
    current = ratings
    for step, child in zip(policy.steps, children, strict=True):
        if isinstance(step, PseudonymizeUsers):
            # The step gets the pseudonym subkey, never the organizer's key itself (see
            # publisher.keys): no pseudonym can then reveal the manifest signing key.
            subkey = derive_key(key, "pseudonyms") if key else secrets.token_bytes(32)
            step = dataclasses.replace(step, key=subkey)
        before = current.counts()
        started = time.perf_counter()
        current = step.transform(current, np.random.default_rng(child))
        after = current.counts()
        if not step.changes_rows and after["ratings"] != before["ratings"]:
            raise InternalError(f"{step.name} changed the row count without declaring it")
        records.append(
            StepRecord(step.name, step.to_config(), before, after, time.perf_counter() - started)
        )
        logger.info(
            "step %-20s ratings %d -> %d, users %d -> %d, items %d -> %d",
            step.name,
            before["ratings"],
            after["ratings"],
            before["users"],
            after["users"],
            before["items"],
            after["items"],
        )
    return current, records


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


def input_digest(path: Path) -> str:
    """SHA-256 over the input's bytes (a folder: over its files' names and digests)."""
    if path.is_file():
        return hash_file(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{hash_file(file)}\n".encode())
    return digest.hexdigest()


def _write_data(root: Path, frame: pd.DataFrame, write_csv: bool) -> None:
    (root / "data").mkdir()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # Drop pandas' schema metadata: it is noise for readers and not needed to round-trip.
    table = table.replace_schema_metadata(None)
    pq.write_table(table, root / "data" / "ratings.parquet", compression="zstd")
    if write_csv:
        frame.to_csv(root / "data" / "ratings.csv", index=False, date_format="%Y-%m-%d")


@dataclass
class Evaluation:
    """A policy applied in memory and audited: everything a bundle or a dry run needs.

    Attributes
    ----------
    policy : Policy
    original, released : Ratings
    steps : list of StepRecord
    audits : audits.AuditReport
    source : dict
        Input name, format, digest, scale, dates, counts.
    meta : dict
        Tool, creation time, policy digest, randomness and pseudonymization mode.
    report : dict
        report.json.
    """

    policy: Policy
    original: Ratings
    released: Ratings
    steps: list[StepRecord]
    audits: AuditReport
    source: dict[str, Any]
    meta: dict[str, Any]
    report: dict[str, Any]
    aggregates: dict[str, pd.DataFrame] | None = None


def evaluate(
    input: str | Path,
    policy: Policy | str | Path,
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    scale: Scale | None = None,
    duplicates: str = "error",
    limits: ReadLimits = DEFAULT_LIMITS,
    key: bytes | None = None,
    seed: int | None = None,
    licence: str | None = None,
    stages: Stages | None = None,
) -> Evaluation:
    """Read ``input``, apply ``policy`` in memory and run its audits (no bundle).

    Parameters are as for :func:`release`; ``stages`` times (and may show) each stage.

    Returns
    -------
    Evaluation
    """
    input = Path(input)
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    if licence is not None:
        policy = dataclasses.replace(policy, licence=licence)
    # Steps and audits get separate children, so adding a step never shifts audit noise.
    # Spawned children are fixed by position: appending one never shifts the others.
    step_seed, audit_seed, aggregate_seed, utility_seed = np.random.SeedSequence(seed).spawn(4)
    stages = stages or Stages()
    started = time.perf_counter()
    with stages("read input"):
        ratings = read_ratings(
            input,
            format=format,
            columns=columns,
            scale=scale,
            duplicates=duplicates,
            limits=limits,
        )
    logger.info(
        "read %d ratings, %d users, %d items in %.1fs",
        ratings.n_ratings,
        ratings.n_users,
        ratings.n_items,
        time.perf_counter() - started,
    )
    with stages("policy steps"):
        released, records = apply_policy(ratings, policy, key=key, seed=step_seed)
    microdata = policy.aggregates is None or policy.aggregates.microdata
    if microdata and released.n_ratings == 0:
        k = next(k for k, r in enumerate(records) if r.after["ratings"] == 0)
        raise PolicyError(
            f"policy {policy.name}: leaves no ratings to release (steps[{k}].{records[k].name} "
            "removed the last of them); relax that step"
        )
    aggregates = None
    if policy.aggregates is not None:
        with stages("DP aggregates"):
            aggregates = compute_aggregates(
                ratings,
                policy.aggregates,
                np.random.default_rng(aggregate_seed),
                seeded=seed is not None,
            )
    utility: dict[str, Any] | None = None
    if microdata:
        with stages("linkage and uniqueness audits"):
            audit_report = run_audits(
                ratings,
                released,
                adversaries=policy.audits.adversaries,
                n_targets=policy.audits.targets,
                phi=policy.audits.phi,
                uniqueness_known_items=policy.audits.uniqueness_known_items,
                seed=audit_seed,
            )
        with stages("utility audit"):
            utility_audit = UtilityAudit(ratings, released, rng=np.random.default_rng(utility_seed))
            utility = utility_audit.evaluate().results()
        logger.info(
            "utility: RMSE %.3f -> %.3f (factorization on the holdout)",
            utility["original"]["mf_rmse"],
            utility["released"]["mf_rmse"],
        )
    else:
        audit_report = AuditReport([], [])  # no microdata leaves: nothing to link
    if aggregates is not None and "item_mean" in aggregates:
        utility = utility or {}
        utility["dp_item_mean_relative_error"] = item_mean_error(ratings, aggregates["item_mean"])
    with stages("hash input"):
        digest = input_digest(input)
    source = {
        "name": ratings.source,
        "format": detect_format(input) if format == "auto" else format,
        "sha256": digest,
        "scale": str(ratings.scale),
        "dates": ratings.has_dates,
        "counts": ratings.counts(),
    }
    meta: dict[str, Any] = {
        "tool": {"name": "ratings-publisher", "version": __version__},
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": {"name": policy.name, "sha256": policy.digest()},
        "input": {"name": ratings.source, "format": source["format"], "sha256": source["sha256"]},
        "randomness": "seeded" if seed is not None else "os-entropy",
        "pseudonymization": "organizer-key" if key is not None else "ephemeral-key",
    }
    if aggregates is not None:
        meta["aggregates"] = {
            name: {"epsilon": stat.epsilon, "delta": 0.0}
            for stat in policy.aggregates.statistics  # type: ignore[union-attr]
            for name in [stat.name]
            if name in aggregates
        }
        meta["microdata"] = microdata
    report = build_report(
        policy=policy,
        meta=meta,
        source=source,
        released_counts=released.counts() if microdata else {"ratings": 0, "users": 0, "items": 0},
        steps=records,
        audits=audit_report.to_dict(),
        verdict="not-gated",
        utility=utility,
        distributions=distributions(ratings, released) if microdata else None,
    )
    report["verdict"], report["gate"] = apply_gate(policy.gate, report)
    _check_finite(report, "report")
    return Evaluation(
        policy, ratings, released, records, audit_report, source, meta, report, aggregates
    )


def _check_finite(value: Any, where: str) -> None:
    """Fail loudly on a NaN or infinity before it reaches report.json."""
    if isinstance(value, float) and not np.isfinite(value):
        raise InternalError(f"{where} is {value}; report figures must be finite")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            _check_finite(item, f"{where}[{k}]")


def item_mean_error(ratings: Ratings, dp_means: pd.DataFrame) -> float | None:
    """Mean relative error of DP per-item means against the true means (items with both)."""
    frame = ratings.frame
    n = len(ratings.item_ids)
    counts = np.bincount(frame[ITEM].to_numpy(), minlength=n)
    sums = np.bincount(frame[ITEM].to_numpy(), weights=frame[RATING].to_numpy(), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        true = sums / counts
    noisy = dp_means["mean"].to_numpy()
    both = (counts > 0) & np.isfinite(noisy)
    if not both.any():
        return None
    return float(np.mean(np.abs(noisy[both] - true[both]) / true[both]))


def _write_aggregates(root: Path, aggregates: dict[str, pd.DataFrame] | None) -> None:
    if not aggregates:
        return
    (root / "aggregates").mkdir()
    for name, table in aggregates.items():
        arrow = pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(None)
        pq.write_table(arrow, root / "aggregates" / f"{name}.parquet", compression="zstd")
        table.to_csv(root / "aggregates" / f"{name}.csv", index=False, date_format="%Y-%m-%d")


def write_reports(root: Path, report: dict[str, Any]) -> None:
    """Write report.json, report.md and report.html into ``root``."""
    (root / "report.json").write_text(
        json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (root / "report.md").write_text(render_markdown(report), encoding="utf-8")
    (root / "report.html").write_text(render_html(report), encoding="utf-8")


def _write_rejected(rejected: Path, evaluation: Evaluation, key: bytes | None) -> None:
    """The report of a rejected release, with its policy and manifest but no data.

    An earlier rejected report is replaced only if it verifies as this tool's own.
    """
    with staging(rejected, overwrite=True) as root:
        (root / "policy.yaml").write_text(evaluation.policy.to_yaml(), encoding="utf-8")
        write_reports(root, evaluation.report)
        manifest = build_manifest(root, {**evaluation.meta, "rejected": True}, key=key)
        (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def read_report(bundle: str | Path) -> tuple[dict[str, Any] | None, list[str]]:
    """Read a bundle's report.json and check it against the schema.

    Returns
    -------
    (dict or None, list of str)
        The report (None if absent or unreadable) and the problems found.
    """
    path = Path(bundle) / "report.json"
    if not path.is_file():
        return None, []
    try:
        report = load_json(path)
    except BundleVerificationError as exc:
        return None, [f"report.json: {str(exc).rsplit(': ', 1)[-1]}"]
    return report, [f"report.json: {problem}" for problem in validate_report(report)]


def rerender(bundle: str | Path, *, key: bytes | None = None) -> list[str]:
    """Re-render report.md and report.html of a bundle from its report.json.

    The bundle must verify first (a tampered report.json is not rendered). Files
    whose bytes change are rewritten and the manifest is rebuilt; a signed manifest
    needs the organizer's key to be re-signed.

    Returns
    -------
    list of str
        The files that changed.

    Raises
    ------
    BundleVerificationError
        When the bundle does not verify or its report.json breaks the schema.
    PublisherError
        When a signed manifest would have to be re-signed without the key.
    """
    root = Path(bundle)
    result = verify_bundle(root, key=key)
    if not result.ok:
        raise BundleVerificationError(
            f"{root}: does not verify ({result.problems[0]}); not rendering from it"
        )
    report = load_json(root / "report.json")
    problems = validate_report(report)
    if problems:
        raise BundleVerificationError(f"{root / 'report.json'}: {problems[0]}")
    rendered = {"report.md": render_markdown(report), "report.html": render_html(report)}
    changed = [
        name
        for name, text in rendered.items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    ]
    if not changed:
        return []
    manifest = result.manifest
    if "signature" in manifest and key is None:
        raise PublisherError(
            f"{root}: the manifest is signed; pass --key-file to re-sign it after re-rendering"
        )
    for name in changed:
        write_text_atomic(root / name, rendered[name])
    meta = {k: v for k, v in manifest.items() if k not in ("schema", "files", "signature")}
    write_text_atomic(
        root / MANIFEST, json.dumps(build_manifest(root, meta, key=key), indent=2) + "\n"
    )
    return changed


def _write_bundle(
    out: Path,
    evaluation: Evaluation,
    key: bytes | None,
    overwrite: bool,
    write_csv: bool,
    attachments: Mapping[str, Path] | None,
) -> dict[str, Any]:
    """Build the bundle in a staging folder and swap it into place; returns the manifest."""
    policy = evaluation.policy
    microdata = policy.aggregates is None or policy.aggregates.microdata
    with staging(out, overwrite=overwrite) as root:
        if microdata:
            _write_data(root, released_frame(evaluation.released), write_csv)
        _write_aggregates(root, evaluation.aggregates)
        (root / "policy.yaml").write_text(policy.to_yaml(), encoding="utf-8")
        for name, path in (attachments or {}).items():
            shutil.copyfile(path, root / name)
        write_reports(root, evaluation.report)
        (root / "DATASHEET.md").write_text(
            render_datasheet(
                policy,
                evaluation.source,
                evaluation.steps,
                evaluation.released.counts(),
                evaluation.meta,
                list_files(root),
            ),
            encoding="utf-8",
        )
        manifest = build_manifest(root, evaluation.meta, key=key)
        (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def release(
    input: str | Path,
    policy: Policy | str | Path,
    out: str | Path,
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    scale: Scale | None = None,
    duplicates: str = "error",
    limits: ReadLimits = DEFAULT_LIMITS,
    key: bytes | None = None,
    key_source: str | None = None,
    seed: int | None = None,
    overwrite: bool = False,
    write_csv: bool = False,
    licence: str | None = None,
    attachments: Mapping[str, Path] | None = None,
    stages: Stages | None = None,
) -> ReleaseResult:
    """Read a ratings dataset, apply a policy, audit the result and write a bundle.

    Parameters
    ----------
    input : path
        Ratings file or folder (see :func:`publisher.readers.read_ratings`).
    policy : Policy, preset name or path
    out : path
        The bundle folder to create (atomically).
    format, columns, scale, duplicates, limits
        Passed to :func:`publisher.readers.read_ratings`.
    key : bytes, optional
        The organizer's pseudonymization key. Without it a fresh random key is used
        and discarded (pseudonyms then cannot be reproduced or linked across
        releases, and the manifest is not signed).
    key_source : str, optional
        Where the key came from, for the manifest (``key-file`` or ``environment``).
    seed : int, optional
        Fixes all randomness (tests, reproducible audits); recorded as "seeded".
    overwrite : bool
        Replace an existing ``out``.
    write_csv : bool
        Also write ``data/ratings.csv``.
    licence : str, optional
        Replaces the policy's ``licence`` (e.g. the data's own licence).
    attachments : mapping, optional
        Extra files copied into the bundle, by bundle name (e.g. the source README
        a licence requires to travel with the data).

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
    if not any(isinstance(s, PseudonymizeUsers) for s in policy.steps):
        raise PolicyError(f"policy {policy.name}: {_NOT_PSEUDONYMIZED}")
    inputs = [Path(input), *(attachments or {}).values()]
    stages = stages or Stages()
    # Refuse before any work, and again under the lock (another run may have finished).
    check_output(out, inputs=inputs, overwrite=overwrite)
    with output_lock(out):
        check_output(out, inputs=inputs, overwrite=overwrite)
        check_output(rejected_path(out), inputs=inputs, overwrite=True)
        evaluation = evaluate(
            input,
            policy,
            format=format,
            columns=columns,
            scale=scale,
            duplicates=duplicates,
            limits=limits,
            key=key,
            seed=seed,
            licence=licence,
            stages=stages,
        )
        if evaluation.report["verdict"] == "fail":
            rejected = rejected_path(out)
            _write_rejected(rejected, evaluation, key)
            failures = evaluation.report["gate"]["failures"]
            raise ReleaseRejectedError(
                f"release rejected by the gate ({len(failures)} of "
                f"{len(evaluation.report['gate']['checks'])} checks failed: {failures[0]}); "
                f"report written to {rejected}; no data was published"
            )
        with stages("write bundle"):
            manifest = _write_bundle(out, evaluation, key, overwrite, write_csv, attachments)
    logger.info("wrote bundle %s", out)
    return ReleaseResult(
        out=out,
        original=evaluation.original.counts(),
        released=evaluation.released.counts(),
        steps=evaluation.steps,
        key_source=key_source or ("ephemeral" if key is None else "key-file"),
        seeded=seed is not None,
        manifest=manifest,
        report=evaluation.report,
    )
