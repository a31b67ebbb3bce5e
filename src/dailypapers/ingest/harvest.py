"""OAI-PMH harvests: page after page by resumption token, each page stored with the cursor.

A page's papers and the token that follows it are written in one transaction, so a harvest
killed at any point resumes at the first page it had not stored, and duplicates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import Connection

from dailypapers.ingest.errors import IngestError, OaiError
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.oai import FORMAT_ROOTS, parse_list_records
from dailypapers.models import Paper
from dailypapers.storage import Store
from dailypapers.storage.cursors import HarvestCursor, forget_cursor, load_cursor, save_cursor
from dailypapers.storage.upserts import upsert_papers

FORMATS = tuple(FORMAT_ROOTS)


@dataclass(frozen=True)
class HarvestRequest:
    url: str
    metadata_prefix: str = "arXiv"
    from_date: date | None = None
    until_date: date | None = None
    set_spec: str | None = None

    def first_page_params(self) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.metadata_prefix}
        if self.from_date:
            params["from"] = self.from_date.isoformat()
        if self.until_date:
            params["until"] = self.until_date.isoformat()
        if self.set_spec:
            params["set"] = self.set_spec
        return params

    @property
    def name(self) -> str:
        """The cursor's key: the same arguments resume the same harvest."""
        return f"{self.url}?{urlencode(self.first_page_params())}"


# Called after each stored page with the cursor as it now stands.
PageCallback = Callable[[HarvestCursor], None]
# Chooses, in the page's transaction, which of a page's papers to store and how.
PageFilter = Callable[[Connection, list[Paper]], list[Paper]]


def _every_paper(_connection: Connection, papers: list[Paper]) -> list[Paper]:
    return papers


def harvest(
    store: Store,
    fetcher: Fetcher,
    request: HarvestRequest,
    on_page: PageCallback | None = None,
    keep: PageFilter = _every_paper,
) -> HarvestCursor:
    """Harvest to the end of the list, resuming a stored cursor; return the final cursor."""
    if request.metadata_prefix not in FORMATS:
        raise IngestError(f"unknown OAI-PMH format {request.metadata_prefix!r}: use {FORMATS}")
    with store.read() as connection:
        cursor = load_cursor(connection, request.name)
    if cursor is None or cursor.finished or not cursor.resumption_token:
        cursor = HarvestCursor(request.name)
    asked: set[str] = set()  # the tokens this harvest asked with: one back again is a loop
    while not cursor.finished:
        if cursor.resumption_token:
            asked.add(cursor.resumption_token)
            params = {"verb": "ListRecords", "resumptionToken": cursor.resumption_token}
        else:
            params = request.first_page_params()
        _harvest_page(store, fetcher, request, cursor, params, keep, asked)
        if on_page:
            on_page(cursor)
    return cursor


def _harvest_page(
    store: Store,
    fetcher: Fetcher,
    request: HarvestRequest,
    cursor: HarvestCursor,
    params: dict[str, str],
    keep: PageFilter,
    asked: set[str],
) -> None:
    described = f"{request.url}?{urlencode(params)}"
    data = fetcher.get(request.url, params)
    try:
        page = parse_list_records(data, request.metadata_prefix, described)
    except OaiError as error:
        if error.code == "noRecordsMatch":
            cursor.resumption_token, cursor.finished = None, True
            with store.transaction() as connection:
                save_cursor(connection, cursor)
            return
        if error.code == "badResumptionToken":
            with store.transaction() as connection:
                forget_cursor(connection, request.name)
            raise IngestError(
                f"{error}; the stored cursor was dropped, rerun to start over"
            ) from error
        raise
    if page.resumption_token is not None and page.resumption_token in asked:
        raise IngestError(
            f"{described}: the server handed back the resumption token "
            f"{page.resumption_token!r} already asked with in this harvest: it loops; "
            "the page was not stored"
        )
    cursor.resumption_token = page.resumption_token
    cursor.pages += 1
    cursor.records += len(page.papers)
    cursor.complete_list_size = page.complete_list_size or cursor.complete_list_size
    cursor.finished = page.resumption_token is None
    with store.transaction() as connection:
        upsert_papers(connection, keep(connection, page.papers))
        save_cursor(connection, cursor)
