"""Killing a release at any moment leaves no bundle or a whole one; reruns recover."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from publisher.demo import demo_data
from publisher.engine.verify import verify_bundle

pytestmark = pytest.mark.slow  # real releases: run with -m slow or the full suite

POLICY = (
    "name: open\nsteps: [{pseudonymize_users: {}}, {coarsen_dates: {to: month}}]\n"
    "audits: {targets: 200}\ngate: none\n"
)


def start(out, policy, *extra):
    env = {k: v for k, v in os.environ.items() if k != "PUBLISHER_KEY"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "publisher",
            "release",
            str(demo_data()),
            "-p",
            str(policy),
            "-o",
            str(out),
            "-q",
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def full_run_seconds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("timing")
    policy = folder / "open.yaml"
    policy.write_text(POLICY)
    started = time.perf_counter()
    assert start(folder / "out", policy).wait(timeout=300) == 0
    return time.perf_counter() - started


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.8, 0.9, 0.95, 0.99])
def test_sigkill_leaves_nothing_or_a_whole_bundle(tmp_path, full_run_seconds, fraction):
    policy = tmp_path / "open.yaml"
    policy.write_text(POLICY)
    out = tmp_path / "bundle"
    process = start(out, policy)
    time.sleep(full_run_seconds * fraction)
    process.send_signal(signal.SIGKILL)
    process.wait()
    review = tmp_path / "bundle.review"
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    if out.exists():  # killed after the swap: the bundle and its review copy, both whole
        assert visible == ["bundle", "bundle.review", "open.yaml"]
        assert verify_bundle(out).ok
        assert verify_bundle(review).ok
    else:  # killed before it: nothing visible, or only the review copy (swapped first), whole
        assert visible in (["open.yaml"], ["bundle.review", "open.yaml"])
        assert not review.exists() or verify_bundle(review).ok
    # the next run ignores and cleans any stale temporary folder, and succeeds
    assert start(out, policy, "--overwrite").wait(timeout=300) == 0
    assert verify_bundle(out).ok
    assert verify_bundle(review).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "bundle.review", "open.yaml"]


def test_overwrite_swaps_an_existing_bundle_whole(tmp_path, full_run_seconds):
    policy = tmp_path / "open.yaml"
    policy.write_text(POLICY)
    out = tmp_path / "bundle"
    assert start(out, policy, "--seed", "1").wait(timeout=300) == 0
    first = json.loads((out / "MANIFEST.json").read_text())["created"]
    assert start(out, policy, "--seed", "1").wait(timeout=300) == 1  # no --overwrite: refused
    process = start(out, policy, "--overwrite")
    time.sleep(full_run_seconds * 0.9)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # killed mid-swap or before it: the old bundle or the new one, always whole
    assert verify_bundle(out).ok or any(
        p.name.startswith(".bundle.tmp-old") for p in tmp_path.iterdir()
    )
    assert json.loads((out / "MANIFEST.json").read_text())["created"] >= first
