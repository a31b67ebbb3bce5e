"""Bulk files of papers (JSON lines, optionally gzipped), streamed into the store in batches.

A file that cannot be read to its end fails the import; a malformed record inside a
readable file is skipped and counted (or fatal with `strict`). Each batch is one
transaction, so what was read before a failure stays stored and a rerun upserts the rest.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson

from dailypapers.ingest.errors import IngestError
from dailypapers.models import Paper, Submission
from dailypapers.storage import Store
from dailypapers.storage.papers import upsert_papers, upsert_submissions

Record = tuple[Paper, Submission | None]
RecordParser = Callable[[Any], Record]
# Called after each batch with (bytes of the file read, its size, papers stored so far).
ProgressCallback = Callable[[int, int, int], None]

MAX_REPORTED_SKIPS = 20


@dataclass
class ImportReport:
    papers: int = 0
    skipped: int = 0
    skip_reasons: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.skip_reasons) < MAX_REPORTED_SKIPS:
            self.skip_reasons.append(reason)


class _Source:
    """A possibly gzipped file, with the position in the file on disk for progress bars."""

    def __init__(self, path: Path) -> None:
        try:
            self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise IngestError(f"{path}: cannot open: {error.strerror or error}") from error
        self.size = path.stat().st_size
        gzipped = self.raw.read(2) == b"\x1f\x8b"
        self.raw.seek(0)
        self.text: IO[bytes] = gzip.GzipFile(fileobj=self.raw) if gzipped else self.raw

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.text.close()
        self.raw.close()


def _records(
    path: Path, source: _Source, parse: RecordParser, report: ImportReport, strict: bool
) -> Iterator[Record]:
    number = 0
    try:
        for number, line in enumerate(source.text, start=1):  # noqa: B007 - used after the loop
            if not line.strip():
                continue
            try:
                yield parse(orjson.loads(line))
            except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as error:
                reason = f"{path}:{number}: {type(error).__name__}: {error}"
                if strict:
                    raise IngestError(reason) from error
                report.skip(reason)
    except (EOFError, OSError, zlib.error) as error:
        raise IngestError(
            f"{path}: cannot be read to its end after line {number}: {error}"
        ) from error


def store_records(
    store: Store,
    records: Iterable[Record],
    batch_size: int,
    report: ImportReport,
    on_batch: Callable[[int], None] | None = None,
) -> ImportReport:
    """Upsert (paper, submission) pairs, one transaction per batch."""
    iterator = iter(records)
    while batch := list(islice(iterator, batch_size)):
        with store.transaction() as connection:
            upsert_papers(connection, [paper for paper, _ in batch])
            upsert_submissions(connection, [sub for _, sub in batch if sub is not None])
        report.papers += len(batch)
        if on_batch:
            on_batch(report.papers)
    return report


def import_json_lines(
    store: Store,
    path: Path,
    parse: RecordParser,
    *,
    batch_size: int = 2000,
    strict: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    source = _Source(path)
    report = ImportReport()
    try:
        records = _records(path, source, parse, report, strict)

        def on_batch(papers: int) -> None:
            if progress:
                progress(source.position(), source.size, papers)

        return store_records(store, records, batch_size, report, on_batch)
    finally:
        source.close()
