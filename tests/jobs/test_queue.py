"""The jobs table's leases on SQLite and PostgreSQL: idempotent enqueueing, one claim per job,
a lease that runs out makes the job another worker's, and only the holder writes the outcome."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dailypapers.jobs import queue
from dailypapers.storage import Store
from dailypapers.storage.store import versions

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
LEASE_S = 10.0


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add(store: Store, key: str, run_at: datetime = T0, kind: str = "test") -> None:
    with store.bookkeeping() as connection:
        queue.enqueue(connection, kind, key, {"key": key}, run_at)


def job(store: Store, key: str) -> queue.JobRow:
    with store.read() as connection:
        return next(row for row in queue.list_jobs(connection) if row.key == key)


def test_enqueueing_is_idempotent(store: Store) -> None:
    with store.bookkeeping() as connection:
        assert queue.enqueue(connection, "test", "a", {"n": 1}, T0) is True
        assert queue.enqueue(connection, "test", "a", {"n": 2}, later(-60)) is False
        rows = queue.list_jobs(connection)
    assert [(row.key, row.state, row.run_at, row.runs) for row in rows] == [("a", "queued", T0, 0)]


def test_claim_takes_the_job_due_longest_of_the_kinds_asked(store: Store) -> None:
    add(store, "second", later(-10))
    add(store, "first", later(-20))
    add(store, "future", later(60))
    add(store, "other kind", later(-30), kind="other")

    first = queue.claim(store, "w1", T0, LEASE_S, kinds=["test"])
    assert first is not None
    assert (first.key, first.payload, first.runs, first.attempts) == (
        "first",
        {"key": "first"},
        1,
        0,
    )
    assert first.lease_until == later(LEASE_S)
    second = queue.claim(store, "w2", T0, LEASE_S, kinds=["test"])
    assert second is not None and second.key == "second"
    assert queue.claim(store, "w3", T0, LEASE_S, kinds=["test"]) is None  # future is not due
    other = queue.claim(store, "w3", T0, LEASE_S)
    assert other is not None and other.key == "other kind"

    row = job(store, "first")
    assert (row.state, row.worker_id, row.last_started) == ("running", "w1", T0)


def test_claims_and_leases_leave_the_data_version_and_so_the_page_cache_alone(
    store: Store,
) -> None:
    with store.read() as connection:
        before = versions(connection).data
    add(store, "a")
    claimed = queue.claim(store, "w1", T0, LEASE_S)
    assert claimed is not None
    assert queue.renew(store, claimed.id, "w1", later(1), LEASE_S)
    assert queue.finish(store, claimed.id, "w1", later(2), "ok", None)
    queue.register_worker(store, "w1", "host", 1, "cpu", T0)
    queue.heartbeat(store, "w1", later(3), None)
    with store.read() as connection:
        assert versions(connection).data == before


def test_a_lease_that_runs_out_makes_the_job_another_workers(store: Store) -> None:
    add(store, "a")
    claimed = queue.claim(store, "w1", T0, LEASE_S)
    assert claimed is not None
    assert queue.claim(store, "w2", later(LEASE_S - 1), LEASE_S) is None  # w1 holds it
    assert queue.renew(store, claimed.id, "w1", later(LEASE_S - 1), LEASE_S)
    assert queue.claim(store, "w2", later(LEASE_S + 1), LEASE_S) is None  # renewed

    again = queue.claim(store, "w2", later(2 * LEASE_S), LEASE_S)  # w1 died
    assert again is not None and again.id == claimed.id
    assert (again.runs, again.attempts) == (2, 1)  # a lost run counts as a failure
    assert "w1" in (job(store, "a").last_error or "")

    # The first worker is back: it lost the job and may write nothing.
    assert not queue.renew(store, claimed.id, "w1", later(2 * LEASE_S), LEASE_S)
    assert not queue.finish(store, claimed.id, "w1", later(2 * LEASE_S), "late", None)
    assert not queue.fail(store, claimed.id, "w1", later(2 * LEASE_S), "late", None)
    assert job(store, "a").worker_id == "w2"

    assert queue.finish(store, again.id, "w2", later(2 * LEASE_S + 3), "stored 3", None, 3.0)
    row = job(store, "a")
    assert (row.state, row.attempts, row.last_error, row.last_result) == (
        "done",
        0,
        None,
        "stored 3",
    )
    assert (row.last_finished, row.last_duration, row.worker_id) == (later(23), 3.0, None)
    assert queue.claim(store, "w3", later(3600), LEASE_S) is None  # done is done


def test_a_recurring_job_goes_back_to_the_queue_at_its_next_turn(store: Store) -> None:
    add(store, "check feed")
    claimed = queue.claim(store, "w1", T0, LEASE_S)
    assert claimed is not None
    assert queue.finish(store, claimed.id, "w1", later(1), "nothing new", later(3600))
    row = job(store, "check feed")
    assert (row.state, row.run_at, row.runs) == ("queued", later(3600), 1)
    assert queue.claim(store, "w1", later(3599), LEASE_S) is None
    assert queue.claim(store, "w1", later(3600), LEASE_S) is not None


def test_failures_count_in_a_row_and_retry_or_stop(store: Store) -> None:
    add(store, "a")
    claimed = queue.claim(store, "w1", T0, LEASE_S)
    assert claimed is not None
    error = "HTTPError: 503\nService Unavailable"
    assert queue.fail(store, claimed.id, "w1", later(1), error, later(60))
    row = job(store, "a")
    assert (row.state, row.attempts, row.run_at) == ("queued", 1, later(60))
    assert row.last_error == "HTTPError: 503 Service Unavailable"  # one line
    assert queue.claim(store, "w1", later(59), LEASE_S) is None

    claimed = queue.claim(store, "w1", later(60), LEASE_S)
    assert claimed is not None and claimed.attempts == 1
    assert queue.fail(store, claimed.id, "w1", later(61), "bad feed", None)
    row = job(store, "a")
    assert (row.state, row.attempts, row.last_error) == ("failed", 2, "bad feed")
    assert queue.claim(store, "w1", later(10**6), LEASE_S) is None


def test_the_admins_hear_of_a_job_that_keeps_failing_once(store: Store) -> None:
    add(store, "a")
    for attempt in range(1, 5):
        claimed = queue.claim(store, "w1", later(attempt * 100), LEASE_S)
        assert claimed is not None
        queue.fail(
            store, claimed.id, "w1", later(attempt * 100 + 1), "down", later(attempt * 100 + 50)
        )
        alerted = queue.mark_alerted(store, claimed.id, later(attempt * 100 + 2))
        assert (alerted is not None) == (attempt == 3)
    assert job(store, "a").alerted_at == later(302)

    claimed = queue.claim(store, "w1", later(1000), LEASE_S)
    assert claimed is not None
    queue.finish(store, claimed.id, "w1", later(1001), "ok", later(2000))
    row = job(store, "a")
    assert (row.attempts, row.alerted_at, row.last_error) == (0, None, None)


def test_schedule_brings_a_recurring_job_forward_and_never_touches_a_running_one(
    store: Store,
) -> None:
    def schedule(key: str, run_at: datetime) -> None:
        with store.bookkeeping() as connection:
            queue.schedule(connection, "test", key, {}, run_at)

    schedule("a", later(100))
    schedule("a", later(200))  # later: no change
    assert (job(store, "a").state, job(store, "a").run_at) == ("queued", later(100))
    schedule("a", later(50))  # earlier: moved
    assert job(store, "a").run_at == later(50)

    claimed = queue.claim(store, "w1", later(50), LEASE_S)
    assert claimed is not None
    schedule("a", later(10))
    row = job(store, "a")
    assert (row.state, row.run_at, row.worker_id) == ("running", later(50), "w1")

    queue.finish(store, claimed.id, "w1", later(51), "ok", None)
    schedule("a", later(500))  # done: queued again at its new turn
    assert (job(store, "a").state, job(store, "a").run_at) == ("queued", later(500))


def test_times_in_any_zone_are_stored_as_the_same_moment(store: Store) -> None:
    eastern = T0.astimezone(ZoneInfo("America/New_York"))  # 08:00 EDT
    add(store, "a", eastern)
    assert job(store, "a").run_at == T0
    assert queue.claim(store, "w1", later(-1), LEASE_S) is None
    claimed = queue.claim(store, "w1", eastern, LEASE_S)
    assert claimed is not None and claimed.run_at == T0


def test_concurrent_claims_take_each_job_once(store: Store) -> None:
    jobs = 60
    with store.bookkeeping() as connection:
        for number in range(jobs):
            queue.enqueue(connection, "test", f"job {number}", {}, T0)
    taken: list[list[str]] = [[] for _ in range(4)]

    def take(worker: int) -> None:
        while (claimed := queue.claim(store, f"w{worker}", T0, LEASE_S)) is not None:
            taken[worker].append(claimed.key)

    threads = [threading.Thread(target=take, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [key for keys in taken for key in keys]
    assert sorted(everything) == sorted(f"job {number}" for number in range(jobs))


def test_workers_beat_their_hearts_and_are_forgotten(store: Store) -> None:
    queue.register_worker(store, "old", "host", 1, "cpu", T0 - timedelta(days=2))
    queue.register_worker(store, "w1", "host", 2, "cpu", T0)  # forgets "old"
    queue.register_worker(store, "w2", "gpu-host", 3, "cuda", T0)
    assert queue.heartbeat(store, "w2", later(60), 7)
    assert not queue.heartbeat(store, "old", later(60), None)
    with store.read() as connection:
        alive = queue.workers_alive(connection, later(90), within_s=45)
        assert [(row.id, row.device, row.job_id) for row in alive] == [("w2", "cuda", 7)]
        assert len(queue.workers_alive(connection, later(90), within_s=120)) == 2
    queue.forget_worker(store, "w2")
    with store.read() as connection:
        assert [row.id for row in queue.workers_alive(connection, later(90), 120)] == ["w1"]


def test_done_one_shot_jobs_are_pruned(store: Store) -> None:
    for key in ("old", "new", "recurring"):
        add(store, key)
    for key, finished, next_run in (
        ("old", later(10), None),
        ("new", later(1000), None),
        ("recurring", later(10), later(5000)),
    ):
        claimed = queue.claim(store, "w1", T0, LEASE_S)
        assert claimed is not None
        queue.finish(store, claimed.id, "w1", finished, key, next_run)
    with store.bookkeeping() as connection:
        assert queue.delete_done(connection, later(500)) == 1
        assert sorted(row.last_result or "" for row in queue.list_jobs(connection)) == [
            "new",
            "recurring",
        ]
