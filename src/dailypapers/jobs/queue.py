"""The jobs table and its leases, on SQLite and PostgreSQL alike.

A job is one row, found by its `key` (its kind and arguments): enqueueing twice is a no-op, and
a recurring job is one row that goes back to `queued` with a later `run_at` after each run. A
worker claims a due job with a lease (`lease_until`), renews it while it runs, and writes the
outcome only while it still holds it. A job whose worker died (its lease ran out) is claimed
again by another; every job is idempotent, so a second run does no harm.

Claims: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` and an UPDATE in one transaction, so
workers never wait for each other; on SQLite one `UPDATE … WHERE id = (SELECT …) RETURNING`
(SQLite has one writer at a time, so the statement is atomic). Writes of leases, heartbeats and
states go through `Store.bookkeeping`: they leave the data version, and the page cache, alone.
Times are the caller's (from a `Clock`), never the database server's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    delete,
    literal,
    or_,
    select,
    update,
)

from dailypapers.storage import Store
from dailypapers.storage.papers import as_utc
from dailypapers.storage.schema import jobs, workers
from dailypapers.storage.upserts import insert_for

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KEEPS_FAILING = 3  # failures in a row after which the admins hear of a job, once
STALE_WORKER = timedelta(days=1)  # a worker silent this long is forgotten by the next to start
MAX_TEXT = 2000  # characters of a result or an error kept


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    key: str
    payload: Any
    attempts: int  # failures in a row before this run (a lost lease counts as one)
    runs: int  # this run included
    run_at: datetime
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    kind: str
    key: str
    state: str
    run_at: datetime
    attempts: int
    runs: int
    last_started: datetime | None
    last_finished: datetime | None
    last_duration: float | None
    last_result: str | None
    last_error: str | None
    worker_id: str | None
    lease_until: datetime | None
    alerted_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkerRow:
    id: str
    host: str
    pid: int
    device: str
    started_at: datetime
    heartbeat_at: datetime
    job_id: int | None


def _utc(moment: datetime) -> datetime:
    """What is written: UTC (SQLite drops the offset without converting)."""
    if moment.tzinfo is None:
        raise ValueError(f"a naive time reached the jobs table: {moment}")
    return moment.astimezone(UTC)


def _moment(value: datetime) -> datetime:
    found = as_utc(value)
    assert found is not None
    return found


def one_line(text: str) -> str:
    """A result or an error as the jobs page shows it: one line, not too long."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_TEXT else line[: MAX_TEXT - 1] + "…"


# ---------------------------------------------------------------------------- enqueueing


def enqueue(connection: Connection, kind: str, key: str, payload: Any, run_at: datetime) -> bool:
    """Add a job unless one with this key exists (whatever its state); whether it was new."""
    statement = (
        insert_for(connection.dialect.name, jobs)
        .values(_new_job(kind, key, payload, run_at))
        .on_conflict_do_nothing(index_elements=[jobs.c.key])
    )
    # An INSERT's rowcount is kept only when asked for (psycopg otherwise reports -1).
    added = connection.execute(statement, execution_options={"preserve_rowcount": True})
    return added.rowcount == 1


def schedule(connection: Connection, kind: str, key: str, payload: Any, run_at: datetime) -> None:
    """A recurring job's next turn: add it, or bring it forward to `run_at` when that is earlier
    (a queued job), or queue it again at `run_at` (a done or failed one). A running job stays
    running; a turn asked for after its run started (the run may have missed what asked for it)
    is kept in its `run_at`, and `finish` makes it the next turn when that is earlier."""
    statement = insert_for(connection.dialect.name, jobs).values(
        _new_job(kind, key, payload, run_at)
    )
    asked = statement.excluded.run_at
    earlier = case((asked < jobs.c.run_at, asked), else_=jobs.c.run_at)
    during_run = case(
        (asked <= jobs.c.last_started, jobs.c.run_at),  # the run began after it: covers it
        (jobs.c.run_at > jobs.c.last_started, earlier),  # another was asked for during the run
        else_=asked,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[jobs.c.key],
        set_={
            "run_at": case(
                (jobs.c.state == QUEUED, earlier),
                (jobs.c.state == RUNNING, during_run),
                else_=asked,
            ),
            "state": case((jobs.c.state == RUNNING, RUNNING), else_=QUEUED),
        },
    )
    connection.execute(statement)


def _new_job(kind: str, key: str, payload: Any, run_at: datetime) -> dict[str, Any]:
    moment = _utc(run_at)
    return {
        "kind": kind,
        "key": key,
        "payload": payload,
        "state": QUEUED,
        "run_at": moment,
        "attempts": 0,
        "runs": 0,
        "created_at": moment,
    }


# ---------------------------------------------------------------------------- leases


def _claimable(now: datetime, kinds: Collection[str] | None, skip: Collection[int]) -> Any:
    due = or_(
        and_(jobs.c.state == QUEUED, jobs.c.run_at <= now),
        and_(jobs.c.state == RUNNING, jobs.c.lease_until < now),  # its worker died
    )
    conditions: list[ColumnElement[bool]] = [due]
    if kinds is not None:
        conditions.append(jobs.c.kind.in_(list(kinds)))
    if skip:
        conditions.append(jobs.c.id.not_in(list(skip)))
    return and_(*conditions)


