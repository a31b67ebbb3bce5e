"""Keeping current: one announcement day of ~500 papers from arXiv's listing feed to searchable
by keyword and by meaning, through `dailypapers update` and 1 and 2 `dailypapers worker`s.

    .venv/bin/python bench/update.py [--papers 500] [--runs update 1 2] [--postgres]

The feed: the new and cross-listed items of the shared cs.CL+cs.LG days (420 distinct
papers), repeated with renumbered ids (2606.90420, ...) up to `--papers`, in one channel
dated 2026-06-30, served by the loopback fake arXiv of the acceptance tests (OAI-PMH with no
records, the arXiv API over a recorded feed). Each run gets a fresh data directory and a
clock file that starts just after the announcement (2026-06-29 20:06 US Eastern), so the
announcement check is due as soon as a process starts, and runs in real time from there (the
bench rewrites it at each poll: with a clock that stood still, a turn of a recurring job asked
for at the very moment its run started would count as covered by that run). The bench process
polls the database every 50 ms.

Moments, in seconds from the first request for the feed: the day stored (every paper on its
list), searchable by keyword (and the SQLite keyword queue drained into tantivy), searchable
by meaning (every paper embedded and every embedding job done). Baselines, measured in this
process first: parsing and storing the same feed into SQLite (keyword / that), and encoding
the same texts with the same encoder (semantic / that). After each run, a sample of titles
is searched through SearchService in both modes to check that the papers are found.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the acceptance tests' fake arXiv, in tests/

from dailypapers.config import Settings  # noqa: E402
from dailypapers.ingest.rss import ARXIV, parse_feed  # noqa: E402
from dailypapers.search.encoder import MINILM, MiniLM, paper_text  # noqa: E402
from dailypapers.search.service import SearchService  # noqa: E402
from dailypapers.storage import Store, open_store  # noqa: E402
from dailypapers.storage.announcements import store_feed  # noqa: E402
from dailypapers.storage.schema import embeddings, jobs, paper_listings  # noqa: E402
from dailypapers.storage.search import queue_length, searchable_papers  # noqa: E402
from tests.conftest import shared  # noqa: E402
from tests.fake_arxiv import DAYS, FEEDS, FakeArxiv, fake_arxiv  # noqa: E402
from tests.postgres_server import create_database, running_postgres  # noqa: E402

DAY = date(2026, 6, 30)
CLOCK = datetime.fromisoformat("2026-06-29T20:06:00-04:00")  # just after DAY's announcement
POLL_S = 0.05
SAMPLE = 20  # titles searched after each run, in each mode
ENCODE_BATCH = 32  # as embed_papers encodes


# --- the feed -----------------------------------------------------------------------------


def _item_id(item: etree._Element) -> str:
    return (item.findtext("guid") or "").rsplit(":", 1)[-1].split("v")[0]


def synthetic_feed(count: int) -> tuple[bytes, int]:
    """One channel dated DAY holding `count` new and cross-listed items: those of every shared
    day, then the same again with renumbered ids; and how many of them are distinct papers."""
    template = etree.fromstring(shared(f"{FEEDS}/{DAY}.xml").read_bytes())
    channel = template.find("channel")
    assert channel is not None
    published = channel.findtext("pubDate") or ""
    for item in channel.findall("item"):
        channel.remove(item)
    originals: dict[str, bytes] = {}
    for day in DAYS:
        feed = etree.fromstring(shared(f"{FEEDS}/{day}.xml").read_bytes())
        for item in feed.iterfind("channel/item"):
            if item.findtext(f"{ARXIV}announce_type") in ("new", "cross"):
                originals.setdefault(_item_id(item), etree.tostring(item))
    ids = list(originals)
    for number in range(count):
        paper_id = ids[number % len(ids)]
        written = originals[paper_id]
        if number >= len(ids):
            written = written.replace(paper_id.encode(), f"2606.{90000 + number:05d}".encode())
        item = etree.fromstring(written)
        pub_date = item.find("pubDate")
        if pub_date is not None:
            pub_date.text = published
        channel.append(item)
    body = etree.tostring(template, xml_declaration=True, encoding="UTF-8")
    return body, min(count, len(ids))


# --- baselines ----------------------------------------------------------------------------


def baseline_store(body: bytes, folder: Path) -> float:
    """Seconds to parse the feed and store its day into a fresh SQLite file (migrated first)."""
    store = open_store(f"sqlite:///{folder / 'baseline.db'}")
    try:
        started = time.perf_counter()
        feed = parse_feed(body, "synthetic feed")
        with store.transaction() as connection:
            store_feed(connection, feed, "synthetic feed", datetime.now(UTC))
        return time.perf_counter() - started
    finally:
        store.close()


@dataclass
class Encoding:
    wall_s: float
    cpu_s: float  # of this process, every thread


def baseline_encode(encoder: MiniLM, body: bytes) -> Encoding:
    """Encoding the feed's texts, shortest first in batches, as embed_papers does."""
    feed = parse_feed(body, "synthetic feed")
    texts = sorted((paper_text(i.paper.title, i.paper.abstract) for i in feed.items), key=len)
    encoder.encode(texts[:ENCODE_BATCH])  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(texts), ENCODE_BATCH):
        encoder.encode(texts[first : first + ENCODE_BATCH])
    return Encoding(time.perf_counter() - started, time.process_time() - cpu)


