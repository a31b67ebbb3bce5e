"""Periodic jobs inside `dailypapers serve`: one daemon thread that runs each registered job
every so often.

A job is a name, an interval in seconds and a callable taking no arguments. It runs once
when the runner starts, then `interval` seconds after each run ends; a job that raises is
logged and tried again at its next turn, and never stops the others. Register more with
`JobRunner.add` (before `start`). `serve` runs one runner in the process that starts the
workers, whatever their number, so each job runs once per site, not once per worker. Jobs
that must not overlap with a command run by hand take a lock of their own
(`storage.locks.exclusive`), as the digests do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dailypapers.config import Settings
from dailypapers.mail.delivery import DeliveryError, send_due_digests
from dailypapers.search.service import SearchService
from dailypapers.storage import Store, open_store
from dailypapers.storage.ratelimit import forget_expired

log = logging.getLogger(__name__)
DIGEST_INTERVAL_S = 300.0  # digests go out within five minutes of the digest hour
SEARCH_INTERVAL_S = 30.0
SEARCH_EMBED_SLICE = 1024  # papers embedded per turn: about a minute on two cores
RATE_LIMIT_PRUNE_INTERVAL_S = 3600.0


@dataclass
class Job:
    name: str
    interval: float  # seconds from the end of one run to the start of the next
    run: Callable[[], object]
    due: float = 0.0  # time.monotonic() of the next run; 0: at once


class JobRunner:
    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, interval: float, run: Callable[[], object]) -> None:
        self.jobs.append(Job(name, interval, run))

    def run_due(self) -> float:
        """Run every job whose turn has come; returns the seconds until the next one's."""
        for job in self.jobs:
            if time.monotonic() >= job.due and not self._stopping.is_set():
                try:
                    job.run()
                except Exception:
                    log.exception("job %s failed; it runs again in %.0f s", job.name, job.interval)
                job.due = time.monotonic() + job.interval
        now = time.monotonic()
        return max(0.0, min((job.due - now for job in self.jobs), default=60.0))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dailypapers-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the job running now, if any, ends (waiting up to `timeout`)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._stopping.wait(self.run_due())


def site_jobs(settings: Settings, store: Store) -> JobRunner:
    """The jobs `serve` runs."""
    runner = JobRunner()
    runner.add("digests", DIGEST_INTERVAL_S, lambda: _mail_digests(settings, store))
    search = SearchService(settings, store)
    runner.add("search index", SEARCH_INTERVAL_S, lambda: _index_search(search))
    # Keys seen once (an address that signed up and left) would otherwise stay for good.
    runner.add(
        "rate limit counts", RATE_LIMIT_PRUNE_INTERVAL_S, lambda: forget_expired(store, time.time())
    )
    return runner


def _index_search(search: SearchService) -> None:
    """A slice of the indexing each turn, so that a big import does not hold up the digests."""
    try:
        report = search.update_indexes(embed_limit=SEARCH_EMBED_SLICE)
    except BlockingIOError:  # `dailypapers index` is running: it does the work
        return
    if report.keyword or report.embedded:
        log.info("search index: %d by keyword, %d embedded", report.keyword, report.embedded)


def _mail_digests(settings: Settings, store: Store) -> None:
    try:
        report = send_due_digests(store, settings)
    except DeliveryError as error:  # e.g. the SMTP server is down: the next turn resumes
        log.warning("digests: %s", error)
        return
    log.info("digests: %d sent", report.sent)
    for address, reason in report.failed:
        log.warning("digest to %s failed: %s", address, reason)


@contextmanager
def running_jobs(settings: Settings) -> Iterator[JobRunner]:
    """The site's jobs in a thread of this process, over a store of their own."""
    store = open_store(settings.database_url)
    runner = site_jobs(settings, store)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
        store.close()
