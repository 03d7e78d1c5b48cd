"""A policy applied in memory and audited: the one evaluation every view of a release reads.

The pipeline owns all randomness: one :class:`numpy.random.SeedSequence`, split into
one child for the steps, the audits, the aggregates and the utility audit, and the
steps' child split again into one generator per step. A release draws its entropy
from the OS. ``seed`` makes a run reproducible; with the organizer's key it is mixed
with the key (:func:`publisher.engine.keys.keyed_seed`) so that only the key holder
can replay the noise, and a release whose policy draws protective noise refuses a
seed without a key (:func:`check_seed`). The seed's value is never recorded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audits import AuditReport, UnprotectedAudit
from audits._index import IndexedTable
from audits.run import AggregateUtility
from policies import Policy, load_policy
from policies.aggregates import AggregatesConfig, compute_aggregates, in_domain
from publisher import __version__
from publisher.core.decision import GateDecision
from publisher.core.errors import (
    PolicyError,
)
from publisher.core.model import ItemModel
from publisher.core.ratings import (
    ITEM,
    RATING,
    Ratings,
)
from publisher.engine.apply import StepRecord, apply_policy
from publisher.engine.bundle import (
    hash_file,
)
from publisher.engine.gate import apply_gate
from publisher.engine.keys import Keys, keyed_seed, release_id
from publisher.engine.model_release import release_model
from publisher.engine.runner import AuditSeeds, run_policy_audits
from publisher.progress import Stages
from publisher.readers import DEFAULT_READING, ReadOptions, detect_format, readable_input
from publisher.reporting.report_json import build_report, distributions

logger = logging.getLogger(__name__)


_NOT_PSEUDONYMIZED = (
    "the policy has no pseudonymize_users step, so a bundle would carry original user ids; "
    "add '- pseudonymize_users: {}' (use 'publisher audit' to assess raw data)"
)


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """A policy applied in memory and audited: everything a bundle or a dry run needs.

    The results stay typed: the engine, the tuner and the library read ``audits`` and
    ``gate``; ``report`` is report.json, built from them once by
    :func:`publisher.reporting.report_json.build_report` and never read back.

    Attributes
    ----------
    policy : Policy
    original, released : Ratings
    steps : list of StepRecord
    audits : audits.AuditReport
        Every audit's typed result: linkage, uniqueness, date recovery,
        distinguishability, utility, the DP aggregates' error.
    gate : GateDecision
        The verdict and every check behind it.
    source : dict
        Input name, format, digest, scale, dates, counts.
    meta : dict
        Tool, creation time, policy digest, randomness and pseudonymization mode.
    report : dict
        report.json, as written (the review view).
    aggregates : dict of DataFrame, optional
        The DP tables, when the policy releases them.
    model : ItemModel, optional
        The DP recommender model, when the policy releases one.
    """

    policy: Policy
    original: Ratings
    released: Ratings
    steps: list[StepRecord]
    audits: AuditReport
    gate: GateDecision
    source: dict[str, Any]
    meta: dict[str, Any]
    report: dict[str, Any]
    aggregates: dict[str, pd.DataFrame] | None = None
    model: ItemModel | None = None

    @property
    def verdict(self) -> str:
        """``pass``, ``fail`` or ``not-gated``: the gate's."""
        return self.gate.verdict

    @property
    def published(self) -> bool:
        """Whether the gate lets this release out (a bundle is written)."""
        return self.gate.verdict != "fail"

    @property
    def unprotected(self) -> UnprotectedAudit | None:
        """The attacks on the unprotected data, to reuse for another policy on this data."""
        return self.audits.unprotected


def evaluate(
    input: str | Path,
    policy: Policy | str | Path,
    *,
    reading: ReadOptions = DEFAULT_READING,
    key: Keys | None = None,
    seed: int | None = None,
    licence: str | None = None,
    stages: Stages | None = None,
    unprotected: UnprotectedAudit | None = None,
    ledger: dict[str, Any] | None = None,
) -> Evaluation:
    """Read ``input``, apply ``policy`` in memory and run its audits (no bundle).

    Parameters are as for :func:`release`; ``stages`` times (and may show) each stage;
    ``unprotected`` reuses the attacks on the unprotected data drawn for an earlier
    evaluation of the same data (:attr:`Evaluation.unprotected`), when its settings fit;
    ``ledger`` is the running total of linkable releases, recorded in the report.

    Returns
    -------
    Evaluation
    """
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    if licence is not None:
        policy = dataclasses.replace(policy, licence=licence)
    stages = stages or Stages()
    # A stream (stdin, a FIFO) is copied once: it is read, then hashed, from the copy.
    with readable_input(input, reading.limits) as path:
        return _evaluate_input(path, policy, reading, key, seed, stages, unprotected, ledger)


