"""Ctrl-C at any stage: one line ``Interrupted``, exit 130, nothing left behind."""

import os
import signal
import subprocess
import sys
import time

import pytest

from publisher.demo import demo_data

pytestmark = pytest.mark.slow  # real releases: run with -m slow or the full suite


def netflix_file(path, movies=60, customers=100_000):
    """About 110 MB in the Netflix Prize text form: long enough to interrupt the read."""
    block = b"".join(f"{c},{1 + c % 5},2005-09-06\n".encode() for c in range(1, customers + 1))
    with path.open("wb") as fh:
        for movie in range(1, movies + 1):
            fh.write(f"{movie}:\n".encode())
            fh.write(block)
    return path


@pytest.mark.parametrize(
    ("source", "after_line", "delay"),
    [
        ("netflix", "reading ", 0.2),
        ("demo", "policy steps done", 0.3),
        ("demo", "linkage and uniqueness audits done", 0.1),
    ],
    ids=["while-reading", "during-audits", "late"],
)
def test_ctrl_c_prints_interrupted_and_leaves_nothing(tmp_path, source, after_line, delay):
    work = tmp_path / "work"
    work.mkdir()
    data = netflix_file(work / "ratings.txt") if source == "netflix" else demo_data()
    before = sorted(p.name for p in work.iterdir())
    env = {k: v for k, v in os.environ.items() if k != "PUBLISHER_KEY"}
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "release", str(data), "-p", "balanced",
         "-o", str(work / "out")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a test run started in the background (`cmd &` in a script) inherits an ignored
        # SIGINT, which Python then keeps: Ctrl-C reaches the tool as at a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if after_line in line or not line:
            break
    assert after_line in seen[-1], "".join(seen)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    err = "".join(seen) + err
    assert process.returncode == 130, err
    assert err.rstrip().splitlines()[-1] == "Interrupted"
    assert "Traceback" not in err
    assert sorted(p.name for p in work.iterdir()) == before
