"""`serve` while every command that opens the database runs beside it, as an operator's cron
would run them: every write the site acknowledged is in the database after a clean stop, and
none answered 5xx.

On SQLite this guards against a process dropping its own POSIX locks on the database file
(closing any descriptor of the file drops them all): another process then believes itself the
last user, checkpoints and deletes the WAL the server still writes to, and what the server
acknowledged afterwards is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from dailypapers.storage import open_store
from dailypapers.storage.schema import comments, votes
from tests.live_server import running_server

PAPERS = 40
WRITES_BEFORE, WRITES_AFTER = 10, 20
PAUSE_S = 0.01  # between writes: leaves the commands beside some of the two cores
NO_LIMITS = {"DAILYPAPERS_RATE_LIMITS": "false"}  # every write here comes from one user


def papers_file(path: Path, first: int, count: int) -> Path:
    """`count` papers of one day in our JSON-lines format, numbered from `first`."""
    lines = [
        {
            "id": f"2607.{number:05d}",
            "title": f"Side by side {number}",
            "abstract": f"Paper number {number} about diffusion models.",
            "listed": ["2026-07-01"],
        }
        for number in range(first, first + count)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


# Runs each command line of argv (JSON) in turn in this one process, as the CLI would (one
# import for all: seconds each otherwise); prints each one's exit status and output as JSON.
COMMANDS_IN_TURN = """
import contextlib, io, json, sys
from dailypapers.cli import app
done = []
for args in json.loads(sys.argv[1]):
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        try:
            app(args)
        except SystemExit as exit:
            done.append({"args": args, "status": exit.code, "stdout": output.getvalue()})
print(json.dumps(done))
"""


@dataclass
class Cli:
    """Commands in a process of their own, on the test's data directory."""

    data_dir: Path
    database_url: str

    def __call__(self, *commands: list[object], stdin: str = "") -> list[str]:
        """Runs the commands in turn in one new process; returns what each printed."""
        where = ["--data-dir", str(self.data_dir), "--db", self.database_url]
        argv = [[*map(str, command), *where] for command in commands]
        done = subprocess.run(
            [sys.executable, "-c", COMMANDS_IN_TURN, json.dumps(argv)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **NO_LIMITS},
        )
        assert done.returncode == 0, done.stderr
        results = json.loads(done.stdout)
        failed = [result for result in results if result["status"] not in (0, None)]
        assert failed == [], f"{failed}: {done.stderr}"
        return [result["stdout"] for result in results]


@dataclass
class Writes:
    """Comments and upvotes over HTTP with an API token, and what the site answered."""

    token: str
    comments: list[str] = field(default_factory=list)  # bodies answered 201
    votes: set[str] = field(default_factory=set)  # papers whose upvote was answered 200
    refused: list[str] = field(default_factory=list)  # any other answer, with its reason
    made: int = 0

    def make(self, url: str, count: int | None = None, until: threading.Event | None = None):
        """`count` writes, or writes until `until` is set, over one keep-alive connection."""
        with httpx.Client(base_url=url, timeout=30) as client:
            while (count is None or count > 0) and not (until and until.is_set()):
                self._one(client)
                count = None if count is None else count - 1
                time.sleep(PAUSE_S)

    def _one(self, client: httpx.Client) -> None:
        number, self.made = self.made, self.made + 1
        paper_id = f"2607.{number % PAPERS:05d}"
        auth = {"Authorization": f"Bearer {self.token}"}
        if number % 2:
            answer = client.post(f"/papers/{paper_id}/vote", params={"action": "up"}, headers=auth)
            if answer.status_code == 200:
                self.votes.add(paper_id)
                return
        else:
            body = f"comment {number}"
            answer = client.post(f"/papers/{paper_id}/comments", data={"body": body}, headers=auth)
            if answer.status_code == 201:
                self.comments.append(body)
                return
        self.refused.append(f"{answer.status_code} {answer.text[:200]}")


def every_command(cli: Cli, data_dir: Path, sqlite: bool) -> None:
    """Each command the README tells operators to run, while the site serves: `stats` alone
    first (as in the report), then the others one after another in a second process."""
    cli(["stats"])
    backup = [["db", "backup", data_dir / "copy.db"]] if sqlite else []
    cli(
        ["ingest", "jsonl", papers_file(data_dir / "more.jsonl", PAPERS, 5)],
        *backup,
        ["user", "add", "bob", "--password-stdin"],
        ["user", "token", "bob"],
        ["user", "list"],
        ["digest", "send", "--dry-run", data_dir / "digests"],
        ["export", data_dir / "export.jsonl"],
        ["db", "migrate"],
        ["search", "--mode", "keyword", "diffusion"],
        ["stats"],
        stdin="a long enough password\n",
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_acknowledged_writes_survive_commands_run_beside_serve(
    database_url: str, tmp_path: Path, workers: int
) -> None:
    data_dir = tmp_path  # where the database_url fixture puts a SQLite database
    cli = Cli(data_dir, database_url)
    *_, token = cli(
        ["ingest", "jsonl", papers_file(tmp_path / "papers.jsonl", 0, PAPERS)],
        ["user", "add", "ada", "--password-stdin"],
        ["user", "token", "ada"],
        stdin="a long enough password\n",
    )
    writes = Writes(token.strip())
    options = ("--data-dir", str(data_dir), "--workers", str(workers))
    with running_server(database_url, tmp_path / "serve.log", *options, env=NO_LIMITS) as url:
        writes.make(url, WRITES_BEFORE)
        done = threading.Event()
        writer = threading.Thread(target=writes.make, args=(url,), kwargs={"until": done})
        writer.start()
        try:
            every_command(cli, data_dir, database_url.startswith("sqlite"))
        finally:
            done.set()
            writer.join()
        writes.make(url, WRITES_AFTER)
    # running_server stopped it with SIGTERM and waited for it to exit

    assert writes.refused == []
    assert len(writes.comments) > WRITES_BEFORE // 2 + WRITES_AFTER // 2
    store = open_store(database_url)
    try:
        with store.read() as connection:
            stored_comments = set(connection.scalars(select(comments.c.body)))
            voted = set(connection.scalars(select(votes.c.paper_id)))
    finally:
        store.close()
    lost = [body for body in writes.comments if body not in stored_comments]
    assert lost == [], f"{len(lost)} of {len(writes.comments)} acknowledged comments lost"
    assert writes.votes - voted == set()
