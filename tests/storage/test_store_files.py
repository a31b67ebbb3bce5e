"""The database file and its -wal and -shm are SQLite's alone: no command writes over them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app


@pytest.mark.parametrize("end", ["", "-wal", "-shm"])
def test_a_backup_onto_the_database_itself_is_refused(tmp_path: Path, end: str) -> None:
    database = tmp_path / "dailypapers.db"
    data = ["--data-dir", str(tmp_path)]
    assert CliRunner().invoke(app, ["stats", *data]).exit_code == 0
    result = CliRunner().invoke(app, ["db", "backup", f"{database}{end}", *data])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: db backup would overwrite the database itself: {database}{end}"
    )
    assert CliRunner().invoke(app, ["stats", *data]).exit_code == 0


def test_a_backup_onto_a_hard_link_of_the_database_is_refused(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert CliRunner().invoke(app, ["stats", *data]).exit_code == 0
    link = tmp_path / "copy.db"
    link.hardlink_to(tmp_path / "data" / "dailypapers.db")
    result = CliRunner().invoke(app, ["db", "backup", str(link), *data])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: db backup would overwrite the database itself: {link}"
    assert CliRunner().invoke(app, ["stats", *data]).exit_code == 0


@pytest.mark.parametrize("target", ["a-folder", "notes.txt"])
def test_a_backup_where_no_database_can_be_written_is_one_line(tmp_path: Path, target: str) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a database, kept as it is\n")
    result = CliRunner().invoke(app, ["db", "backup", str(tmp_path / target), *data])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: cannot back up to {tmp_path / target}: ")
    assert len(result.output.strip().splitlines()) == 1
    assert (tmp_path / "notes.txt").read_text() == "not a database, kept as it is\n"
