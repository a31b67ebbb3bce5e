"""The worker's loop over a clock the test sets: outcomes, retries with backoff, the admins
told once, a lost lease that drops the outcome, and a clean stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dailypapers.clock import Clock
from dailypapers.jobs import queue
from dailypapers.jobs.queue import JobRow
from dailypapers.jobs.worker import JobContext, Outcome, RetryLater, Worker
from dailypapers.storage import Store

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


class HandClock:
    """A Clock read from a file, and a hand to move it."""

    def __init__(self, folder: Path) -> None:
        self.clock = Clock(folder / "clock")
        self.set(T0)

    def set(self, moment: datetime) -> None:
        assert self.clock.file is not None
        self.clock.file.write_text(moment.isoformat())

    def forward(self, seconds: float) -> None:
        self.set(self.clock.now() + timedelta(seconds=seconds))


@pytest.fixture
def hand(tmp_path: Path) -> HandClock:
    return HandClock(tmp_path)


def add(store: Store, key: str, kind: str = "test", payload: object = None) -> None:
    with store.bookkeeping() as connection:
        queue.enqueue(connection, kind, key, payload or {}, T0)


def job(store: Store, key: str) -> JobRow:
    with store.read() as connection:
        return next(row for row in queue.list_jobs(connection) if row.key == key)


def worker(
    store: Store, hand: HandClock, handler: Callable[[JobContext], Outcome], **options: object
) -> Worker:
    return Worker(store, hand.clock, {"test": handler}, **options)  # type: ignore[arg-type]


def test_a_run_is_written_with_its_result_and_duration(store: Store, hand: HandClock) -> None:
    seen: list[tuple[str, str, object, datetime]] = []

    def handler(context: JobContext) -> Outcome:
        seen.append((context.kind, context.key, context.payload, context.now()))
        return Outcome("stored 3 papers")

    add(store, "a", payload={"day": "2026-07-01"})
    running = worker(store, hand, handler)
    assert running.run_once() is True
    assert running.run_once() is False
    assert seen == [("test", "a", {"day": "2026-07-01"}, T0)]
    row = job(store, "a")
    assert (row.state, row.last_result, row.runs, row.worker_id) == (
        "done",
        "stored 3 papers",
        1,
        None,
    )
    assert row.last_duration is not None and row.last_duration >= 0


def test_failures_are_retried_after_a_backoff_or_when_the_handler_says(
    store: Store, hand: HandClock
) -> None:
    outcomes: list[Exception] = [ValueError("no\nluck"), RetryLater("HTTP 503", 300), KeyError("x")]

    def handler(_context: JobContext) -> Outcome:
        raise outcomes.pop(0)

    add(store, "a")
    running = worker(store, hand, handler)
    assert running.run_once()
    row = job(store, "a")
    assert (row.state, row.attempts, row.last_error) == ("queued", 1, "ValueError: no luck")
    assert row.run_at == T0 + timedelta(seconds=60)
    assert not running.run_once()  # not due yet

    hand.forward(60)
    assert running.run_once()
    row = job(store, "a")
    assert (row.attempts, row.last_error) == (2, "HTTP 503")
    assert row.run_at == T0 + timedelta(seconds=360)

    hand.forward(300)
    assert running.run_once()
    assert job(store, "a").run_at == T0 + timedelta(seconds=360 + 240)  # 60 * 2**2


def test_a_job_that_keeps_failing_is_told_once_until_it_succeeds(
    store: Store, hand: HandClock
) -> None:
    fails = [True] * 4 + [False] + [True] * 3
    alerts: list[JobRow] = []

    def handler(_context: JobContext) -> Outcome:
        if fails.pop(0):
            raise RuntimeError("arXiv is down")
        return Outcome("ok", next_run_at=hand.clock.now())

    add(store, "a")
    running = worker(store, hand, handler, on_keeps_failing=alerts.append)
    for _ in range(8):
        hand.forward(3600)
        assert running.run_once()
    assert [(row.key, row.attempts, row.last_error) for row in alerts] == [
        ("a", 3, "RuntimeError: arXiv is down"),
        ("a", 3, "RuntimeError: arXiv is down"),
    ]


def test_run_until_idle_runs_each_due_job_once(store: Store, hand: HandClock) -> None:
    runs: list[str] = []

    def handler(context: JobContext) -> Outcome:
        runs.append(context.key)
        if context.key == "a":
            context.enqueue("test", "b", {})  # due now: runs in the same pass
            context.enqueue("test", "b", {})  # once
            context.schedule("test", "later", {}, context.now() + timedelta(hours=1))
        return Outcome("ok", next_run_at=context.now() if context.key == "again" else None)

    add(store, "a")
    add(store, "again")
    running = worker(store, hand, handler)
    assert running.run_until_idle() == 3
    assert sorted(runs) == ["a", "again", "b"]
    assert job(store, "later").state == "queued"
    assert running.run_until_idle() == 1  # `again` is due again; `later` is not


def test_only_kinds_with_a_handler_are_claimed(store: Store, hand: HandClock) -> None:
    add(store, "embed", kind="embed")
    running = worker(store, hand, lambda _context: Outcome("ok"))
    assert running.run_until_idle() == 0
    assert job(store, "embed").state == "queued"


def test_a_worker_that_lost_its_lease_drops_its_outcome(store: Store, hand: HandClock) -> None:
    def handler(context: JobContext) -> Outcome:
        hand.forward(3600)  # the worker stalled past its lease: another one takes the job
        taken = queue.claim(store, "other", hand.clock.now(), 60)
        assert taken is not None and taken.key == "a"
        deadline = time.monotonic() + 10
        while context.still_held() and time.monotonic() < deadline:
            time.sleep(0.02)
        return Outcome("written too late")

    add(store, "a")
    running = worker(store, hand, handler, lease_s=0.3)  # renewed every 0.1 s
    assert running.run_once()
    row = job(store, "a")
    assert (row.state, row.worker_id, row.last_result) == ("running", "other", None)


def test_run_forever_runs_what_comes_due_and_stops_cleanly(store: Store, hand: HandClock) -> None:
    runs: list[str] = []

    def handler(context: JobContext) -> Outcome:
        runs.append(context.key)
        return Outcome("ok")

    running = worker(store, hand, handler, device="cuda")
    stop = threading.Event()
    thread = threading.Thread(target=running.run_forever, args=(stop,))
    thread.start()
    try:
        add(store, "a")
        deadline = time.monotonic() + 10
        while job(store, "a").state != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
        with store.read() as connection:
            alive = queue.workers_alive(connection, hand.clock.now(), 60)
        assert [(row.id, row.device) for row in alive] == [(running.id, "cuda")]
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert runs == ["a"]
    with store.read() as connection:
        assert queue.workers_alive(connection, hand.clock.now(), 60) == []  # it said goodbye


def test_a_handler_that_returns_no_outcome_is_a_failure(store: Store, hand: HandClock) -> None:
    add(store, "a")
    running = worker(store, hand, lambda _context: None)  # type: ignore[arg-type,return-value]
    assert running.run_once()
    assert (job(store, "a").last_error or "").startswith("TypeError: the handler returned None")
