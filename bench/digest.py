"""Digest benchmark: digests composed and handed to SMTP per second, for 10,000 subscribers
over the 74,728-paper listings corpus.

    .venv/bin/python bench/digest.py [--subscribers N] [--keep DIR]

Set-up, not timed: the listings corpus imported into a fresh SQLite file with the bulk
importer (as bench/ingest.py does), its keyword index built, 300 readers' votes on the last
week's papers, and N confirmed subscribers, each following 1 to 3 of the 30 largest
categories; a third of them also have one or two saved searches from a pool of 40 queries.
A real SMTP server (aiosmtpd) runs in a child process on a free loopback port and counts what
it accepts.

Timed, in this process, one after the other:

1. baseline: one pre-rendered digest handed to that server N times over one connection, with
   the same two-step hand-over as a real run: what SMTP itself costs here;
2. `send_digests` for every subscriber: selection (trending per category, saved searches),
   rendering, the outbox rows written before and marked after each mail, and SMTP.

It prints digests/s and seconds for both, their ratio (compare runs by it: these machines
are noisy), and whether all N went out in under 60 s, the issue's target.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

LISTINGS = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-listings" / "papers.jsonl.gz"
)
TARGET_S = 60.0
READERS = 300  # who voted on the last week's papers
QUERIES = [
    "diffusion",
    "large language models",
    '"reinforcement learning"',
    "graph neural network",
    "protein",
    "quantum error correction",
    "retrieval augmented generation",
    "vision transformer",
    "robot manipulation",
    "federated learning",
    "dark matter",
    "black hole",
    "benchmark cat:cs.CL",
    "speech recognition",
    "mixture of experts",
    "causal inference",
    "time series forecasting",
    "point cloud",
    "medical imaging",
    "adversarial robustness",
    "in-context learning",
    "knowledge distillation",
    "neural radiance fields",
    "gaussian splatting",
    "optimal transport",
    "bayesian optimization",
    "contrastive learning",
    "code generation",
    "multi-agent",
    "hallucination",
    "scaling laws",
    "sparse attention",
    "autonomous driving",
    "exoplanet",
    "superconductivity",
    "topological",
    "galaxy cat:astro-ph.GA",
    "stochastic gradient",
    "privacy",
    "interpretability",
]


class Counting:
    """The SMTP server's handler: accepts everything, keeps only a count."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def smtp_server(port: int) -> None:
    """The child: serve on 127.0.0.1:port until stdin closes, then print the count."""
    from aiosmtpd.controller import Controller

    handler = Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(f"{handler.messages} {handler.bytes}", flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build(work: Path, subscribers: int) -> tuple[Any, Any, Any]:
    """The corpus, its keyword index, votes and subscribers; returns (store, settings, day)."""
    from dailypapers.config import Settings
    from dailypapers.ingest.bulk import import_json_lines
    from dailypapers.ingest.jsonl import paper_from_json
    from dailypapers.search.service import SearchService
    from dailypapers.storage import open_store
    from dailypapers.storage.feed import latest_day

    settings = Settings(data_dir=work, db=f"sqlite:///{work / 'digest.db'}")
    store = open_store(settings.database_url)
    start = time.perf_counter()
    report = import_json_lines(store, LISTINGS, paper_from_json)
    print(f"  imported {report.papers:,} papers in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    SearchService(settings, store).catch_up()
    print(f"  keyword index built in {time.perf_counter() - start:.1f} s", flush=True)
    with store.read() as connection:
        day = latest_day(connection)
    assert day is not None, "the listings corpus is empty"
    start = time.perf_counter()
    _community(store, day, subscribers)
    print(
        f"  {READERS} readers' votes and {subscribers:,} subscribers in "
        f"{time.perf_counter() - start:.1f} s",
        flush=True,
    )
    return store, settings, day


def _community(store: Any, day: Any, subscribers: int) -> None:
    from dailypapers.storage.feed import days_of
    from dailypapers.storage.papers import stats
    from dailypapers.storage.subscriptions import (
        add_search,
        add_subscriber,
        set_categories,
        update_subscriber,
    )
    from dailypapers.storage.users import create_user
    from dailypapers.storage.votes import add_vote

    chance = random.Random(5)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        week = sorted(days_of(connection, day - timedelta(days=6), day))
        categories = list(stats(connection, top=30).top_categories)
        users = [
            create_user(connection, f"reader{n}", "unused", now, False) for n in range(READERS)
        ]
        for paper_id in week:  # a long tail: most papers get a vote or two, some many
            count = min(READERS, int(chance.paretovariate(1.2)) - 1)
            for user in chance.sample(users, count):
                add_vote(connection, user.id, paper_id, now)
        for number in range(subscribers):
            subscriber_id = add_subscriber(
                connection, f"reader{number:05d}@example.org", "daily", "UTC", now
            )
            update_subscriber(connection, subscriber_id, confirmed_at=now)
            set_categories(
                connection, subscriber_id, chance.sample(categories, chance.randint(1, 3))
            )
            if number % 3 == 0:
                for query in chance.sample(QUERIES, chance.randint(1, 2)):
                    add_search(connection, subscriber_id, query, now)


def baseline(settings: Any, store: Any, day: Any, count: int) -> float:
    """Seconds to hand one pre-rendered digest to the SMTP server `count` times."""
    from dailypapers.mail.delivery import subscription_links
    from dailypapers.mail.render import MailWriter, sender_address
    from dailypapers.mail.selection import DigestComposer
    from dailypapers.mail.smtp import SmtpConnection
    from dailypapers.mail.tokens import link_signer
    from dailypapers.storage.subscriptions import active_subscribers

    now = datetime.now(UTC)
    sender = sender_address(settings.mail_from)
    with store.read() as connection:
        subscriber = active_subscribers(connection)[0]
        digest = DigestComposer(connection, settings.base_url, now).compose(subscriber, day, None)
    assert digest is not None
    links = subscription_links(settings, link_signer(settings, store), subscriber)
    payload = MailWriter(sender, now).digest(digest, "<baseline@example.org>", links)
    start = time.perf_counter()
    with SmtpConnection(settings) as smtp:
        for _ in range(count):
            smtp.send(sender.addr_spec, subscriber.email, payload, handed_over=lambda: None)
    return time.perf_counter() - start


def bench(work: Path, subscribers: int) -> None:
    from dailypapers.mail.delivery import send_digests

    print(f"[set-up] {LISTINGS} into {work}", flush=True)
    store, settings, day = build(work, subscribers)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--smtp-server", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    settings = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "base_url": "https://papers.example.org",
            "mail_from": "Daily Papers <digest@papers.example.org>",
        }
    )
    try:
        print(f"[baseline] one pre-rendered digest to SMTP {subscribers:,} times", flush=True)
        floor = baseline(settings, store, day, subscribers)
        print(f"  {subscribers:,} in {floor:.1f} s = {subscribers / floor:,.0f}/s", flush=True)
        print(f"[digest send] {subscribers:,} subscribers, digests of {day}", flush=True)
        start = time.perf_counter()
        report = send_digests(store, settings, "daily", day)
        seconds = time.perf_counter() - start
    finally:
        received, size = map(int, server.communicate("", timeout=60)[0].split())
        store.close()
    print(
        f"  sent {report.sent:,} ({report.empty:,} empty, {len(report.failed)} failed) in "
        f"{seconds:.1f} s = {report.sent / seconds:,.0f} digests/s"
    )
    average = size / max(received, 1) / 1024
    print(
        f"  the server accepted {received:,} messages in all (baseline too), {average:.1f} KiB each"
    )
    print(
        f"\nSummary: {report.sent:,} digests in {seconds:.1f} s ({report.sent / seconds:,.0f}/s); "
        f"SMTP alone {floor:.1f} s ({subscribers / floor:,.0f}/s); "
        f"digest send / SMTP alone = {seconds / floor:.2f}"
    )
    handled = report.sent + report.empty == subscribers and not report.failed
    verdict = "yes" if seconds < TARGET_S and handled else "NO"
    print(f"all {subscribers:,} in under {TARGET_S:.0f} s: {verdict}")
    figures = {
        "subscribers": subscribers,
        "sent": report.sent,
        "empty": report.empty,
        "failed": len(report.failed),
        "seconds": round(seconds, 2),
        "baseline_smtp_seconds": round(floor, 2),
        "ratio_to_baseline": round(seconds / floor, 3),
        "target_met": verdict == "yes",
    }
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000, help="subscribers (10,000)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep the database there")
    parser.add_argument("--smtp-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_server:
        smtp_server(args.smtp_server)
    elif args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        bench(args.keep, args.subscribers)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-digest-") as work:
            bench(Path(work), args.subscribers)


if __name__ == "__main__":
    main()