def _evaluate_input(
    input: Path,
    policy: Policy,
    reading: ReadOptions,
    key: Keys | None,
    seed: int | None,
    stages: Stages,
    unprotected: UnprotectedAudit | None,
    ledger: dict[str, Any] | None,
) -> Evaluation:
    started = time.perf_counter()
    with stages("read input"):
        ratings = reading.read(input)
    logger.info(
        "read %d ratings, %d users, %d items in %.1fs",
        ratings.n_ratings,
        ratings.n_users,
        ratings.n_items,
        time.perf_counter() - started,
    )
    input_format = detect_format(input) if reading.format == "auto" else reading.format

    def digest() -> str:
        with stages("hash input"):
            return input_digest(input)

    return evaluate_ratings(
        ratings,
        policy,
        input_format=input_format,
        input_sha256=digest,
        key=key,
        seed=seed,
        stages=stages,
        unprotected=unprotected,
        ledger=ledger,
    )


def evaluate_ratings(
    ratings: Ratings,
    policy: Policy,
    *,
    input_format: str,
    input_sha256: str | Callable[[], str],
    key: Keys | None = None,
    seed: int | None = None,
    stages: Stages | None = None,
    unprotected: UnprotectedAudit | None = None,
    original_index: IndexedTable | None = None,
    ledger: dict[str, Any] | None = None,
) -> Evaluation:
    """Apply ``policy`` to ratings already read and run its audits (no bundle).

    :func:`evaluate` reads the input and calls this; ``publisher tune`` calls it once
    per candidate policy on the same table, so every figure of a candidate is the one
    ``publisher audit`` would show for that policy and seed.

    Parameters
    ----------
    ratings : Ratings
    policy : Policy
    input_format : str
        The input's format, as reported.
    input_sha256 : str or callable
        The input's digest, or a function computing it (called after the audits).
    key, seed, stages, unprotected
        As for :func:`evaluate`.
    original_index : IndexedTable, optional
        ``ratings`` indexed once by the caller and kept across evaluations.
    ledger : dict, optional
        The running totals of linkable releases with this one, for the report.

    Returns
    -------
    Evaluation
    """
    # Steps and audits get separate children, so adding a step never shifts audit noise.
    # Spawned children are fixed by position: appending one never shifts the others.
    children = seed_sequence(seed, key).spawn(7)
    step_seed, audit_seed, aggregate_seed, utility_seed, row_seed, simulation_seed = children[:6]
    model_seed = children[6]
    stages = stages or Stages()
    release = release_id(key, seed)
    with stages("policy steps"):
        released, records = apply_policy(ratings, policy, key=key, seed=step_seed, release=release)
    microdata = policy.releases_microdata
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
                seeded=seed is not None,  # keyed whenever a bundle is written (check_seed)
            )
    model = None
    if policy.model is not None:
        model = release_model(ratings, policy.model, model_seed, stages)
    if microdata:
        audit_report = run_policy_audits(
            ratings,
            released,
            policy,
            AuditSeeds(audit_seed, row_seed, utility_seed, simulation_seed),
            unprotected=unprotected,
            original_index=original_index,
            stages=stages,
        )
    else:
        audit_report = AuditReport([], [])  # no microdata leaves: nothing to link
    if model is not None:
        audit_report.model = model.utility
    if aggregates is not None and "item_mean" in aggregates:
        audit_report.aggregates = AggregateUtility(
            item_mean_error(ratings, aggregates["item_mean"], policy.aggregates)  # type: ignore[arg-type]
        )
    digest = input_sha256() if callable(input_sha256) else input_sha256
    # Without microdata every public figure must come from the declaration: a scale
    # inferred from the data would tell apart inputs that differ by one customer (the
    # only one who gave a 5).
    declared = policy.model or policy.aggregates
    scale = ratings.scale if microdata or declared is None else declared.scale(ratings)
    source = {
        "name": ratings.source,
        "format": input_format,
        "sha256": digest,
        "scale": str(scale),
        "dates": ratings.has_dates,
        "counts": ratings.counts(),
    }
    meta: dict[str, Any] = {
        "tool": {"name": "ratings-publisher", "version": __version__},
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": {"name": policy.name, "sha256": policy.digest()},
        "input": {"name": ratings.source, "format": source["format"], "sha256": source["sha256"]},
        "randomness": randomness(seed, key),
        "pseudonymization": "organizer-key" if key is not None else "ephemeral-key",
        "release": {"id": release, "pseudonyms": pseudonym_scope(policy), "ledger": ledger},
    }
    if aggregates is not None:
        meta["aggregates"] = {
            name: {"epsilon": stat.epsilon, "delta": 0.0}
            for stat in policy.aggregates.statistics  # type: ignore[union-attr]
            for name in [stat.name]
            if name in aggregates
        }
        meta["microdata"] = microdata
    if model is not None:
        meta["microdata"] = False
    decision = apply_gate(policy.gate, audit_report)
    report = build_report(
        policy=policy,
        meta=meta,
        source=source,
        released_counts=released.counts() if microdata else {"ratings": 0, "users": 0, "items": 0},
        steps=records,
        audits=audit_report,
        gate=decision,
        scale=scale,
        distributions=distributions(ratings, released) if microdata else None,
    )
    return Evaluation(
        policy=policy,
        original=ratings,
        released=released,
        steps=records,
        audits=audit_report,
        gate=decision,
        source=source,
        meta=meta,
        report=report,
        aggregates=aggregates,
        model=model.model if model is not None else None,
    )