# --- one run ------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    papers: int
    start_s: float = 0.0  # launch of the processes to their first request for the feed
    stored_s: float | None = None  # from that request: the day on its list
    keyword_s: float | None = None  # ... and the keyword queue drained
    semantic_s: float | None = None  # ... and every paper embedded, every embed job done
    cpu_s: float = 0.0  # user + system of the run's processes, start-up included
    embed_jobs: list[str] = field(default_factory=list)  # "worker: papers in seconds"
    found: dict[str, int] = field(default_factory=dict)  # sampled titles found, per mode


def _counts(store: Store) -> tuple[int, int, int, int, int]:
    """Papers on DAY's list, keyword queue length, of those embedded, embed jobs, left."""
    with store.read() as connection:
        listed = connection.scalar(
            select(func.count()).select_from(paper_listings).where(paper_listings.c.day == DAY)
        )
        queued = queue_length(connection) if store.dialect == "sqlite" else 0
        embedded = connection.scalar(
            select(func.count())
            .select_from(
                embeddings.join(paper_listings, embeddings.c.paper_id == paper_listings.c.paper_id)
            )
            .where(paper_listings.c.day == DAY, embeddings.c.model == MINILM)
        )
        embed = select(func.count()).select_from(jobs).where(jobs.c.kind == "embed")
        made = connection.scalar(embed)
        left = connection.scalar(embed.where(jobs.c.state != "done"))
    return int(listed or 0), queued, int(embedded or 0), int(made or 0), int(left or 0)


def _embedding_now(store: Store) -> dict[int, str]:
    """The embed jobs running now and their workers (a job done forgets its worker)."""
    with store.read() as connection:
        running = select(jobs.c.id, jobs.c.worker_id).where(
            jobs.c.kind == "embed", jobs.c.state == "running"
        )
        return {job_id: worker for job_id, worker in connection.execute(running) if worker}


