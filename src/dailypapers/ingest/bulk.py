"""Bulk files of papers (JSON lines, optionally gzipped), streamed into the store in batches.

This process reads the file in blocks of `batch_size` lines (a thread inflates gzip:
zlib releases the GIL) and hands them to worker processes, which parse them and prepare
their rows; this process writes the prepared blocks in file order, one transaction each.
Writing and parsing overlap (on two cores, one worker: ~1.4x the rate of one process;
more cores, more workers), and at most READ_AHEAD blocks are in flight, so memory does
not grow with the file.

A file that cannot be read to its end fails the import; a malformed record inside a
readable file is skipped and counted (or, with `strict`, ends the import once the
records before it are stored). What was stored before a failure stays stored, and a
rerun upserts the rest without duplicates.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
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
from dailypapers.ingest.records import refuse_nul, well_typed
from dailypapers.models import Paper, Submission
from dailypapers.storage import Store
from dailypapers.storage.upserts import PreparedUpsert, prepare_upsert, write_prepared

Record = tuple[Paper, Submission | None]
RecordParser = Callable[[Any], Record]
# Called after each batch with (bytes of the file read, its size, papers stored so far).
ProgressCallback = Callable[[int, int, int], None]

MAX_REPORTED_SKIPS = 20
MAX_WORKERS = 4
READ_AHEAD = 6  # blocks being parsed or waiting to be written
WORKER_POLL_SECONDS = 1.0
CHUNK_BYTES = 1 << 20
INFLATED_AHEAD = 8


@dataclass
class ImportReport:
    papers: int = 0
    skipped: int = 0
    skip_reasons: list[str] = field(default_factory=list)

    def skip(self, reasons: list[str]) -> None:
        self.skipped += len(reasons)
        room = MAX_REPORTED_SKIPS - len(self.skip_reasons)
        self.skip_reasons.extend(reasons[: max(room, 0)])


@dataclass
class _Block:
    """Lines for a worker, and where they are in the file."""

    index: int
    first_line: int
    lines: list[bytes]
    position: int  # bytes of the file on disk read when the block was cut


@dataclass
class _Parsed:
    """A worker's answer: the block's rows, ready to write, and what it could not read."""

    index: int
    prepared: PreparedUpsert
    papers: int
    skips: list[str]
    error: str | None  # with `strict`: the first bad record; `prepared` holds those before it


class _Source:
    """The lines of a possibly gzipped file, and how far into the file on disk we are."""

    def __init__(self, path: Path) -> None:
        try:
            self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise IngestError(f"{path}: cannot open: {error.strerror or error}") from error
        self.size = os.fstat(self.raw.fileno()).st_size
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

    def _decompressed(self) -> Iterator[bytes]:
        if not self.gzipped:
            while chunk := self.raw.read(CHUNK_BYTES):
                yield chunk
            return
        while (chunk := self.chunks.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk

    def line_chunks(self) -> Iterator[list[bytes]]:
        """Complete lines, a chunk of the file at a time (splitting in C, not line by line)."""
        rest = b""
        for chunk in self._decompressed():
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            yield lines
        if rest:
            yield [rest]

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.stopped.set()
        self.raw.close()


def _blocks(path: Path, source: _Source, batch_size: int) -> Iterator[_Block]:
    """Blocks of `batch_size` lines; a read failure comes after the lines read before it."""
    pending: list[bytes] = []
    index = line = 0
    failure: IngestError | None = None
    try:
        for lines in source.line_chunks():
            pending.extend(lines)
            while len(pending) >= batch_size:
                yield _Block(index, line + 1, pending[:batch_size], source.position())
                index, line, pending = index + 1, line + batch_size, pending[batch_size:]
    except (EOFError, OSError, zlib.error) as error:
        failure = IngestError(
            f"{path}: cannot be read to its end after line {line + len(pending)}: {error}"
        )
    if pending:
        yield _Block(index, line + 1, pending, source.position())
    if failure:
        raise failure


def _parse_block(
    block: _Block, path: str, parse: RecordParser, strict: bool
) -> tuple[list[Record], list[str], str | None]:
    records: list[Record] = []
    skips: list[str] = []
    for number, line in enumerate(block.lines, start=block.first_line):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            # JSON spells a NUL \u0000 (a raw one is malformed): only such lines need a look
            records.append(well_typed(*parse(refuse_nul(record) if b"\\u0000" in line else record)))
        # AttributeError: a field of the wrong type met a string method (5 .split())
        except (orjson.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
            reason = f"{path}:{number}: {type(error).__name__}: {error}"
            if strict:
                return records, skips, reason
            skips.append(reason)
    return records, skips, None


def _prepared(batch: list[Record], dialect: str) -> PreparedUpsert:
    papers = [paper for paper, _ in batch]
    return prepare_upsert(dialect, papers, [sub for _, sub in batch if sub is not None])


def _worker(
    path: str,
    parse: RecordParser,
    strict: bool,
    dialect: str,
    todo: multiprocessing.Queue,  # type: ignore[type-arg]
    done: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """Parse and prepare blocks until told to stop (None); a bug is reported, not swallowed."""
    while (block := todo.get()) is not None:
        try:
            records, skips, error = _parse_block(block, path, parse, strict)
            prepared = _prepared(records, dialect)
            done.put(_Parsed(block.index, prepared, len(records), skips, error))
        except BaseException:
            failure = f"{path}: import worker failed:\n{traceback.format_exc()}"
            done.put(_Parsed(block.index, PreparedUpsert(dialect, []), 0, [], failure))


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


class _Workers:
    """Worker processes fed through one queue; their answers come back in any order."""

    def __init__(self, count: int, arguments: tuple[Any, ...]) -> None:
        context = multiprocessing.get_context("spawn")  # no inherited engine or threads
        self.todo = context.Queue()
        self.done = context.Queue()
        self.processes = [
            context.Process(target=_worker, args=(*arguments, self.todo, self.done), daemon=True)
            for _ in range(count)
        ]
        for process in self.processes:
            process.start()

    def answer(self) -> _Parsed:
        while True:
            try:
                return self.done.get(timeout=WORKER_POLL_SECONDS)
            except queue.Empty:
                dead = [p.exitcode for p in self.processes if not p.is_alive()]
                if dead:
                    raise IngestError(f"import worker died (exit code {dead[0]})") from None

    def stop(self) -> None:
        """Let idle workers finish (every answer has been read)."""
        for _ in self.processes:
            self.todo.put(None)
        for process in self.processes:
            process.join()

    def kill(self) -> None:
        """Stop at once: answers nobody will read must not keep a worker waiting."""
        for process in self.processes:
            process.terminate()
            process.join()
        for unread in (self.todo, self.done):
            # Blocks still in a pipe nobody reads: the queue's feeder thread would wait on
            # them at exit, and the process would hang instead of ending with the error.
            unread.cancel_join_thread()
            unread.close()


def import_json_lines(
    store: Store,
    path: Path,
    parse: RecordParser,
    *,
    batch_size: int = 2000,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
) -> ImportReport:
    source = _Source(path)
    # One core stays with this process, which writes; the rest parse.
    count = workers or max(1, min((os.cpu_count() or 2) - 1, MAX_WORKERS))
    pool = _Workers(count, (str(path), parse, strict, store.dialect))
    report = ImportReport()
    try:
        blocks = _blocks(path, source, batch_size)
        positions: dict[int, int] = {}  # blocks handed out, not yet written
        parsed: dict[int, _Parsed] = {}
        next_index = 0
        read_failure: IngestError | None = None
        while True:
            while read_failure is None and len(positions) < READ_AHEAD:
                try:
                    block = next(blocks)
                except StopIteration:
                    break
                except IngestError as failure:
                    read_failure = failure
                    break
                positions[block.index] = block.position
                pool.todo.put(block)
            if not positions:
                break
            while next_index not in parsed:
                answer = pool.answer()
                parsed[answer.index] = answer
            answer = parsed.pop(next_index)
            with store.transaction() as connection:
                write_prepared(connection, answer.prepared)
            report.papers += answer.papers
            report.skip(answer.skips)
            if progress:
                progress(positions[next_index], source.size, report.papers)
            del positions[next_index]
            next_index += 1
            if answer.error:
                raise IngestError(answer.error)
        if read_failure:
            raise read_failure
    except BaseException:
        pool.kill()
        raise
    else:
        pool.stop()
        return report
    finally:
        source.close()