def pseudonym_scope(policy: Policy) -> str:
    """``per-release``, ``linkable`` (stable across releases) or ``none`` (no pseudonyms)."""
    step = policy.pseudonymizer
    if step is None:
        return "none"
    return "linkable" if step.linkable else "per-release"


def seed_sequence(seed: int | None, key: Keys | None) -> np.random.SeedSequence:
    """The root of a run's randomness: OS entropy, the seed, or the seed mixed with the key.

    Its six spawned children drive, in this order, the steps, the audits, the
    aggregates, the utility audit, the date recovery and decoy audits, and the attacker
    who simulates the policy.
    """
    if seed is not None and key is not None:
        return np.random.SeedSequence(keyed_seed(key, seed))
    return np.random.SeedSequence(seed)


def randomness(seed: int | None, key: Keys | None) -> str:
    """How a run drew its randomness, as recorded in report.json and the manifest."""
    if seed is None:
        return "os-entropy"
    return "seeded-with-key" if key is not None else "seeded"


def check_seed(policy: Policy, seed: int | None, key: Keys | None) -> None:
    """Refuse a seeded release of protective noise without the organizer's key.

    Anyone who guesses a plain seed replays every draw and subtracts the noise
    (measured: ``--seed 1234`` found in 4.5 s from a bundle, every exact count
    recovered). With the key the seed is mixed with it, and without noise there is
    nothing to replay.

    Raises
    ------
    PolicyError
        Naming the components whose noise a plain seed would give away.
    """
    sources = policy.noise_sources()
    if seed is None or key is not None or not sources:
        return
    raise PolicyError(
        f"--seed without the organizer's key: anyone who guessed the seed could replay and "
        f"undo the random draws of {', '.join(sources)}; pass --key-file (the seed is then "
        "mixed with the key, so only its holder can reproduce the release) or leave out --seed"
    )


def input_digest(path: Path) -> str:
    """SHA-256 over the input's bytes (a folder: over its files' names and digests)."""
    if path.is_file():
        return hash_file(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{hash_file(file)}\n".encode())
    return digest.hexdigest()


def item_mean_error(
    ratings: Ratings, dp_means: pd.DataFrame, config: AggregatesConfig
) -> float | None:
    """Mean relative error of DP per-item means against the true means (items with both).

    The true means are over the ratings the tables count (the declared domain). This
    is an exact figure of the original: it belongs in the review copy only.
    """
    counted = in_domain(ratings, config)
    n = len(dp_means)
    items = counted[ITEM].to_numpy()
    counts = np.bincount(items, minlength=n)
    sums = np.bincount(items, weights=counted[RATING].to_numpy(), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        true = sums / counts
    noisy = dp_means["mean"].to_numpy()
    both = (counts > 0) & np.isfinite(noisy)
    if not both.any():
        return None
    return float(np.mean(np.abs(noisy[both] - true[both]) / true[both]))