def _claimed_values(worker_id: str, now: datetime, lease_s: float) -> dict[str, Any]:
    lost = jobs.c.state == RUNNING  # in SET, columns are the row's values before the update
    return {
        "state": RUNNING,
        "worker_id": worker_id,
        "lease_until": now + timedelta(seconds=lease_s),
        "last_started": now,
        "runs": jobs.c.runs + 1,
        "attempts": case((lost, jobs.c.attempts + 1), else_=jobs.c.attempts),
        "last_error": case(
            (lost, "its worker " + jobs.c.worker_id + " stopped during the run (lease ran out)"),
            else_=jobs.c.last_error,
        ),
    }


_CLAIMED = (
    jobs.c.id,
    jobs.c.kind,
    jobs.c.key,
    jobs.c.payload,
    jobs.c.attempts,
    jobs.c.runs,
    jobs.c.run_at,
    jobs.c.lease_until,
)


def claim(
    store: Store,
    worker_id: str,
    now: datetime,
    lease_s: float,
    kinds: Collection[str] | None = None,
    skip: Collection[int] = (),
) -> ClaimedJob | None:
    """Take the job due longest (queued with run_at <= now, or running on a lease that ran
    out), of one of `kinds` when given and not one of the ids in `skip`; None if there is none.
    Two workers never take the same job."""
    now = _utc(now)
    condition = _claimable(now, kinds, skip)
    with store.bookkeeping() as connection:
        if store.dialect == "postgresql":
            found = connection.execute(
                select(jobs.c.id)
                .where(condition)
                .order_by(jobs.c.run_at, jobs.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).scalar()
            if found is None:
                return None
            target = jobs.c.id == found
        else:
            first = select(jobs.c.id).where(condition).order_by(jobs.c.run_at, jobs.c.id).limit(1)
            target = and_(jobs.c.id == first.scalar_subquery(), condition)
        statement = (
            update(jobs).where(target).values(_claimed_values(worker_id, now, lease_s))
        ).returning(*_CLAIMED)
        row = connection.execute(statement).first()
    if row is None:
        return None
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        key=row.key,
        payload=row.payload,
        attempts=row.attempts,
        runs=row.runs,
        run_at=_moment(row.run_at),
        lease_until=_moment(row.lease_until),
    )


def _held_by(job_id: int, worker_id: str) -> ColumnElement[bool]:
    return and_(jobs.c.id == job_id, jobs.c.worker_id == worker_id, jobs.c.state == RUNNING)


def renew(store: Store, job_id: int, worker_id: str, now: datetime, lease_s: float) -> bool:
    """Extend this worker's lease; False when it lost the job (another worker claimed it after
    the lease ran out): then it must stop and write nothing."""
    until = _utc(now) + timedelta(seconds=lease_s)
    with store.bookkeeping() as connection:
        statement = update(jobs).where(_held_by(job_id, worker_id)).values(lease_until=until)
        return connection.execute(statement).rowcount == 1


def finish(
    store: Store,
    job_id: int,
    worker_id: str,
    now: datetime,
    result: str,
    next_run_at: datetime | None,
    duration_s: float | None = None,
) -> bool:
    """A run that succeeded: queued again at `next_run_at` (a recurring job), or at the turn
    `schedule` was asked for during the run when that is earlier; else done. Only while this
    worker holds the job; whether it did."""
    values: dict[str, Any] = {
        "state": DONE if next_run_at is None else QUEUED,
        "attempts": 0,
        "alerted_at": None,
        "last_error": None,
        "last_result": one_line(result),
    }
    if next_run_at is not None:
        turn = literal(_utc(next_run_at), jobs.c.run_at.type)
        asked = and_(jobs.c.run_at > jobs.c.last_started, jobs.c.run_at < turn)
        values["run_at"] = case((asked, jobs.c.run_at), else_=turn)
    return _end_run(store, job_id, worker_id, now, duration_s, values)


def fail(
    store: Store,
    job_id: int,
    worker_id: str,
    now: datetime,
    error: str,
    retry_at: datetime | None,
    duration_s: float | None = None,
) -> bool:
    """A run that failed: one more failure in a row, queued again at `retry_at`, or failed for
    good when None. Only while this worker holds the job; whether it did."""
    values: dict[str, Any] = {
        "state": FAILED if retry_at is None else QUEUED,
        "attempts": jobs.c.attempts + 1,
        "last_error": one_line(error) or "failed",
    }
    if retry_at is not None:
        values["run_at"] = _utc(retry_at)
    return _end_run(store, job_id, worker_id, now, duration_s, values)


def _end_run(
    store: Store,
    job_id: int,
    worker_id: str,
    now: datetime,
    duration_s: float | None,
    values: dict[str, Any],
) -> bool:
    values |= {
        "lease_until": None,
        "worker_id": None,
        "last_finished": _utc(now),
        "last_duration": duration_s,
    }
    with store.bookkeeping() as connection:
        statement = update(jobs).where(_held_by(job_id, worker_id)).values(values)
        return connection.execute(statement).rowcount == 1


