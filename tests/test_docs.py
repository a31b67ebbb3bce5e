"""The README documents every setting and every command (a test fails when one is missing)."""

from __future__ import annotations

from pathlib import Path

from dailypapers.config import Settings
from tests.test_cli import all_commands

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    for name, field in Settings.model_fields.items():
        assert f"| `{name}` |" in README, f"setting {name} is not documented"
        assert field.description, f"setting {name} has no help text"


def test_every_command_is_in_the_readme() -> None:
    for name, command in all_commands():
        if name and not hasattr(command, "commands"):
            assert f"`{name}" in README, f"command {name} is not documented"
