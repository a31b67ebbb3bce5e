"""The loop that claims jobs and runs them: the same in `serve`'s thread and in each
`dailypapers worker` process.

A worker claims one due job of the kinds it has handlers for, runs its handler while a
thread renews the lease (every third of it) and beats the worker's heart, then writes the
outcome: done, or queued again at the next turn (a recurring job), or queued again after a
backoff (a failure). A worker that lost its lease (it stalled, another claimed the job)
drops the outcome. Database errors (PostgreSQL restarting) cost a log line and a short
wait, never the loop. Stopping (the `stop` event, SIGTERM) lets the job running now end,
or abandons it with the process: its lease runs out and another worker claims it.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dailypapers.clock import Clock, ClockError
from dailypapers.jobs import queue
from dailypapers.jobs.queue import ClaimedJob, JobRow
from dailypapers.jobs.schedule import backoff
from dailypapers.storage import Store
from dailypapers.storage.store import first_line

log = logging.getLogger(__name__)
POLL_S = 5.0  # the longest an idle worker sleeps before looking for due jobs again
POLL_BY_HAND_S = 0.2  # with a clock set by hand: a jump of the clock is seen at once
DATABASE_WAIT_S = 2.0  # after a database error: wait, then go on


@dataclass(frozen=True, slots=True)
class Outcome:
    result: str  # one line for the jobs page: what the run did
    next_run_at: datetime | None = None  # a recurring job's next turn; None: done for good


class RetryLater(Exception):
    """Raised by a handler: try again in `seconds` (e.g. the server's Retry-After). It counts
    as a failure; a job with nothing to do yet returns an Outcome with its next turn instead."""

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = max(0.0, seconds)


@dataclass
class JobContext:
    """What a handler gets: its job, the time, and ways to add work for later."""

    job: ClaimedJob
    store: Store
    clock: Clock
    _lost: threading.Event = field(repr=False)
    _stopping: threading.Event = field(repr=False)

    @property
    def kind(self) -> str:
        return self.job.kind

    @property
    def key(self) -> str:
        return self.job.key

    @property
    def payload(self) -> Any:
        return self.job.payload

    def now(self) -> datetime:
        return self.clock.now()

    def enqueue(self, kind: str, key: str, payload: Any, run_at: datetime | None = None) -> bool:
        """A one-shot job (by default due now), unless its key exists; whether it was new."""
        with self.store.bookkeeping() as connection:
            return queue.enqueue(connection, kind, key, payload, run_at or self.now())

    def schedule(self, kind: str, key: str, payload: Any, run_at: datetime) -> None:
        """A recurring job's turn at `run_at`, or earlier if it had one already."""
        with self.store.bookkeeping() as connection:
            queue.schedule(connection, kind, key, payload, run_at)

    def still_held(self) -> bool:
        """False once another worker has the job: a long handler may stop early."""
        return not self._lost.is_set()

    def stopping(self) -> bool:
        """Whether the worker was asked to stop: a long handler may end its run early."""
        return self._stopping.is_set()


Handler = Callable[[JobContext], Outcome]
OnKeepsFailing = Callable[[JobRow], object]


def _error_line(error: BaseException) -> str:
    if isinstance(error, SQLAlchemyError):
        return f"database: {first_line(error)}"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _LeaseKeeper:
    """Renews a job's lease and beats the worker's heart while the handler runs."""

    def __init__(self, worker: Worker, job: ClaimedJob) -> None:
        self.worker = worker
        self.job = job
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"lease-{job.id}", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _keep(self) -> None:
        worker = self.worker
        while not self._done.wait(worker.lease_s / 3):
            try:
                now = worker.clock.now()
                held = queue.renew(worker.store, self.job.id, worker.id, now, worker.lease_s)
                queue.heartbeat(worker.store, worker.id, now, self.job.id)
            except (SQLAlchemyError, ClockError) as error:  # try again at the next turn
                log.warning("job %s: cannot renew its lease: %s", self.job.key, first_line(error))
                continue
            if not held:
                log.warning("job %s: another worker took it; its outcome is dropped", self.job.key)
                self.lost.set()
                return


class Worker:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        handlers: Mapping[str, Handler],
        lease_s: float = 60.0,
        device: str = "cpu",
        on_keeps_failing: OnKeepsFailing | None = None,
        *,
        poll_s: float = POLL_S,
        worker_id: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.handlers = dict(handlers)
        self.lease_s = lease_s
        self.device = device
        self.on_keeps_failing = on_keeps_failing
        self.poll_s = POLL_BY_HAND_S if clock.is_set_by_hand else poll_s
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.id = worker_id or f"{self.host}:{self.pid}:{secrets.token_hex(3)}"
        self.stopping = threading.Event()
        self._registered = False
        self._last_beat = 0.0  # time.monotonic() of the last heartbeat

    # ------------------------------------------------------------------ running jobs

    def run_once(self, skip: frozenset[int] = frozenset()) -> bool:
        """Claim one due job and run it; False when none is due. Database errors raise."""
        return self._claim_and_run(skip) is not None

    def run_until_idle(self) -> int:
        """Run due jobs until none is left, each at most once (a recurring job due again at
        once waits for the next call); how many ran."""
        ran: set[int] = set()
        try:
            while (job_id := self._claim_and_run(frozenset(ran))) is not None:
                ran.add(job_id)
        finally:
            self.leave()
        return len(ran)

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Run jobs as they come due until `stop` (or `self.stopping`) is set."""
        if stop is not None:
            self.stopping = stop  # one event: `stop()`, signals and handlers see the same
        stop = self.stopping
        try:
            while not stop.is_set():
                try:
                    if self.run_once():
                        continue
                    wait = self._idle()
                except SQLAlchemyError as error:
                    log.warning(
                        "worker %s: database unavailable (%s); trying again in %.0f s",
                        self.id,
                        first_line(error),
                        DATABASE_WAIT_S,
                    )
                    wait = DATABASE_WAIT_S
                except Exception as error:  # e.g. an unreadable clock file: not the loop
                    log.error(
                        "worker %s: %s; trying again in %.0f s",
                        self.id,
                        _error_line(error),
                        DATABASE_WAIT_S,
                        exc_info=not isinstance(error, ClockError),
                    )
                    wait = DATABASE_WAIT_S
                stop.wait(wait)
        finally:
            self.leave()

    def stop(self) -> None:
        """Ask the loop to stop after the job running now (from any thread or a signal)."""
        self.stopping.set()

    def _claim_and_run(self, skip: frozenset[int]) -> int | None:
        self._register()
        job = queue.claim(
            self.store, self.id, self.clock.now(), self.lease_s, self.handlers.keys(), skip
        )
        if job is None:
            return None
        if job.attempts >= queue.KEEPS_FAILING:  # e.g. its workers keep dying during it
            self._alert(job)
        self._run(job)
        return job.id

    def _run(self, job: ClaimedJob) -> None:
        started = time.monotonic()
        error: BaseException | None = None
        outcome: Outcome | None = None
        with _LeaseKeeper(self, job) as keeper:
            context = JobContext(job, self.store, self.clock, keeper.lost, self.stopping)
            try:
                outcome = self.handlers[job.kind](context)
                if not isinstance(outcome, Outcome):
                    raise TypeError(f"the handler returned {outcome!r}, not an Outcome")
            except Exception as raised:
                error, outcome = raised, None
        duration = time.monotonic() - started
        self._last_beat = 0.0  # idle again: say so at the next turn
        if keeper.lost.is_set():
            return
        now = self.clock.now()
        if outcome is not None:
            done = outcome
            log.info("job %s: %s (%.2f s)", job.key, done.result, duration)
            self._write_outcome(
                job,
                lambda: queue.finish(
                    self.store, job.id, self.id, now, done.result, done.next_run_at, duration
                ),
            )
            return
        assert error is not None
        if isinstance(error, RetryLater):
            delay = error.seconds
        elif isinstance(error, OperationalError):  # the database, not the job: soon again
            delay = DATABASE_WAIT_S
        else:
            delay = backoff(job.attempts + 1)
        line = error.reason if isinstance(error, RetryLater) else _error_line(error)
        if isinstance(error, RetryLater | SQLAlchemyError):
            log.warning(
                "job %s failed: %s (%.2f s); again in %.0f s", job.key, line, duration, delay
            )
        else:
            log.error(
                "job %s failed (%.2f s); again in %.0f s",
                job.key,
                duration,
                delay,
                exc_info=error,
            )
        retry_at = now + timedelta(seconds=delay)
        if self._write_outcome(
            job,
            lambda: queue.fail(self.store, job.id, self.id, now, line, retry_at, duration),
        ):
            self._alert(job)

    def _write_outcome(self, job: ClaimedJob, write: Callable[[], bool]) -> bool:
        """Write a run's outcome, through a database that may be restarting: tried again for
        as long as the lease would have lasted. Given up, the job runs again elsewhere."""
        deadline = time.monotonic() + self.lease_s
        while True:
            try:
                if not write():
                    log.warning("job %s: lost its lease; its outcome is dropped", job.key)
                    return False
                return True
            except SQLAlchemyError as error:
                if time.monotonic() + DATABASE_WAIT_S > deadline:
                    log.warning(
                        "job %s: cannot write its outcome (%s); it runs again",
                        job.key,
                        first_line(error),
                    )
                    return False
                time.sleep(DATABASE_WAIT_S)

    def _alert(self, job: ClaimedJob) -> None:
        if self.on_keeps_failing is None:
            return
        try:
            row = queue.mark_alerted(self.store, job.id, self.clock.now())
            if row is not None:
                self.on_keeps_failing(row)
        except Exception:  # telling the admins must not stop the work
            log.exception("job %s: cannot tell the admins that it keeps failing", job.key)

    # ------------------------------------------------------------------ being seen

    def _register(self) -> None:
        if not self._registered:
            queue.register_worker(
                self.store, self.id, self.host, self.pid, self.device, self.clock.now()
            )
            self._registered = True
            self._last_beat = time.monotonic()
            log.info("worker %s (%s) started", self.id, self.device)

    def _idle(self) -> float:
        """Say this worker is alive (now and then); seconds until the next due job, at most
        a poll interval."""
        now = self.clock.now()
        if time.monotonic() - self._last_beat >= min(self.lease_s / 3, self.poll_s * 3):
            if not queue.heartbeat(self.store, self.id, now, None):
                self._registered = False  # forgotten while away: say so again
                self._register()
            self._last_beat = time.monotonic()
        if self.clock.is_set_by_hand:
            return self.poll_s
        with self.store.read() as connection:
            due = queue.next_run_at(connection, self.handlers.keys())
        if due is None:
            return self.poll_s
        return min(max((due - now).total_seconds(), 0.0), self.poll_s)

    def leave(self) -> None:
        """No longer listed among the workers alive (it says so again when it runs more)."""
        if not self._registered:
            return
        try:
            queue.forget_worker(self.store, self.id)
        except SQLAlchemyError as error:
            log.warning("worker %s: cannot unregister: %s", self.id, first_line(error))
        self._registered = False
        log.info("worker %s stopped", self.id)


def stop_on_signals(worker: Worker) -> None:
    """SIGTERM and SIGINT stop the worker after its current job (main thread only); a second
    SIGINT interrupts at once."""

    def stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        log.info("worker %s: %s, stopping after the job running now", worker.id, name)
        worker.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
