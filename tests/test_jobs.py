"""The in-process job runner that `serve` starts: jobs at start, then every interval."""

from __future__ import annotations

import threading
import time

import pytest

from dailypapers.site_jobs import JobRunner


def test_jobs_run_at_start_then_every_interval_and_survive_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[str] = []
    ticked = threading.Event()

    def tick() -> None:
        runs.append("tick")
        if runs.count("tick") >= 3:
            ticked.set()

    def broken() -> None:
        runs.append("broken")
        raise RuntimeError("no luck")

    runner = JobRunner()
    runner.add("tick", 0.05, tick)
    runner.add("broken", 60, broken)
    runner.start()
    try:
        assert ticked.wait(10)
    finally:
        runner.stop()
    assert runs.count("broken") == 1 and runs.count("tick") >= 3
    assert "job broken failed; it runs again in 60 s" in caplog.text
    count = len(runs)
    time.sleep(0.2)
    assert len(runs) == count  # stopped
