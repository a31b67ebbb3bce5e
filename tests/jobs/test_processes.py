"""Worker processes sharing one database: 300 jobs run exactly once over 3 workers; a worker
killed (-9) in the middle of a job leaves it to another once its lease runs out, and nothing is
lost or done twice; PostgreSQL restarting under them: they reconnect by themselves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dailypapers.jobs import queue
from dailypapers.storage import Store, open_store
from tests.jobs.worker_process import job_results, job_starts, metadata

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
JOBS = 300
LEASE_S = 1.5  # short: a dead worker's job is claimed again soon
DEADLINE_S = 180.0  # for all the jobs to be done; they take seconds


@contextmanager
def worker_processes(
    database_url: str, logs: Path, count: int = WORKERS
) -> Iterator[list[subprocess.Popen[str]]]:
    """`count` worker processes, each past its imports and ready to claim; stopped with
    SIGTERM at the end, which they must take cleanly."""
    processes = []
    for number in range(count):
        log = open(logs / f"worker-{number}.log", "w")  # noqa: SIM115 - closed with the process
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.jobs.worker_process", database_url, str(LEASE_S)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        )
        log.close()
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready", worker_logs(logs)
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
    codes = [process.returncode for process in processes]
    assert all(code in (0, -signal.SIGKILL) for code in codes), (codes, worker_logs(logs))


def worker_logs(logs: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text()[-3000:]}" for path in sorted(logs.glob("*.log"))
    )


def add_jobs(
    store: Store, payloads: dict[str, dict[str, object]], run_at: datetime | None = None
) -> None:
    with store.bookkeeping() as connection:
        for key, payload in payloads.items():
            queue.enqueue(connection, "record", key, payload, run_at or datetime.now(UTC))


def wait_until(condition: Callable[[], bool], what: str, logs: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"not {what} in {DEADLINE_S:.0f} s\n{worker_logs(logs)}"
        time.sleep(0.1)


def states(store: Store) -> dict[str, queue.JobRow]:
    with store.read() as connection:
        return {row.key: row for row in queue.list_jobs(connection)}


def all_done(store: Store) -> Callable[[], bool]:
    return lambda: all(row.state == "done" for row in states(store).values())


def starts(store: Store) -> Counter[str]:
    with store.read() as connection:
        return Counter(connection.execute(select(job_starts.c.key)).scalars())


def results(store: Store) -> dict[str, int]:
    with store.read() as connection:
        rows = connection.execute(select(job_results.c.key, job_results.c.pid))
        return {key: pid for key, pid in rows}


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


def test_three_workers_run_each_of_300_jobs_exactly_once(
    store: Store, database_url: str, logs: Path
) -> None:
    metadata.create_all(store.engine)
    keys = [f"job {number:03}" for number in range(JOBS)]
    with worker_processes(database_url, logs) as processes:
        add_jobs(store, {key: {"sleep": 0.005} for key in keys})
        wait_until(all_done(store), "all done", logs)
    assert starts(store) == Counter(keys)  # each ran once: none twice, none lost
    done = results(store)
    assert sorted(done) == keys
    assert len(set(done.values())) > 1, "the work was spread over the workers"
    assert {pid for pid in done.values()} <= {process.pid for process in processes}
    assert {(row.runs, row.attempts, row.worker_id) for row in states(store).values()} == {
        (1, 0, None)
    }
    with store.read() as connection:
        assert queue.workers_alive(connection, datetime.now(UTC), 3600) == []  # all said goodbye


def test_a_job_whose_worker_was_killed_is_finished_by_another_and_nothing_is_lost_or_doubled(
    store: Store, database_url: str, logs: Path, tmp_path: Path
) -> None:
    metadata.create_all(store.engine)
    released = tmp_path / "released"
    keys = [f"job {number:03}" for number in range(JOBS)]
    with worker_processes(database_url, logs) as processes:
        # The first job claimed blocks until the file appears: its worker is killed meanwhile.
        add_jobs(
            store,
            {"blocked": {"wait_for": str(released)}},
            datetime.now(UTC) - timedelta(minutes=1),
        )
        wait_until(lambda: starts(store)["blocked"] == 1, "the blocked job started", logs)
        add_jobs(store, {key: {"sleep": 0.005} for key in keys})
        wait_until(lambda: len(results(store)) >= 30, "30 jobs done", logs)  # under way
        with store.read() as connection:
            first = connection.execute(
                select(job_starts.c.pid).where(job_starts.c.key == "blocked")
            ).scalar_one()
        victim = next(process for process in processes if process.pid == first)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        released.touch()
        wait_until(all_done(store), "all done", logs)
        survivors = [process for process in processes if process is not victim]
        assert all(process.poll() is None for process in survivors)

    assert starts(store) == Counter(keys) + Counter({"blocked": 2})
    done = results(store)
    assert sorted(done) == sorted([*keys, "blocked"])
    assert done["blocked"] != victim.pid
    blocked = states(store)["blocked"]
    assert (blocked.state, blocked.runs, blocked.attempts, blocked.last_error) == (
        "done",
        2,
        0,
        None,
    )
    assert all(row.runs == 1 for key, row in states(store).items() if key != "blocked")


def test_workers_reconnect_by_themselves_when_postgresql_restarts(
    postgres_server: str | None, logs: Path, tmp_path: Path
) -> None:
    if postgres_server is None:
        pytest.skip("restarts a PostgreSQL server: run with --postgres")
    from tests.jobs.restartable_postgres import RestartablePostgres
    from tests.postgres_server import create_database

    with RestartablePostgres(tmp_path) as server:
        database_url = create_database(server.url, "jobs")
        store = open_store(database_url)
        try:
            metadata.create_all(store.engine)
            keys = [f"job {number:03}" for number in range(JOBS)]
            with worker_processes(database_url, logs) as processes:
                add_jobs(store, {key: {"sleep": 0.02} for key in keys})
                wait_until(lambda: len(results(store)) >= 30, "30 jobs done", logs)
                server.stop()  # every session is cut; the workers' next calls fail
                time.sleep(3 * LEASE_S)
                assert all(process.poll() is None for process in processes), worker_logs(logs)
                server.start()  # the same port and data
                wait_until(all_done(store), "all done after the restart", logs)
                assert all(process.poll() is None for process in processes)
            assert sorted(results(store)) == keys  # each result once (the table's key)
            assert set(starts(store)) == set(keys)  # some may have started twice: idempotent
            said = "".join(path.read_text() for path in logs.glob("*.log"))
            assert "database unavailable" in said
        finally:
            store.close()
