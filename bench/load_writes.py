"""Load with writes: votes, comments and page views on `dailypapers serve` (1 and 2 workers)
while two commands run beside it in a loop, then a count of what the site acknowledged.

    .venv/bin/python bench/load_writes.py [--duration S] [--clients N] [--workers 1 2]

For each worker count: a fresh SQLite data directory with PAPERS papers and one user per
client (each with an API token), `serve` on a free loopback port, and for `--duration`
seconds N keep-alive clients that each send one request after another (in every ten: four
upvotes, a new (user, paper) pair each, two comments and four page views, the daily list or
a paper page), while `dailypapers stats` and `dailypapers ingest jsonl` run again and again
beside it, as cron would run them. Then the server is stopped with SIGTERM and every write
answered 2xx is looked up in the database.

Prints, per worker count, requests/s and p50/p99 per kind, the commands' runs, 5xx answers
and acknowledged writes that are missing (both must be 0; the exit status says whether
they were), and a last line of JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from dailypapers.models import Paper
from dailypapers.storage import open_store
from dailypapers.storage.schema import comments, users, votes
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import add_api_token, create_user
from dailypapers.web.deps import token_hash

PAPERS = 300
DAY = date(2026, 7, 1)
QUIET = {"DAILYPAPERS_RATE_LIMITS": "false"}  # one client is one user sending many writes
KINDS = ("vote", "comment", "page")
MIX = ["vote"] * 4 + ["comment"] * 2 + ["page"] * 4


def paper_id(number: int) -> str:
    return f"2607.{number:05d}"


def prepare(data_dir: Path, clients: int) -> list[str]:
    """The papers, and one user with an API token per client; returns the tokens."""
    now = datetime.now(UTC)
    papers = [
        Paper(paper_id(n), f"Load test paper {n}", f"Abstract of paper {n}.", listed=[DAY])
        for n in range(PAPERS)
    ]
    tokens = [secrets.token_urlsafe(24) for _ in range(clients)]
    store = open_store(f"sqlite:///{data_dir / 'dailypapers.db'}")
    try:
        with store.transaction() as connection:
            upsert_papers(connection, papers)
            for number, token in enumerate(tokens):
                user = create_user(connection, f"client{number}", "unused", now, False)
                add_api_token(connection, token_hash(token), user.id, "load", now)
    finally:
        store.close()
    return tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(data_dir: Path, workers: int) -> Iterator[str]:
    """`dailypapers serve` in its own process group until the block ends (SIGTERM)."""
    port = _free_port()
    command = [sys.executable, "-m", "dailypapers", "serve", "--data-dir", str(data_dir)]
    with open(data_dir / "serve.log", "wb") as log:
        server = subprocess.Popen(
            [*command, "--workers", str(workers), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **QUIET},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve did not start; see {data_dir / 'serve.log'}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Client:
    """One keep-alive connection as one user: what it sent and what the site answered."""

    number: int
    token: str
    seconds: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    server_errors: int = 0
    other_failures: list[str] = field(default_factory=list)  # 4xx and transport errors
    voted: list[str] = field(default_factory=list)  # papers whose upvote was answered 200
    commented: list[str] = field(default_factory=list)  # bodies answered 201

    def run(self, url: str, until: float) -> None:
        auth = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=url, timeout=30, headers=auth) as client:
            sent = 0
            while time.monotonic() < until:
                kind = MIX[sent % len(MIX)]
                started = time.perf_counter()
                try:
                    self._send(client, kind, sent)
                except httpx.TransportError as error:
                    self.other_failures.append(f"{kind}: {type(error).__name__}")
                self.seconds[kind].append(time.perf_counter() - started)
                sent += 1

    def _send(self, client: httpx.Client, kind: str, sent: int) -> None:
        target = paper_id((self.number * 7919 + sent) % PAPERS)
        if kind == "vote":
            answer = client.post(f"/papers/{target}/vote", params={"action": "up"})
            if answer.status_code == 200:
                self.voted.append(target)
        elif kind == "comment":
            body = f"client {self.number} comment {sent}"
            answer = client.post(f"/papers/{target}/comments", data={"body": body})
            if answer.status_code == 201:
                self.commented.append(body)
        else:
            answer = client.get("/" if sent % 2 else f"/papers/{target}")
        if answer.status_code >= 500:
            self.server_errors += 1
        elif answer.status_code >= 400:
            self.other_failures.append(f"{kind}: {answer.status_code} {answer.text[:100]}")


def beside(data_dir: Path, until: float) -> dict[str, int]:
    """`stats` and `ingest jsonl` again and again until `until`; how often each ran cleanly."""
    extra = data_dir / "extra.jsonl"
    lines = [{"id": paper_id(PAPERS + n), "title": f"Extra {n}"} for n in range(5)]
    extra.write_text("".join(json.dumps(line) + "\n" for line in lines))
    commands = {"stats": ["stats"], "ingest jsonl": ["ingest", "jsonl", str(extra)]}
    runs = dict.fromkeys(commands, 0)
    while time.monotonic() < until:
        for name, args in commands.items():
            done = subprocess.run(
                [sys.executable, "-m", "dailypapers", *args, "--data-dir", str(data_dir)],
                capture_output=True,
                env={**os.environ, **QUIET},
            )
            if done.returncode != 0:
                raise SystemExit(f"{name} failed beside serve: {done.stderr.decode()}")
            runs[name] += 1
    return runs


def lost_writes(data_dir: Path, clients: list[Client]) -> int:
    """Acknowledged votes and comments that the database does not hold."""
    store = open_store(f"sqlite:///{data_dir / 'dailypapers.db'}")
    try:
        with store.read() as connection:
            voters = select(users.c.username, votes.c.paper_id).select_from(votes.join(users))
            stored_votes = {tuple(row) for row in connection.execute(voters)}
            stored_comments = set(connection.scalars(select(comments.c.body)))
    finally:
        store.close()
    acknowledged_votes = {(f"client{c.number}", p) for c in clients for p in c.voted}
    acknowledged_comments = [body for c in clients for body in c.commented]
    return len(acknowledged_votes - stored_votes) + sum(
        body not in stored_comments for body in acknowledged_comments
    )


def percentile_ms(samples: list[float], fraction: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return round(1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def run(workers: int, clients: int, duration: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="load-writes-") as folder:
        data_dir = Path(folder)
        loaders = [Client(n, token) for n, token in enumerate(prepare(data_dir, clients))]
        with serving(data_dir, workers) as url:
            until = time.monotonic() + duration
            threads = [threading.Thread(target=c.run, args=(url, until)) for c in loaders]
            for thread in threads:
                thread.start()
            runs = beside(data_dir, until)
            for thread in threads:
                thread.join()
        lost = lost_writes(data_dir, loaders)
    latency = {}
    for kind in KINDS:
        samples = [s for c in loaders for s in c.seconds[kind]]
        latency[kind] = {
            "per_s": round(len(samples) / duration, 1),
            "p50_ms": percentile_ms(samples, 0.50),
            "p99_ms": percentile_ms(samples, 0.99),
        }
    return {
        "workers": workers,
        "commands_beside": runs,
        **latency,
        "acknowledged_writes": sum(len(c.voted) + len(c.commented) for c in loaders),
        "lost_writes": lost,
        "server_errors": sum(c.server_errors for c in loaders),
        "other_failures": sum(len(c.other_failures) for c in loaders),
    }


def report(figures: dict[str, Any], clients: int, duration: float) -> None:
    print(f"serve --workers {figures['workers']}, {clients} clients, {duration:.0f} s")
    for kind in KINDS:
        one = figures[kind]
        print(
            f"  {kind:8} {one['per_s']:8.1f}/s  p50 {one['p50_ms']:7.1f} ms"
            f"  p99 {one['p99_ms']:7.1f} ms"
        )
    print(
        f"  commands beside: {figures['commands_beside']}; acknowledged writes "
        f"{figures['acknowledged_writes']}, lost {figures['lost_writes']}, "
        f"5xx {figures['server_errors']}, other failures {figures['other_failures']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per run")
    parser.add_argument("--clients", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    options = parser.parse_args()
    results = []
    for workers in options.workers:
        results.append(run(workers, options.clients, options.duration))
        report(results[-1], options.clients, options.duration)
    held = all(r["lost_writes"] == 0 and r["server_errors"] == 0 for r in results)
    print(json.dumps({"runs": results, "lost_writes_and_5xx_zero": held}))
    sys.exit(0 if held else 1)


if __name__ == "__main__":
    main()
