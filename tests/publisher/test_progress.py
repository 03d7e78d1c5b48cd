import io

import pytest

from publisher.progress import Stages


def test_stages_time_and_report_one_line_each_without_a_terminal():
    stream = io.StringIO()
    stages = Stages(visible=True, stream=stream)
    with stages("read input"):
        pass
    with pytest.raises(ValueError, match="boom"), stages("audits"):
        raise ValueError("boom")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("GiB)")
    assert "] read input done (peak memory so far " in lines[0]
    assert "] audits failed (" in lines[1]
    assert stages.summary().startswith("time per stage: read input ")


def test_quiet_stages_print_nothing_but_keep_times():
    stream = io.StringIO()
    stages = Stages(visible=False, stream=stream)
    with stages("write bundle"):
        pass
    assert stream.getvalue() == ""
    assert list(stages.times) == ["write bundle"]


def test_candidate_progress_off_a_terminal_writes_a_line_per_tenth():
    import io
    from types import SimpleNamespace

    from publisher.progress import CandidateProgress

    stream = io.StringIO()
    progress = CandidateProgress(stream=stream)
    trial = SimpleNamespace(figures=None, candidate=SimpleNamespace(number=0), status="passed",
                            seconds=0.1, reason="")  # fmt: skip
    for k in range(480):
        progress(trial, k, 480)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # the first candidate, then each tenth
    assert lines[0].startswith("tune: 1/480 candidates (0%)")
    assert lines[-1].startswith("tune: 480/480 candidates (100%)")
    progress.close()
