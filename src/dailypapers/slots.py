"""A bounded number of holders at once, a bounded queue behind them, and refusal past it.

For work that is expensive in memory rather than time (argon2 holds 64 MiB per hash): a
burst of requests waits in a short queue instead of each taking its own share of memory,
and what does not fit in the queue is refused at once instead of piling up threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SlotsFull(Exception):
    """Every slot is taken and the queue is full (or the wait ran out): try again later."""


class Slots:
    def __init__(self, at_once: int, queue: int, wait_seconds: float) -> None:
        self.at_once = at_once
        self.queue = queue
        self.wait_seconds = wait_seconds
        self._free = threading.Semaphore(at_once)
        self._lock = threading.Lock()
        self._inside = 0  # holding or waiting
        self.holding = 0
        self.most_holding = 0  # the highest `holding` seen: what tests and operators look at

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._inside >= self.at_once + self.queue:
                raise SlotsFull("the queue is full")
            self._inside += 1
        try:
            if not self._free.acquire(timeout=self.wait_seconds):
                raise SlotsFull("no slot came free in time")
            with self._lock:
                self.holding += 1
                self.most_holding = max(self.most_holding, self.holding)
            try:
                yield
            finally:
                with self._lock:
                    self.holding -= 1
                self._free.release()
        finally:
            with self._lock:
                self._inside -= 1
