"""The command line: help everywhere, stats, db maintenance, settings, clear failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.storage import open_store
from dailypapers.storage.papers import get_paper
from tests.conftest import shared


def all_commands() -> list[tuple[str, Any]]:
    """(name, command) for the root, each group and each leaf command."""

    def walk(prefix: str, command: Any) -> list[tuple[str, Any]]:
        found = [(prefix, command)]
        for name, sub in getattr(command, "commands", {}).items():
            found += walk(f"{prefix} {name}".strip(), sub)
        return found

    commands = walk("", get_command(app))
    assert len(commands) > 10
    return commands


def is_option(parameter: Any) -> bool:
    return parameter.param_type_name == "option"


def test_every_command_and_option_has_help_text() -> None:
    for name, command in all_commands():
        assert command.help, f"`dailypapers {name}` has no help"
        for parameter in command.params:
            if is_option(parameter):
                assert parameter.help, f"`dailypapers {name}` option {parameter.name} has no help"


def test_every_leaf_command_takes_data_dir_and_db() -> None:
    for name, command in all_commands():
        if not hasattr(command, "commands"):
            options = {opt for p in command.params for opt in getattr(p, "opts", [])}
            assert {"--data-dir", "--db"} <= options, name


def test_the_listings_file_gives_74728_papers_over_322_days(dailypapers) -> None:
    result = dailypapers("ingest", "jsonl", shared("arxiv-listings/papers.jsonl.gz"))
    assert result.exit_code == 0, result.output
    assert "papers/s" in result.output
    numbers = orjson.loads(dailypapers("stats", "--json").stdout)
    assert numbers["papers"] == 74728
    assert numbers["days"] == 322
    assert (numbers["first_day"], numbers["last_day"]) == ("2025-03-18", "2026-07-01")
    assert numbers["top_categories"]["cs.CV"] == 38422


def test_stats_on_an_empty_database(dailypapers) -> None:
    result = dailypapers("stats")
    assert result.exit_code == 0
    assert "papers: 0" in result.stdout


def test_data_dir_from_the_environment(tmp_path: Path) -> None:
    env = {"DAILYPAPERS_DATA_DIR": str(tmp_path / "papers")}
    result = CliRunner(env=env).invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "papers" / "dailypapers.db").exists()


def test_an_unwritable_data_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(app, ["stats", "--data-dir", str(blocker / "data")])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"error: cannot write database {blocker}/data/dailypapers.db: Not a directory"
    )


def test_migrate_twice_then_backup(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    for _ in range(2):
        assert runner.invoke(app, ["db", "migrate", *data]).exit_code == 0
    sample = shared("fixtures/kaggle-snapshot/arxiv-metadata-oai-snapshot-sample.jsonl")
    assert runner.invoke(app, ["ingest", "snapshot", str(sample), *data]).exit_code == 0
    result = runner.invoke(app, ["db", "backup", str(tmp_path / "copy.db"), *data])
    assert result.exit_code == 0, result.output
    copy = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    with copy.read() as connection:
        assert get_paper(connection, "0704.0001").title.startswith("Calculation of prompt")
    copy.close()


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dailypapers", "--help"], capture_output=True, text=True, check=True
    )
    assert "ingest" in result.stdout and "serve" in result.stdout


@pytest.mark.parametrize("bad_day", ["2024-13-01", "yesterday"])
def test_a_bad_date_names_the_option(dailypapers, bad_day: str) -> None:
    result = dailypapers("ingest", "oai", "--from", bad_day, "--url", "http://127.0.0.1:9/")
    assert result.exit_code == 2
    assert bad_day in result.output
