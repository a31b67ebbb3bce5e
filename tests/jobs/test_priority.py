"""Background jobs run at a lower priority than requests: serve's jobs thread and the threads
it starts (the encoder's), and `worker` processes."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from dailypapers.jobs.site import lower_priority

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice: Linux")


def niceness(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def priorities_after(this_thread_only: bool) -> tuple[int, int]:
    """Lower a new thread's priority by 7: its niceness and that of a thread it starts then."""
    seen: list[int] = []

    def started() -> None:
        seen.append(niceness(threading.get_native_id()))

    def background() -> None:
        lower_priority(7, this_thread_only=this_thread_only)
        seen.append(niceness(threading.get_native_id()))
        child = threading.Thread(target=started)
        child.start()
        child.join()

    thread = threading.Thread(target=background)
    thread.start()
    thread.join()
    return seen[0], seen[1]


@pytest.mark.parametrize("this_thread_only", [True, False])
def test_background_work_runs_nicer_and_requests_do_not(this_thread_only: bool) -> None:
    here = niceness(threading.get_native_id())
    if here > 12:
        pytest.skip("already running at the lowest priority")
    assert priorities_after(this_thread_only) == (here + 7, here + 7)
    assert niceness(threading.get_native_id()) == here  # the requests' threads stay as they are


def test_no_niceness_changes_nothing() -> None:
    here = niceness(threading.get_native_id())
    lower_priority(0)
    assert niceness(threading.get_native_id()) == here
