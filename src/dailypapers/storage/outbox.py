"""The outbox: one row per digest and period, recorded before sending and marked after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, delete, func, select, update

from dailypapers.models import OutboxEntry
from dailypapers.storage.papers import as_date, as_utc
from dailypapers.storage.schema import outbox
from dailypapers.storage.upserts import insert_for

PENDING, SENT, FAILED = "pending", "sent", "failed"


def settled(connection: Connection, period_keys: Sequence[str]) -> set[tuple[int, str]]:
    """(subscriber, period) pairs that are done with: sent, or failed for good."""
    query = select(outbox.c.subscriber_id, outbox.c.period_key).where(
        outbox.c.period_key.in_(list(period_keys)), outbox.c.status != PENDING
    )
    return {(subscriber_id, key) for subscriber_id, key in connection.execute(query)}


def last_digest_days(connection: Connection, since: date) -> dict[int, date]:
    """Per subscriber, the last feed day of their newest digest sent that covers `since` or
    later: what "new since the last digest" counts from."""
    query = (
        select(outbox.c.subscriber_id, func.max(outbox.c.last_day))
        .where(outbox.c.status == SENT, outbox.c.last_day >= since)
        .group_by(outbox.c.subscriber_id)
    )
    return {subscriber_id: as_date(day) for subscriber_id, day in connection.execute(query)}  # type: ignore[misc]


def record_digests(
    connection: Connection,
    digests: Sequence[tuple[int, str, tuple[date, date], str]],
    now: datetime,
) -> dict[tuple[int, str], OutboxEntry]:
    """The rows of these digests, each given as (subscriber, period key, (first, last day),
    Message-ID), by (subscriber, period key): new pending ones, or those already there (whose
    status and Message-ID win: a retry resends the same message)."""
    rows = [
        {
            "subscriber_id": subscriber_id,
            "period_key": key,
            "first_day": first,
            "last_day": last,
            "status": PENDING,
            "message_id": message_id,
            "created_at": now,
            "updated_at": now,
        }
        for subscriber_id, key, (first, last), message_id in digests
    ]
    if not rows:
        return {}
    connection.execute(insert_for(connection.dialect.name, outbox).on_conflict_do_nothing(), rows)
    wanted = {(row["subscriber_id"], row["period_key"]) for row in rows}
    query = select(outbox).where(
        outbox.c.subscriber_id.in_({subscriber_id for subscriber_id, _ in wanted}),
        outbox.c.period_key.in_({key for _, key in wanted}),
    )
    found = (_entry(row) for row in connection.execute(query))
    return {
        (e.subscriber_id, e.period_key): e
        for e in found
        if (e.subscriber_id, e.period_key) in wanted
    }


# Built once: a run marks every row it sends, and building the statement cost more than
# running it.
_MARK = (
    update(outbox)
    .where(outbox.c.id == bindparam("entry_id"))
    .values(
        status=bindparam("new_status"), updated_at=bindparam("now"), last_error=bindparam("error")
    )
)
_MARK_ATTEMPT = _MARK.values(attempts=outbox.c.attempts + 1)


def mark(
    connection: Connection,
    entry_id: int,
    status: str,
    now: datetime,
    error: str | None = None,
    attempted: bool = True,
) -> None:
    """Move a row to `status`, counting an attempt and keeping the error (None clears it)."""
    values = {"entry_id": entry_id, "new_status": status, "now": now, "error": error}
    connection.execute(_MARK_ATTEMPT if attempted else _MARK, values)


def latest_deliveries(connection: Connection) -> dict[int, OutboxEntry]:
    """Each subscriber's most recent outbox row."""
    newest = select(func.max(outbox.c.id)).group_by(outbox.c.subscriber_id).scalar_subquery()
    query = select(outbox).where(outbox.c.id.in_(newest))
    return {row.subscriber_id: _entry(row) for row in connection.execute(query)}


def forget_before(connection: Connection, moment: datetime) -> int:
    """Drop the rows last changed before `moment`; returns how many."""
    return connection.execute(delete(outbox).where(outbox.c.updated_at < moment)).rowcount


def _entry(row: object) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,  # type: ignore[attr-defined]
        subscriber_id=row.subscriber_id,  # type: ignore[attr-defined]
        period_key=row.period_key,  # type: ignore[attr-defined]
        first_day=as_date(row.first_day),  # type: ignore[attr-defined,arg-type]
        last_day=as_date(row.last_day),  # type: ignore[attr-defined,arg-type]
        status=row.status,  # type: ignore[attr-defined]
        message_id=row.message_id,  # type: ignore[attr-defined]
        attempts=row.attempts,  # type: ignore[attr-defined]
        last_error=row.last_error,  # type: ignore[attr-defined]
        updated_at=as_utc(row.updated_at),  # type: ignore[attr-defined,arg-type]
    )
