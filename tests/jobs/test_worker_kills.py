"""The real job kinds in real `dailypapers worker` processes, one of them killed (-9) in the
middle of its job: an embedding batch, an OAI-PMH backfill between two pages. Another
worker takes the job over once its lease runs out and finishes it: nothing is lost, nothing
is stored twice, and the harvest resumes at the page it had not stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from lxml import etree
from sqlalchemy import func, select

from dailypapers.config import Settings
from dailypapers.ingest.harvest import HarvestRequest
from dailypapers.ingest.oai import parse_list_records
from dailypapers.ingest.taxonomy import follows_paper
from dailypapers.jobs import queue
from dailypapers.jobs.kinds import BACKFILL, EMBED, RECURRING, plan_backfill
from dailypapers.models import Paper
from dailypapers.search.encoder import MINILM
from dailypapers.search.service import index_folder
from dailypapers.search.vectors import VectorIndex
from dailypapers.storage import Store
from dailypapers.storage.cursors import load_cursor
from dailypapers.storage.schema import embeddings, papers
from dailypapers.storage.upserts import upsert_papers
from tests.conftest import shared
from tests.fake_http import Params, Reply, serving

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 3  # short: a dead worker's job is claimed again soon
DEADLINE_S = 120.0  # for the jobs to be done; they take seconds
NOWHERE = "http://127.0.0.1:9"  # refused at once: no job of these tests should go out
PAGES = "fixtures/oai-pmh/ListRecords_data_{}.xml"
TOKENS = {None: 0, "6511260|1001": 1, "6511260|2001": 2}  # the recorded pages' tokens
XML = {"Content-Type": "text/xml; charset=utf-8"}
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"


# --- worker processes ---------------------------------------------------------------------


@contextmanager
def site_workers(
    database_url: str, data_dir: Path, count: int, **env: str
) -> Iterator[dict[int, subprocess.Popen[bytes]]]:
    """`count` `dailypapers worker` processes by pid, their settings from `env`; stopped with
    SIGTERM at the end (killed when that does not do), whatever happened. Those not killed
    by the test must have taken the SIGTERM cleanly."""
    settings = {name: value for name, value in os.environ.items() if "DAILYPAPERS_" not in name}
    settings |= {
        "DAILYPAPERS_DATA_DIR": str(data_dir),
        "DAILYPAPERS_JOB_LEASE": str(LEASE_S),
        "DAILYPAPERS_POLITE_DELAY": "0",
        "DAILYPAPERS_HTTP_RETRIES": "1",
        "DAILYPAPERS_OAI_URL": f"{NOWHERE}/oai",
        "DAILYPAPERS_ARXIV_RSS_URL": f"{NOWHERE}/rss/",
        "DAILYPAPERS_ARXIV_API_URL": f"{NOWHERE}/api/query",
        **env,
    }
    processes: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for number in range(count):
            with open(data_dir / f"worker-{number}.log", "wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "dailypapers", "worker", "--db", database_url],
                    cwd=ROOT,
                    env=settings,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            processes[process.pid] = process
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    codes = [process.returncode for process in processes.values()]
    assert all(code in (0, -signal.SIGKILL) for code in codes), (codes, worker_logs(data_dir))


def worker_logs(data_dir: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text()[-3000:]}"
        for path in sorted(data_dir.glob("worker-*.log"))
    )


def wait_until(condition: Callable[[], bool], what: str, data_dir: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, (
            f"not {what} in {DEADLINE_S:.0f} s\n{worker_logs(data_dir)}"
        )
        time.sleep(0.05)


def jobs_of(store: Store, kind: str) -> dict[str, queue.JobRow]:
    with store.read() as connection:
        return {row.key: row for row in queue.list_jobs(connection) if row.kind == kind}


def pid_of(job: queue.JobRow) -> int:
    """The process of the worker that holds `job` (its id is host:pid:random)."""
    assert job.worker_id is not None
    return int(job.worker_id.split(":")[1])


def kill(processes: dict[int, subprocess.Popen[bytes]], pid: int) -> None:
    assert pid in processes, f"{pid} is none of the test's workers"
    os.kill(pid, signal.SIGKILL)  # no clean-up of any kind
    processes[pid].wait(30)


def all_done(store: Store, kind: str) -> Callable[[], bool]:
    def done() -> bool:
        rows = jobs_of(store, kind).values()
        # A run that failed would be retried only much later (a job taken over from a dead
        # worker says so in last_error while it runs again: that is no failure).
        failed = [row for row in rows if row.state != "running" and row.last_error]
        assert not failed, [f"{row.key}: {row.last_error}" for row in failed]
        return all(row.state == "done" for row in rows)

    return done


def hold_off_recurring_jobs(store: Store) -> None:
    """The recurring jobs the workers seed, made first and due only next year: the workers
    run what each test enqueues and nothing else (a backfill still brings `index` forward)."""
    later = datetime.now(UTC) + timedelta(days=365)
    with store.bookkeeping() as connection:
        for kind in RECURRING:
            queue.enqueue(connection, kind, kind, {}, later)


def recorded_papers() -> list[list[Paper]]:
    """The papers of the three recorded OAI-PMH pages (2,265 records of all archives)."""
    return [
        parse_list_records(shared(PAGES.format(page)).read_bytes(), "oai_dc").papers
        for page in TOKENS.values()
    ]


# --- an embedding batch killed ------------------------------------------------------------


def test_an_embedding_batch_whose_worker_was_killed_is_finished_by_another(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    stored = recorded_papers()[1][:300]  # real titles, and abstracts cut short: a few seconds
    for paper in stored:
        paper.abstract = " ".join((paper.abstract or "").split()[:12])
    with store.transaction() as connection:
        upsert_papers(connection, stored)
    ids = sorted(paper.id for paper in stored)
    batches = {f"{EMBED}:{start}": ids[start : start + 100] for start in range(0, 300, 100)}
    hold_off_recurring_jobs(store)
    with store.bookkeeping() as connection:
        for key, batch in batches.items():
            queue.enqueue(connection, EMBED, key, {"ids": batch}, datetime.now(UTC))

    with site_workers(database_url, tmp_path, 3) as processes:

        def an_embedding_running() -> bool:
            return any(row.state == "running" for row in jobs_of(store, EMBED).values())

        wait_until(an_embedding_running, "an embedding batch running", tmp_path)
        killed = next(row for row in jobs_of(store, EMBED).values() if row.state == "running")
        kill(processes, pid_of(killed))
        with store.read() as connection:
            embedded = connection.scalar(
                select(func.count()).where(embeddings.c.paper_id.in_(batches[killed.key]))
            )
        assert embedded < 100, "the batch was stored before the kill: nothing was tested"
        wait_until(all_done(store, EMBED), "every batch done", tmp_path)
        survivors = [process for pid, process in processes.items() if pid != pid_of(killed)]
        assert all(process.poll() is None for process in survivors), worker_logs(tmp_path)

    runs = {key: (row.runs, row.attempts) for key, row in jobs_of(store, EMBED).items()}
    assert runs == {key: (2 if key == killed.key else 1, 0) for key in batches}
    assert jobs_of(store, EMBED)[killed.key].last_result == f"{100 - embedded} embedded"
    with store.read() as connection:
        rows = connection.execute(select(embeddings.c.paper_id, embeddings.c.model)).all()
        keys = set(connection.scalars(select(embeddings.c.key)))
    assert Counter(paper_id for paper_id, _ in rows) == Counter(ids)  # each once, none missing
    assert {model for _, model in rows} == {MINILM}
    if store.dialect == "sqlite":  # the vector file beside the database: each key once
        vectors = VectorIndex(
            index_folder(store, Settings(data_dir=tmp_path)) / "vectors.usearch", 384
        )
        written = np.asarray(vectors.writable().keys, dtype=np.uint64)
        assert sorted(written.tolist()) == sorted(keys)


# --- a harvest killed ---------------------------------------------------------------------


def arxiv_format_page(recorded: bytes) -> bytes:
    """A recorded oai_dc page in the arXiv format that backfills ask for: its records' ids,
    titles, abstracts, authors, categories and first-version dates, and the same token."""
    page = parse_list_records(recorded, "oai_dc")
    root = etree.fromstring(recorded)
    reply = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS})
    listing = etree.SubElement(reply, f"{{{OAI_NS}}}ListRecords")
    for paper in page.papers:
        record = etree.SubElement(listing, f"{{{OAI_NS}}}record")
        header = etree.SubElement(record, f"{{{OAI_NS}}}header")
        etree.SubElement(header, f"{{{OAI_NS}}}identifier").text = f"oai:arXiv.org:{paper.id}"
        metadata = etree.SubElement(record, f"{{{OAI_NS}}}metadata")
        meta = etree.SubElement(metadata, f"{{{ARXIV_NS}}}arXiv", nsmap={None: ARXIV_NS})
        etree.SubElement(meta, f"{{{ARXIV_NS}}}id").text = paper.id
        assert paper.published is not None
        etree.SubElement(meta, f"{{{ARXIV_NS}}}created").text = paper.published.isoformat()
        authors = etree.SubElement(meta, f"{{{ARXIV_NS}}}authors")
        for name in paper.authors:
            author = etree.SubElement(authors, f"{{{ARXIV_NS}}}author")
            etree.SubElement(author, f"{{{ARXIV_NS}}}keyname").text = name
        etree.SubElement(meta, f"{{{ARXIV_NS}}}title").text = paper.title
        etree.SubElement(meta, f"{{{ARXIV_NS}}}categories").text = " ".join(paper.categories)
        etree.SubElement(meta, f"{{{ARXIV_NS}}}abstract").text = paper.abstract
    token = root.find(f".//{{{OAI_NS}}}resumptionToken")
    assert token is not None
    listing.append(token)
    return etree.tostring(reply, xml_declaration=True, encoding="UTF-8")


class StallingOai:
    """The recorded pages, the first request for the second page held until released: its
    worker has stored the first page and waits on the second when the test kills it."""

    def __init__(self) -> None:
        self.pages = {
            token: arxiv_format_page(shared(PAGES.format(page)).read_bytes())
            for token, page in TOKENS.items()
        }
        self.asked: list[str | None] = []  # each request's resumption token
        self.lock = threading.Lock()
        self.stalled = threading.Event()
        self.release = threading.Event()

    def answer(self, params: Params) -> Reply:
        token = params.get("resumptionToken")
        with self.lock:
            self.asked.append(token)
            first_of_second_page = self.asked.count(token) == 1 and TOKENS.get(token) == 1
        if first_of_second_page:
            self.stalled.set()
            self.release.wait(60)
        if token not in self.pages:
            return 400, {}, b"unexpected resumption token"
        return 200, XML, self.pages[token]


def test_a_backfill_whose_worker_was_killed_is_resumed_by_another_where_it_stopped(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    recorded = recorded_papers()
    expected = {
        paper.id for page in recorded for paper in page if follows_paper(["cs"], paper.categories)
    }
    on_first_page = {paper.id for paper in recorded[0] if paper.id in expected}
    hold_off_recurring_jobs(store)
    # A one-shot embedding job not due yet: `index`, which the backfill brings forward, then
    # splits none of the 963 papers into batches (embedding them would take a minute or more).
    with store.bookkeeping() as connection:
        queue.enqueue(
            connection,
            EMBED,
            f"{EMBED}:later",
            {"ids": []},
            datetime.now(UTC) + timedelta(days=365),
        )
    month = date(2023, 3, 1), date(2023, 3, 31)
    assert plan_backfill(store, ["cs"], *month, datetime.now(UTC)) == 1
    (key,) = jobs_of(store, BACKFILL)
    oai = StallingOai()
    with serving(oai.answer) as server:
        request = HarvestRequest(server.url, "arXiv", *month, set_spec="cs")
        with site_workers(
            database_url, tmp_path, 2, DAILYPAPERS_OAI_URL=server.url, DAILYPAPERS_FOLLOW="cs"
        ) as processes:
            wait_until(oai.stalled.is_set, "the second page asked for", tmp_path)
            with store.read() as connection:
                cursor = load_cursor(connection, request.name)
                stored = set(connection.scalars(select(papers.c.id)))
            assert cursor is not None and (cursor.pages, cursor.records) == (1, 1000)
            assert stored == on_first_page
            victim = pid_of(jobs_of(store, BACKFILL)[key])
            kill(processes, victim)
            oai.release.set()
            wait_until(all_done(store, BACKFILL), "the backfill done", tmp_path)
            survivor = next(process for pid, process in processes.items() if pid != victim)
            assert survivor.poll() is None, worker_logs(tmp_path)

    job = jobs_of(store, BACKFILL)[key]
    assert (job.runs, job.attempts, job.last_result) == (2, 0, "2265 records in 3 pages")
    # The first page was fetched once: the survivor resumed at the token stored with it.
    assert oai.asked == [None, "6511260|1001", "6511260|1001", "6511260|2001"]
    with store.read() as connection:
        cursor = load_cursor(connection, request.name)
        stored_ids = list(connection.scalars(select(papers.c.id)))
    assert cursor is not None and cursor.finished
    assert (cursor.pages, cursor.records, cursor.complete_list_size) == (3, 2265, 2265)
    assert Counter(stored_ids) == Counter(expected)  # the cs papers of all pages, each once