def mark_alerted(store: Store, job_id: int, now: datetime) -> JobRow | None:
    """The job when it has failed KEEPS_FAILING times in a row and no one was told yet (and
    now someone is: alerted_at is set); None otherwise. Only one caller ever gets the row."""
    condition = and_(
        jobs.c.id == job_id, jobs.c.attempts >= KEEPS_FAILING, jobs.c.alerted_at.is_(None)
    )
    with store.bookkeeping() as connection:
        statement = update(jobs).where(condition).values(alerted_at=_utc(now))
        if connection.execute(statement).rowcount != 1:
            return None
        row = connection.execute(select(*_LISTED).where(jobs.c.id == job_id)).one()
    return _job_row(row)


# ---------------------------------------------------------------------------- workers


def register_worker(
    store: Store, worker_id: str, host: str, pid: int, device: str, now: datetime
) -> None:
    """Say this worker is alive (and forget those silent for a day: killed, never back)."""
    now = _utc(now)
    row = {
        "id": worker_id,
        "host": host,
        "pid": pid,
        "device": device,
        "started_at": now,
        "heartbeat_at": now,
        "job_id": None,
    }
    with store.bookkeeping() as connection:
        connection.execute(delete(workers).where(workers.c.heartbeat_at < now - STALE_WORKER))
        statement = insert_for(connection.dialect.name, workers).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[workers.c.id],
            set_={key: value for key, value in row.items() if key != "id"},
        )
        connection.execute(statement)


def heartbeat(store: Store, worker_id: str, now: datetime, job_id: int | None) -> bool:
    """This worker is alive and runs `job_id` (None: idle); False if it is not registered."""
    with store.bookkeeping() as connection:
        statement = (
            update(workers)
            .where(workers.c.id == worker_id)
            .values(heartbeat_at=_utc(now), job_id=job_id)
        )
        return connection.execute(statement).rowcount == 1


def forget_worker(store: Store, worker_id: str) -> None:
    with store.bookkeeping() as connection:
        connection.execute(delete(workers).where(workers.c.id == worker_id))


def workers_alive(connection: Connection, now: datetime, within_s: float) -> list[WorkerRow]:
    """Workers whose heart beat in the last `within_s` seconds, oldest first."""
    since = _utc(now) - timedelta(seconds=within_s)
    query = select(workers).where(workers.c.heartbeat_at >= since)
    rows = connection.execute(query.order_by(workers.c.started_at, workers.c.id))
    return [
        WorkerRow(
            id=row.id,
            host=row.host,
            pid=row.pid,
            device=row.device,
            started_at=_moment(row.started_at),
            heartbeat_at=_moment(row.heartbeat_at),
            job_id=row.job_id,
        )
        for row in rows
    ]


# ---------------------------------------------------------------------------- seen from outside

_LISTED = (
    jobs.c.id,
    jobs.c.kind,
    jobs.c.key,
    jobs.c.state,
    jobs.c.run_at,
    jobs.c.attempts,
    jobs.c.runs,
    jobs.c.last_started,
    jobs.c.last_finished,
    jobs.c.last_duration,
    jobs.c.last_result,
    jobs.c.last_error,
    jobs.c.worker_id,
    jobs.c.lease_until,
    jobs.c.alerted_at,
)


def _job_row(row: Any) -> JobRow:
    return JobRow(
        id=row.id,
        kind=row.kind,
        key=row.key,
        state=row.state,
        run_at=_moment(row.run_at),
        attempts=row.attempts,
        runs=row.runs,
        last_started=as_utc(row.last_started),
        last_finished=as_utc(row.last_finished),
        last_duration=row.last_duration,
        last_result=row.last_result,
        last_error=row.last_error,
        worker_id=row.worker_id,
        lease_until=as_utc(row.lease_until),
        alerted_at=as_utc(row.alerted_at),
    )


def list_jobs(connection: Connection) -> list[JobRow]:
    """Every job, the next to run first (for /admin/jobs and `dailypapers jobs`)."""
    query = select(*_LISTED).order_by(jobs.c.run_at, jobs.c.id)
    return [_job_row(row) for row in connection.execute(query)]


def next_run_at(connection: Connection, kinds: Collection[str] | None = None) -> datetime | None:
    """When the next queued job (of `kinds`) is due; None when none is queued."""
    query = select(jobs.c.run_at).where(jobs.c.state == QUEUED)
    if kinds is not None:
        query = query.where(jobs.c.kind.in_(list(kinds)))
    found = connection.execute(query.order_by(jobs.c.run_at).limit(1)).scalar()
    return as_utc(found)


def delete_done(connection: Connection, older_than: datetime) -> int:
    """Forget one-shot jobs that finished before `older_than`; how many."""
    condition = and_(jobs.c.state == DONE, jobs.c.last_finished < _utc(older_than))
    return connection.execute(delete(jobs).where(condition)).rowcount
