"""Speed and memory at Netflix scale: prints one line per stage (not a test).

Usage::

    python bench/bench.py 0.01 0.1 1.0        # scales of the Netflix preset
    python bench/bench.py --work /tmp/bench 1.0

Each stage runs in a fresh subprocess so that its peak RSS is its own. Synthetic
data is generated once per scale into the work folder (Parquet and the Netflix
text format) and reused.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

STAGES = (
    "synth", "read_parquet", "read_netflix", "steps", "linkage", "naive", "uniqueness", "release",
    "release_netflix", "row_audits", "scorers", "tune",
)  # fmt: skip

#: The 20-candidate space of issue 18's Netflix-scale measurements.
TUNE_SPACE = """\
objective: rmse_increase
drop_rare_items.min_raters: [null, 2000, 5000, 10000, 15000]
coarsen_dates.to: [year, drop]
perturb_ratings.epsilon: [1, 0.5]
"""


def child(stage: str, folder: Path) -> dict:
    """Run one stage in this process and return its figures."""
    import numpy as np

    from publisher.core.ratings import Scale
    from publisher.readers import read_ratings

    parquet, text = folder / "ratings.parquet", folder / "ratings.txt"
    out: dict = {}
    started = time.perf_counter()
    if stage == "synth":
        from publisher.synth import synthesize

        frame = synthesize("netflix", scale=float(folder.name.split("-")[-1]), seed=1)
        per_item = frame.groupby("item").size()
        per_user = frame.groupby("user").size()
        out["ratings"] = len(frame)
        out["seconds_generate"] = round(time.perf_counter() - started, 2)
        out["peak_rss_gib_generate"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2
        )
        out["movies"] = len(per_item)
        out["per_movie_median_mean_max"] = [
            float(per_item.median()),
            round(per_item.mean()),
            int(per_item.max()),
        ]
        out["per_customer_median_mean"] = [float(per_user.median()), round(per_user.mean())]
    elif stage in ("read_parquet", "read_netflix"):
        # Median of three reads (the machine is noisy); the peak is the largest of them.
        seconds = []
        for _ in range(3):
            t0 = time.perf_counter()
            if stage == "read_parquet":
                ratings = read_ratings(parquet, scale=Scale(1, 5, 1))
            else:
                ratings = read_ratings(text, format="netflix")
            seconds.append(time.perf_counter() - t0)
            out["ratings"] = ratings.n_ratings
            del ratings
        out["median_s"] = round(float(np.median(seconds)), 2)
        if stage == "read_netflix":
            out["mb_per_s"] = round(text.stat().st_size / 1e6 / out["median_s"], 1)
    elif stage == "steps":
        from policies import load_policy
        from publisher.engine import apply_policy

        ratings = read_ratings(parquet, scale=Scale(1, 5, 1))
        started = time.perf_counter()
        _, records = apply_policy(
            ratings, load_policy("balanced"), key=None, seed=np.random.SeedSequence(0)
        )
        out["per_step"] = {r.name: round(r.seconds, 2) for r in records}
    elif stage in ("linkage", "naive"):
        from audits import LinkageAudit
        from audits._index import IndexedTable
        from publisher.core import Adversary

        ratings = read_ratings(parquet, scale=Scale(1, 5, 1))
        table = IndexedTable(ratings)
        t0 = time.perf_counter()
        _ = table.by_item, table.by_record, table.weights
        out["index_s"] = round(time.perf_counter() - t0, 2)
        out["index_bytes_per_rating"] = round(table.by_item.nbytes / ratings.n_ratings, 2)
        for m in (2, 8):
            adversary = Adversary(known_items=m, date_tolerance_days=14)
            if stage == "linkage":
                audit = LinkageAudit(
                    table, table, adversary=adversary, n_targets=1000, rng=np.random.default_rng(m)
                )
                LinkageAudit(
                    table, table, adversary=adversary, n_targets=10, rng=np.random.default_rng(0)
                ).evaluate()  # compile outside the clock
                t0 = time.perf_counter()
                audit.evaluate()
                # evaluate() attacks the release and the original: two scans per target
                out[f"targets_per_s_m{m}"] = round(2000 / (time.perf_counter() - t0), 1)
            else:
                out[f"targets_per_s_m{m}"] = round(naive_rate(table, adversary), 2)
    elif stage == "uniqueness":
        from audits import UniquenessAudit

        ratings = read_ratings(parquet, scale=Scale(1, 5, 1))
        started = time.perf_counter()
        UniquenessAudit(
            ratings, dataset="original", n_users=1000, rng=np.random.default_rng(0)
        ).evaluate()
    elif stage in ("release", "release_netflix"):
        import dataclasses

        from policies import Gate, load_policy
        from publisher.engine import release
        from publisher.readers import ReadOptions

        policy = dataclasses.replace(load_policy("balanced"), gate=Gate())  # time it all
        source = parquet if stage == "release" else text
        reading = ReadOptions(scale=Scale(1, 5, 1))
        release(source, policy, folder / "bundle", reading=reading, overwrite=True)
    elif stage == "scorers":
        # Every scorer of the portfolio on the same knowledge, one scan per target each;
        # the likelihood also under a balanced-like channel (its date tables by period).
        from audits._index import IndexedTable
        from audits.knowledge import draw_knowledge, eligible_users, knowledge_pool
        from audits.portfolio import SCORERS, Context
        from publisher.core import Adversary
        from publisher.core.channel import Channel

        ratings = read_ratings(parquet, scale=Scale(1, 5, 1))
        table = IndexedTable(ratings)
        _ = table.by_item, table.by_record, table.weights
        noisy = Channel(keep_probability=0.5, period="month", cap=300)
        for m in (2, 8):
            adversary = Adversary(known_items=m, date_tolerance_days=14)
            rng = np.random.default_rng(m)
            pool = knowledge_pool("original", table, adversary)
            users = eligible_users(table, adversary, pool)
            targets = np.sort(rng.choice(users, size=1000, replace=False))
            aux = draw_knowledge(table, adversary, targets, pool, rng)
            truth = table.records.of_code[targets]
            runs = [(name, scorer, Context()) for name, scorer in SCORERS.items()]
            runs.append(("likelihood-channel", SCORERS["likelihood"], Context(channel=noisy)))
            for name, scorer, context in runs:
                scorer.attack(table, aux, truth, context)  # compile and warm outside the clock
                times = []
                for _ in range(3):  # the median of three: the machine is shared
                    t0 = time.perf_counter()
                    outcome = scorer.attack(table, aux, truth, context)
                    times.append(time.perf_counter() - t0)
                seconds = sorted(times)[1]
                out[f"{name}_targets_per_s_m{m}"] = round(1000 / seconds, 1)
                out[f"{name}_reidentified_m{m}"] = round(outcome.risk().value, 3)
            base = out[f"scoreboard-rh_targets_per_s_m{m}"]
            out[f"time_ratio_to_scoreboard_m{m}"] = {
                name: round(base / out[f"{name}_targets_per_s_m{m}"], 2) for name, _, _ in runs
            }
    elif stage == "tune":
        # publisher tune of the balanced preset over TUNE_SPACE (20 candidates).
        import shutil

        from publisher.readers import ReadOptions
        from publisher.tuning import parse_space, tune

        out_dir = folder / "tune"
        shutil.rmtree(out_dir, ignore_errors=True)
        statuses: dict[str, int] = {}

        def progress(trial, k, n):
            statuses[trial.status] = statuses.get(trial.status, 0) + 1
            print(f"    [{k + 1}/{n}] {trial.status} {trial.seconds:.0f} s", file=sys.stderr)

        try:
            run = tune(parquet, "balanced", out_dir, space=parse_space(TUNE_SPACE), seed=1,
                       reading=ReadOptions(scale=Scale(1, 5, 1)), progress=progress)  # fmt: skip
            frontier = run.frontier
        except Exception as exc:  # no recommendation: the frontier is written all the same
            frontier = exc.run.frontier  # type: ignore[attr-defined]
        out["statuses"] = statuses
        out["search_seconds"] = frontier["search"]["seconds"]
        rec = frontier["recommended"]
        out["recommended"] = rec and rec["knobs"]
        out["reaudit_risk_upper"] = rec and round(rec["reaudit"]["risk_upper"], 4)
        out["presets"] = {
            name: (figures.get("verdict"), round(figures.get("risk_upper") or 0, 3))
            for name, figures in frontier["presets"].items()
        }
    elif stage == "row_audits":
        # The audits of steps that add or move rows, on netflix-2006 (decoys, re-dating)
        # plus jitter: date recovery at 3 and 14 days, and the decoy classifier.
        import dataclasses

        from policies import load_policy, parse_policy
        from publisher.engine import apply_policy
        from publisher.engine.runner import date_recovery_audit, distinguishability_audit

        ratings = read_ratings(parquet, scale=Scale(1, 5, 1))
        base = load_policy("netflix-2006")
        jitter = parse_policy("{name: j, steps: [{jitter_dates: {max_days: 7}}]}").steps
        policy = dataclasses.replace(base, steps=(*base.steps, *jitter))
        released, _ = apply_policy(ratings, policy, key=None, seed=np.random.SeedSequence(0))
        started = time.perf_counter()
        dates_rng, decoys_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(1).spawn(2)
        )
        recovery = (
            date_recovery_audit(ratings, released, policy, policy.audits, dates_rng)
            .evaluate()
            .results()
        )
        audit = distinguishability_audit(ratings, released, policy, decoys_rng)
        decoys = audit.evaluate().results() if audit is not None else None
        out["date_recovery_released"] = {
            r.tolerance_days: round(r.released.recovered, 3) for r in recovery
        }
        out["decoy_auc"] = round(decoys.auc, 3) if decoys and decoys.auc else None
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    return out


def naive_rate(table, adversary, n_targets: int = 40) -> float:
    """Targets per second of a straightforward numpy Scoreboard-RH (one target at a time).

    What issue 6 names: per target, for each known item, score every record that
    rated it (vectorized over the item's raters, ``np.add.at``), then sigma and the two
    best scores with numpy over all records. It computes less than the audit (no
    entropic output) and runs on one core; the rate is n / (median time x n).
    """
    import numpy as np

    from audits.linkage import draw_auxiliary, eligible_items, eligible_users

    rng = np.random.default_rng(1)
    eligible = eligible_items(table, adversary)
    targets = rng.choice(eligible_users(table, adversary, eligible), n_targets, replace=False)
    aux = draw_auxiliary(table, adversary, targets, eligible, rng)
    index, weights, n = table.by_item, table.weights, table.records.n
    seconds = []
    for t in range(n_targets):
        started = time.perf_counter()
        scores = np.zeros(n)
        for j in range(aux.length[t]):
            item = aux.items[t, j]
            lo, hi = index.ptr[item], index.ptr[item + 1]
            records = index.other[lo:hi]
            sim = np.exp(-np.abs(aux.rating[t, j] - index.rating[lo:hi].astype(float)) / 1.5)
            sim += np.exp(-np.abs(aux.day[t, j] - index.day[lo:hi].astype(float)) / 30)
            np.add.at(scores, records, weights[item] * sim)
        sigma = scores.std()
        top2 = np.partition(scores, -2)[-2:]
        _ = (top2[1] - top2[0]) / sigma if sigma else 0.0
        seconds.append(time.perf_counter() - started)
    return 1.0 / float(np.median(seconds))


def prepare(scale: float, folder: Path) -> None:
    """Synthesize the scale's data once."""
    from publisher.synth import synthesize, write_synthetic

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "ratings.parquet").exists():
        frame = synthesize("netflix", scale=scale, seed=1)
        write_synthetic(frame, folder / "ratings.parquet")
        write_synthetic(frame, folder / "ratings.txt", format="netflix")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scales", nargs="*", type=float, default=[0.01, 0.1])
    parser.add_argument("--work", type=Path, default=Path("/tmp/publisher-bench"))
    parser.add_argument(
        "--stages", default=",".join(STAGES), help=f"comma-separated subset of {', '.join(STAGES)}"
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:  # child mode
        print(json.dumps(child(args.stage, args.folder)))
        return
    print(
        f"# {platform.node()}: {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}"
    )
    for scale in args.scales:
        folder = args.work / f"netflix-{scale:g}"
        t0 = time.perf_counter()
        prepare(scale, folder)
        print(
            f"scale {scale:g}: data ready in {time.perf_counter() - t0:.1f}s "
            f"({(folder / 'ratings.txt').stat().st_size / 1e6:.0f} MB as Netflix text)"
        )
        for stage in args.stages.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--stage", stage, "--folder", str(folder)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode:
                print(f"  {stage:14} FAILED: {done.stderr.strip().splitlines()[-1:]}")
                continue
            print(f"  {stage:14} {done.stdout.strip().splitlines()[-1]}", flush=True)


if __name__ == "__main__":
    main()