@contextmanager
def processes(
    commands: list[list[str]], env: dict[str, str], logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The commands, each in its own process group; SIGTERM to those still running at the end."""
    started: list[subprocess.Popen[bytes]] = []
    for number, command in enumerate(commands):
        with open(logs / f"process-{number}.log", "wb") as log:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "dailypapers", *command],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _log_tails(logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*.log")))


def run(
    label: str,
    workers: int,
    body: bytes,
    url: str,
    folder: Path,
    encoder: MiniLM,
    timeout: float,
) -> Run:
    """`workers` worker processes (0: one `dailypapers update`) over a fresh database at
    `url` (SQLite in `folder` when empty), until the day is searchable by meaning."""
    clock = folder / "clock"
    _set_clock(clock, 0.0)
    url = url or f"sqlite:///{folder / 'dailypapers.db'}"
    open_store(url).close()  # migrated once, before any process starts
    store = open_store(url, migrate=False)
    result = Run(label, len(parse_feed(body, "synthetic feed").items))
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with fake_arxiv() as fake:
        fake.feed_body = body
        env = {
            **os.environ,
            **fake.env(),
            "DAILYPAPERS_DATA_DIR": str(folder),
            "DAILYPAPERS_DB": url,
            "DAILYPAPERS_CLOCK_FILE": str(clock),
            "DAILYPAPERS_HTTP_RETRIES": "1",
        }
        commands = [["update"]] if workers == 0 else [["worker"]] * workers
        launched = time.monotonic()
        with processes(commands, env, folder) as started:
            embedders: dict[int, str] = {}
            first_feed = _watch(
                result, store, fake, started, launched, timeout, folder, embedders, clock
            )
            if workers == 0 and started[0].wait(timeout) != 0:
                raise SystemExit(f"update failed:\n{_log_tails(folder)}")
        result.start_s = first_feed - launched
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    with store.read() as connection:
        rows = connection.execute(
            select(jobs.c.id, jobs.c.payload, jobs.c.last_duration)
            .where(jobs.c.kind == "embed")
            .order_by(jobs.c.id)
        ).all()
    names = {worker: f"w{n + 1}" for n, worker in enumerate(dict.fromkeys(embedders.values()))}
    result.embed_jobs = [
        f"{names.get(embedders.get(job_id, ''), 'w?')}: {len(payload['ids'])} in {took:.1f} s"
        for job_id, payload, took in rows
    ]
    result.found = _search_sample(store, folder, url, encoder)
    store.close()
    return result


def _set_clock(clock: Path, elapsed: float) -> None:
    """The processes' clock: CLOCK plus the seconds since their launch (written whole)."""
    partial = clock.with_suffix(".partial")
    partial.write_text((CLOCK + timedelta(seconds=elapsed)).isoformat())
    os.replace(partial, clock)


def _watch(
    result: Run,
    store: Store,
    fake: FakeArxiv,
    started: list[subprocess.Popen[bytes]],
    launched: float,
    timeout: float,
    logs: Path,
    embedders: dict[int, str],
    clock: Path,
) -> float:
    """Poll until the day is searchable by meaning; fills the moments and `embedders` (embed
    job to worker), returns the first feed request's time."""
    first_feed: float | None = None
    while True:
        now = time.monotonic()
        _set_clock(clock, now - launched)
        if first_feed is None and fake.feeds_asked():
            first_feed = now
        listed, queued, embedded, made, left = _counts(store)
        embedders.update(_embedding_now(store))
        if first_feed is not None:
            if result.stored_s is None and listed >= result.papers:
                result.stored_s = now - first_feed
            if result.keyword_s is None and listed >= result.papers and queued == 0:
                result.keyword_s = now - first_feed
            if embedded >= result.papers and made and not left:
                result.semantic_s = now - first_feed
                return first_feed
        if now - launched > timeout:
            raise SystemExit(f"{result.label}: not searchable after {timeout:.0f} s")
        if any(p.poll() not in (None, 0) for p in started):
            raise SystemExit(f"{result.label}: a process failed:\n{_log_tails(logs)}")
        time.sleep(POLL_S)


def _search_sample(store: Store, folder: Path, url: str, encoder: MiniLM) -> dict[str, int]:
    """Of SAMPLE papers spread over the day, how many their title finds in the top ten."""
    with store.read() as connection:
        ids = sorted(
            connection.scalars(select(paper_listings.c.paper_id).where(paper_listings.c.day == DAY))
        )
    with store.read() as connection:
        chosen = searchable_papers(connection, ids[:: max(1, len(ids) // SAMPLE)][:SAMPLE])
    service = SearchService(Settings(data_dir=folder, db=url), store, encoder=encoder)
    found = {}
    for mode in ("keyword", "semantic"):
        hits = (service.search(paper.title, mode=mode, limit=10).hits for paper in chosen)
        found[mode] = sum(
            paper.id in {hit.paper_id for hit in page}
            for paper, page in zip(chosen, hits, strict=True)
        )
    return found


# --- report -------------------------------------------------------------------------------


def report(name: str, runs: list[Run], store_s: float, encode: Encoding) -> None:
    """The table of one database's runs; ratios to the baselines measured in this process."""

    def seconds(value: float | None) -> str:
        return f"{value:8.1f}" if value is not None else "       -"

    print(f"\n{name}: seconds from the first request for the feed")
    print(
        f"{'run':10} {'start':>6} {'stored':>8} {'keyword':>8} {'semantic':>8} {'papers/s':>8}"
        f" {'kw/store':>8} {'sem/enc':>7} {'cpu s':>6} {'cpu/enc':>7}  found kw, sem"
    )
    for one in runs:
        semantic = one.semantic_s or float("nan")
        print(
            f"{one.label:10} {one.start_s:6.1f} {seconds(one.stored_s)} {seconds(one.keyword_s)}"
            f" {seconds(one.semantic_s)} {one.papers / semantic:8.1f}"
            f" {(one.keyword_s or 0) / store_s:8.1f} {semantic / encode.wall_s:7.2f}"
            f" {one.cpu_s:6.1f} {one.cpu_s / encode.cpu_s:7.2f}"
            f"  {one.found['keyword']}/{SAMPLE}, {one.found['semantic']}/{SAMPLE}"
        )
        print(f"{'':10} embed jobs: {'; '.join(one.embed_jobs)}")
    by_label = {one.label: one for one in runs}
    if "1 worker" in by_label and "2 workers" in by_label:
        one, two = by_label["1 worker"], by_label["2 workers"]
        print(
            f"1 worker / 2 workers, seconds to semantic: "
            f"{(one.semantic_s or 0) / (two.semantic_s or 1):.2f}x "
            f"on {os.cpu_count()} cores (ONNX Runtime already uses every core in one worker)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=500, help="papers on the day")
    parser.add_argument(
        "--runs", nargs="+", default=["update", "1", "2"], help="update, or a worker count"
    )
    parser.add_argument("--postgres", action="store_true", help="an embedded PostgreSQL too")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run at most")
    options = parser.parse_args()
    body, distinct = synthetic_feed(options.papers)
    print(
        f"{options.papers} papers on {DAY} ({distinct} distinct from the shared days, "
        f"{options.papers - distinct} renumbered copies); {os.cpu_count()} CPU cores"
    )
    encoder = MiniLM(Settings().cache_dir)  # makes the ONNX export once, before any run
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-update-") as scratch, ExitStack() as stack:
        store_s = baseline_store(body, Path(scratch))
        before = baseline_encode(encoder, body)
        databases = [("SQLite", "")]
        if options.postgres:
            databases.append(("PostgreSQL", stack.enter_context(running_postgres(Path(scratch)))))
        for name, server in databases:
            results[name] = []
            for number, chosen in enumerate(options.runs):
                workers = 0 if chosen == "update" else int(chosen)
                label = "update" if workers == 0 else f"{workers} worker" + "s" * (workers > 1)
                folder = Path(scratch) / f"{name}-{number}"
                folder.mkdir()
                url = create_database(server, f"bench_update_{number}") if server else ""
                one = run(label, workers, body, url, folder, encoder, options.timeout)
                results[name].append(one)
                print(f"  {name} {label}: semantic after {one.semantic_s:.1f} s", flush=True)
        after = baseline_encode(encoder, body)
    # The machine's load drifts over minutes: the baseline is the mean of before and after.
    encode = Encoding((before.wall_s + after.wall_s) / 2, (before.cpu_s + after.cpu_s) / 2)
    print(
        f"baseline (this process): parse + store the feed in SQLite {store_s:.2f} s; encode its "
        f"{options.papers} texts {before.wall_s:.1f} s before the runs, {after.wall_s:.1f} s "
        f"after ({options.papers / encode.wall_s:.1f} papers/s, {encode.cpu_s:.1f} s of CPU)"
    )
    for name, runs in results.items():
        report(name, runs, store_s, encode)
    figures = {
        "papers": options.papers,
        "cores": os.cpu_count(),
        "baseline_store_s": round(store_s, 3),
        "baseline_encode": [asdict(before), asdict(after)],
        "runs": {name: [asdict(one) for one in runs] for name, runs in results.items()},
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
