"""A lock or transaction held by another thread, as another worker of the process holds it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def held_elsewhere(
    hold: Callable[[], AbstractContextManager[object]], release_after: float | None = None
) -> Iterator[None]:
    """`hold()` entered on another thread before the block starts; left when the block ends,
    or earlier, `release_after` seconds on."""
    holding, done = threading.Event(), threading.Event()

    def run() -> None:
        with hold():
            holding.set()
            done.wait(release_after if release_after is not None else 60)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert holding.wait(30), "the other thread never got hold of it"
        yield
    finally:
        done.set()
        thread.join()
