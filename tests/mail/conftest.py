"""The CLI for the mail tests, mailing through the test's SMTP server."""

from __future__ import annotations

import pytest
from click.testing import Result
from typer.testing import CliRunner

from dailypapers.cli import app
from tests.mail.helpers import Run
from tests.smtp_server import Mailbox


@pytest.fixture
def dailypapers(database_url: str, mailbox: Mailbox) -> Run:
    """The CLI in-process, over this test's database, mailing through `mailbox` (`env`: more
    variables; None removes one)."""

    def run(*args: object, env: dict[str, str | None] | None = None) -> Result:
        runner = CliRunner(env={**mailbox.environment, **(env or {})})
        return runner.invoke(app, [*map(str, args), "--db", database_url])

    return run
