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
