"""A `Worker` in a process of its own, for the process tests: `python -m
tests.jobs.worker_process DATABASE_URL LEASE_S`. Its one job kind, `record`, writes each
start to `job_starts` at once (a run killed half-way leaves its start), may then wait for a
file to appear, and stores its result idempotently in `job_results`. SIGTERM stops it after
the job running now."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from dailypapers.clock import Clock
from dailypapers.jobs.worker import Handler, JobContext, Outcome, Worker, stop_on_signals
from dailypapers.storage import Store, open_store
from dailypapers.storage.upserts import insert_for

metadata = MetaData()
job_starts = Table(
    "job_starts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
)
job_results = Table(
    "job_results",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("pid", Integer, nullable=False),
)


def record(store: Store, pid: int) -> Handler:
    def run(context: JobContext) -> Outcome:
        with store.transaction() as connection:
            connection.execute(insert(job_starts).values(key=context.key, pid=pid))
        time.sleep(context.payload.get("sleep", 0))
        if wait_for := context.payload.get("wait_for"):
            while not Path(wait_for).exists():
                time.sleep(0.05)
        with store.transaction() as connection:
            statement = insert_for(connection.dialect.name, job_results).values(
                key=context.key, pid=pid
            )
            connection.execute(statement.on_conflict_do_nothing())
        return Outcome(f"recorded by {pid}")

    return run


def main(database_url: str, lease_s: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(message)s")
    store = open_store(database_url, migrate=False)
    handlers = {"record": record(store, os.getpid())}
    worker = Worker(store, Clock(), handlers, float(lease_s), poll_s=0.2)
    stop_on_signals(worker)
    print("ready", flush=True)
    worker.run_forever()
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
