"""Commands started together on a fresh database: one migrates, the others wait for it and
find nothing left to do. Without the lock, one failed with a 20-line SQL dump (SQLite runs DDL
outside transactions and saw half a schema; PostgreSQL refused the second CREATE TABLE)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.storage import open_store

PROCESSES = 6
# Imports first (seconds), then says so and waits for the word: the commands start together.
STARTING_TOGETHER = """
import sys
from dailypapers.cli import app
print("ready", flush=True)
sys.stdin.readline()
app(sys.argv[1:])
"""


def test_commands_started_together_on_a_fresh_database_all_succeed(database_url: str) -> None:
    commands = [["db", "migrate"], ["stats"], ["user", "list"]] * (PROCESSES // 3)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTING_TOGETHER, *command, "--db", database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in processes:  # as close together as one process can make them
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [(process.wait(120), process.stderr.read()) for process in processes]  # type: ignore[union-attr]

    assert [status for status, _ in results] == [0] * PROCESSES, results
    store = open_store(database_url, migrate=False)
    try:
        assert not store.pending_migrations()
        assert "papers" in inspect(store.engine).get_table_names()
    finally:
        store.close()


def test_a_failing_migration_is_one_line(tmp_path: Path) -> None:
    """A database that is not ours (a `papers` table of its own): the CLI says why in one line,
    without SQLAlchemy's dump of the CREATE TABLE."""
    database = tmp_path / "theirs.db"
    with sqlite3.connect(database) as theirs:
        theirs.execute("CREATE TABLE papers (name TEXT)")
    result = CliRunner().invoke(app, ["stats", "--db", f"sqlite:///{database}"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: cannot migrate sqlite:///{database}: table papers already exists"
    )
