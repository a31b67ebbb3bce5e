"""Where an interrupted OAI-PMH harvest stopped, so a rerun resumes there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from dailypapers.storage.schema import harvest_cursors


@dataclass
class HarvestCursor:
    name: str
    resumption_token: str | None = None
    pages: int = 0
    records: int = 0
    complete_list_size: int | None = None
    finished: bool = False


def load_cursor(connection: Connection, name: str) -> HarvestCursor | None:
    row = connection.execute(
        select(harvest_cursors).where(harvest_cursors.c.name == name)
    ).one_or_none()
    if row is None:
        return None
    return HarvestCursor(
        name=row.name,
        resumption_token=row.resumption_token,
        pages=row.pages,
        records=row.records,
        complete_list_size=row.complete_list_size,
        finished=bool(row.finished),
    )


def save_cursor(connection: Connection, cursor: HarvestCursor) -> None:
    values = {
        "resumption_token": cursor.resumption_token,
        "pages": cursor.pages,
        "records": cursor.records,
        "complete_list_size": cursor.complete_list_size,
        "finished": cursor.finished,
        "updated_at": datetime.now(UTC),
    }
    connection.execute(delete(harvest_cursors).where(harvest_cursors.c.name == cursor.name))
    connection.execute(harvest_cursors.insert().values(name=cursor.name, **values))


def forget_cursor(connection: Connection, name: str) -> None:
    connection.execute(delete(harvest_cursors).where(harvest_cursors.c.name == name))
