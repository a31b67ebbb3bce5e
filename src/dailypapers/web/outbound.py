"""Calls out of the site made for a web request (today: fetching a submitted paper from
arXiv): off the request threads, within a deadline, and a few per user at once.

A request thread waiting on arXiv is one thread fewer for every page, so these calls run on
a few threads of their own that the handler awaits; the handler answers 504 once
`web_fetch_timeout` has passed, and 503 when a stopping server cancels it. The threads are daemons:
one stuck on a silent arXiv never holds up the process's exit. They queue anyway for
arXiv's one connection (`ingest.http.SiteGate`), so more would only wait.

The count of a user's pending calls is kept in the process: with `serve --workers N` a user
may have N times `submissions_pending_per_user`.
"""

from __future__ import annotations

import asyncio
import math
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from fastapi import HTTPException

from dailypapers.config import Settings
from dailypapers.ingest.http import OutOfTime

T = TypeVar("T")
CALL_THREADS = 4
REPORT_GRACE_S = 1.0  # for a call to report its own deadline before the handler gives up


class DaemonThreads:
    """A few daemon threads running functions in turn. (concurrent.futures joins its threads
    at exit: one blocked on a black-holed connection would hold up shutdown.)"""

    def __init__(self, size: int) -> None:
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        for number in range(size):
            name = f"dailypapers-outbound-{number}"
            threading.Thread(target=self._serve, name=name, daemon=True).start()

    def submit(self, function: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._work.put((future, function))
        return future

    def _serve(self) -> None:
        while True:
            future, function = self._work.get()
            if not future.set_running_or_notify_cancel():
                continue  # its handler stopped waiting before its turn came
            try:
                future.set_result(function())
            except Exception as error:
                future.set_exception(error)


@cache
def _threads() -> DaemonThreads:
    """One set per process, started on first use."""
    return DaemonThreads(CALL_THREADS)


class OutboundCalls:
    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.web_fetch_timeout
        self.per_user = settings.submissions_pending_per_user
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def pending(self, username: str) -> Iterator[None]:
        """Count one call of `username`'s while the block runs; 429, before any call, when
        they have `per_user` pending already."""
        with self._lock:
            if self._pending[username] >= self.per_user:
                raise HTTPException(
                    429,
                    f"you have {self.per_user} submissions waiting for arXiv already; "
                    "try again when they are answered",
                    headers={"Retry-After": str(math.ceil(self.timeout))},
                )
            self._pending[username] += 1
        try:
            yield
        finally:
            with self._lock:
                self._pending[username] -= 1
                if not self._pending[username]:
                    del self._pending[username]

    async def call(self, function: Callable[[], T]) -> T:
        """`function()` on the call threads. It should keep to the deadline itself (a Fetcher
        with `deadline=`); OutOfTime if it does not, a moment after."""
        future = asyncio.wrap_future(_threads().submit(function))
        try:
            return await asyncio.wait_for(future, self.timeout + REPORT_GRACE_S)
        except TimeoutError:
            raise OutOfTime(f"no answer within {self.timeout:g} s") from None
        except asyncio.CancelledError:  # the server is stopping: say so rather than a 500
            raise HTTPException(
                503, "the server is stopping: try again in a moment", headers={"Retry-After": "5"}
            ) from None
