"""Bulk files of papers (JSON lines, optionally gzipped), streamed into the store in batches.

A worker process reads, parses and prepares the rows of each batch while this process
writes the previous one: on two cores that doubles the rate, and at most READ_AHEAD
batches wait in between, so memory does not grow with the file. A file that cannot be
read to its end fails the import; a malformed record inside a readable file is skipped
and counted (or fatal with `strict`). Each batch is one transaction, so what was read
before a failure stays stored and a rerun upserts the rest.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import threading
import traceback
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
from dailypapers.storage.upserts import PreparedUpsert, prepare_upsert, write_prepared

Record = tuple[Paper, Submission | None]
RecordParser = Callable[[Any], Record]
# Called after each batch with (bytes of the file read, its size, papers stored so far).
ProgressCallback = Callable[[int, int, int], None]

MAX_REPORTED_SKIPS = 20
READ_AHEAD = 4
WORKER_POLL_SECONDS = 1.0
CHUNK_BYTES = 1 << 20
INFLATED_AHEAD = 8


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
    """The lines of a possibly gzipped file, and how far into the file on disk we are.

    A gzipped file is inflated by a thread of its own: zlib releases the GIL, so
    inflating overlaps the parsing that follows (a third of the work on one core).
    """

    def __init__(self, path: Path) -> None:
        try:
            self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise IngestError(f"{path}: cannot open: {error.strerror or error}") from error
        self.size = path.stat().st_size
        self.gzipped = self.raw.read(2) == b"\x1f\x8b"
        self.raw.seek(0)
        self.chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(INFLATED_AHEAD)
        self.stopped = threading.Event()
        if self.gzipped:
            threading.Thread(target=self._inflate, name="gunzip", daemon=True).start()

    def _inflate(self) -> None:
        try:
            inflater, fed = zlib.decompressobj(wbits=31), False
            while not self.stopped.is_set() and (block := self.raw.read(CHUNK_BYTES)):
                while block:
                    self._put(inflater.decompress(block))
                    block, fed = b"", True
                    if inflater.eof:  # a file may hold several gzip members
                        block = inflater.unused_data
                        inflater, fed = zlib.decompressobj(wbits=31), False
            if fed and not inflater.eof:
                raise EOFError("compressed file ended before the end-of-stream marker was reached")
            self._put(None)
        except BaseException as error:  # raised again in the reading thread
            self._put(error)

    def _put(self, item: bytes | BaseException | None) -> None:
        while not self.stopped.is_set():
            with contextlib.suppress(queue.Full):
                self.chunks.put(item, timeout=0.1)
                return

    def lines(self) -> Iterator[bytes]:
        if not self.gzipped:
            yield from self.raw
            return
        rest = b""
        while (chunk := self.chunks.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.stopped.set()
        self.raw.close()


def _records(
    path: Path, source: _Source, parse: RecordParser, report: ImportReport, strict: bool
) -> Iterator[Record]:
    number = 0
    try:
        for number, line in enumerate(source.lines(), start=1):  # noqa: B007 - used after the loop
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


def _prepared(batch: list[Record], dialect: str) -> PreparedUpsert:
    papers = [paper for paper, _ in batch]
    return prepare_upsert(dialect, papers, [sub for _, sub in batch if sub is not None])


def store_records(
    store: Store, records: Iterable[Record], batch_size: int, report: ImportReport
) -> ImportReport:
    """Upsert (paper, submission) pairs held in memory, one transaction per batch."""
    iterator = iter(records)
    while batch := list(islice(iterator, batch_size)):
        with store.transaction() as connection:
            write_prepared(connection, _prepared(batch, store.dialect))
        report.papers += len(batch)
    return report


def _prepare_file(
    path: Path,
    parse: RecordParser,
    strict: bool,
    batch_size: int,
    dialect: str,
    out: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """The worker: ("batch", prepared, papers, position, size) …, then ("end", report, error)."""
    report = ImportReport()
    error = None
    try:
        source = _Source(path)
        try:
            records = _records(path, source, parse, report, strict)
            while batch := list(islice(records, batch_size)):
                prepared = _prepared(batch, dialect)
                out.put(("batch", prepared, len(batch), source.position(), source.size))
        finally:
            source.close()
    except IngestError as failure:
        error = str(failure)
    except BaseException:  # a bug: hand its traceback over rather than dying silently
        error = f"{path}: import worker failed:\n{traceback.format_exc()}"
    out.put(("end", report, error))


def _messages(
    process: multiprocessing.process.BaseProcess,
    inbox: multiprocessing.Queue,  # type: ignore[type-arg]
) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            yield inbox.get(timeout=WORKER_POLL_SECONDS)
        except queue.Empty:
            if not process.is_alive():
                raise IngestError(f"import worker died (exit code {process.exitcode})") from None


def import_json_lines(
    store: Store,
    path: Path,
    parse: RecordParser,
    *,
    batch_size: int = 2000,
    strict: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    context = multiprocessing.get_context("spawn")  # no inherited engine or threads
    inbox = context.Queue(READ_AHEAD)
    arguments = (path, parse, strict, batch_size, store.dialect, inbox)
    worker = context.Process(target=_prepare_file, args=arguments, daemon=True)
    worker.start()
    report = ImportReport()
    try:
        for kind, *payload in _messages(worker, inbox):
            if kind == "end":
                worker_report, error = payload
                report.skipped, report.skip_reasons = (
                    worker_report.skipped,
                    worker_report.skip_reasons,
                )
                if error:
                    raise IngestError(error)
                return report
            prepared, papers, position, size = payload
            with store.transaction() as connection:
                write_prepared(connection, prepared)
            report.papers += papers
            if progress:
                progress(position, size, report.papers)
        raise AssertionError("unreachable: the worker always ends with an 'end' message")
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
