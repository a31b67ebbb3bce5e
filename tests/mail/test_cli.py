"""`dailypapers subscriber …` and `dailypapers digest send` against a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import Result

from tests.live_server import free_port
from tests.mail.helpers import Run
from tests.smtp_server import Mailbox


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def listed(dailypapers: Run) -> list[dict[str, object]]:
    result = dailypapers("subscriber", "list", "--json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)  # type: ignore[no-any-return]


def test_add_list_and_remove_subscribers(dailypapers: Run, feed: dict[str, str]) -> None:
    added = dailypapers(
        "subscriber",
        "add",
        "Ada@Example.org",
        "--category",
        "cs.LG",
        "--category",
        "cs.CL",
        "--search",
        "diffusion",
        "--search",
        '"sparse attention"',
        "--weekly",
        "--time-zone",
        "Europe/Paris",
    )
    assert added.exit_code == 0, added.output
    assert "subscribed ada@example.org: weekly, cs.CL, cs.LG" in added.output
    assert dailypapers("subscriber", "add", "bob@example.org").exit_code == 0
    assert listed(dailypapers) == [
        {
            "email": "ada@example.org",
            "state": "active",
            "frequency": "weekly",
            "time_zone": "Europe/Paris",
            "categories": ["cs.CL", "cs.LG"],
            "searches": ["diffusion", '"sparse attention"'],
            "last_digest": None,
            "last_status": None,
            "last_error": None,
        },
        {
            "email": "bob@example.org",
            "state": "active",
            "frequency": "daily",
            "time_zone": "UTC",
            "categories": [],
            "searches": [],
            "last_digest": None,
            "last_status": None,
            "last_error": None,
        },
    ]
    plain = dailypapers("subscriber", "list")
    assert plain.stdout.splitlines()[1] == "bob@example.org\tactive\tdaily\tall\t-"
    assert dailypapers("subscriber", "remove", "ADA@example.org").exit_code == 0
    assert [row["email"] for row in listed(dailypapers)] == ["bob@example.org"]
    assert one_line_error(dailypapers("subscriber", "remove", "ada@example.org")) == (
        "error: no subscriber ada@example.org"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nobody"], "error: 'nobody' is not an address: An email address must have an @-sign."),
        (["a@example.org", "--category", "cs.XX"], "error: no papers in category 'cs.XX'"),
        (
            ["a@example.org", "--time-zone", "Nowhere/City"],
            "error: unknown time zone 'Nowhere/City'",
        ),
        (["a@example.org", "--search", "  "], "error: a search is 1 to 300 characters"),
    ],
)
def test_bad_subscribers_are_one_line_errors(
    dailypapers: Run, feed: dict[str, str], arguments: list[str], message: str
) -> None:
    assert one_line_error(dailypapers("subscriber", "add", *arguments)) == message


def test_digest_send_mails_once_and_shows_failures(
    dailypapers: Run, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    for address in ("ada@example.org", "gone@example.org"):
        assert dailypapers("subscriber", "add", address).exit_code == 0
    mailbox.refuse["gone@example.org"] = "550 5.1.1 no such user"
    sent = dailypapers("digest", "send", "--date", "2026-07-01")
    assert sent.exit_code == 0, sent.output
    assert "digests/s" in sent.output
    assert "sent 1 for 2 subscribers: 0 had nothing new, 0 had theirs already" in sent.output
    assert "not delivered to gone@example.org: RCPT TO refused: 550 5.1.1 no such user" in (
        " ".join(sent.output.split())
    )
    rows = {row["email"]: row for row in listed(dailypapers)}
    assert (rows["ada@example.org"]["last_digest"], rows["ada@example.org"]["last_status"]) == (
        "daily:2026-07-01",
        "sent",
    )
    assert rows["gone@example.org"]["last_status"] == "failed"
    assert rows["gone@example.org"]["last_error"] == "RCPT TO refused: 550 5.1.1 no such user"
    again = dailypapers("digest", "send", "--date", "2026-07-01")
    assert "sent 0 for 2 subscribers: 0 had nothing new, 2 had theirs already" in again.output
    assert mailbox.count() == 1


def test_digest_send_dry_run_and_bad_options(
    dailypapers: Run, mailbox: Mailbox, feed: dict[str, str], tmp_path: Path
) -> None:
    assert dailypapers("subscriber", "add", "ada@example.org").exit_code == 0
    dry = dailypapers("digest", "send", "--date", "2026-07-01", "--dry-run", tmp_path / "eml")
    assert dry.exit_code == 0 and f"wrote 1 digests to {tmp_path / 'eml'}" in dry.output
    assert [p.name for p in (tmp_path / "eml").iterdir()] == ["daily-2026-07-01-000001.eml"]
    assert mailbox.count() == 0
    assert dailypapers("digest", "send", "--period", "monthly").exit_code == 2
    assert dailypapers("digest", "send", "--date", "July").exit_code == 2


def test_an_unreachable_smtp_server_fails_the_run_in_one_line(
    dailypapers: Run, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    assert dailypapers("subscriber", "add", "ada@example.org").exit_code == 0
    port = free_port()
    failed = dailypapers(
        "digest", "send", "--date", "2026-07-01", env={"DAILYPAPERS_SMTP_PORT": str(port)}
    )
    line = one_line_error(failed)
    assert line.startswith(f"error: cannot reach the SMTP server 127.0.0.1:{port}: ")
    assert line.endswith("0 digests sent, rerun to send the rest")
    assert listed(dailypapers)[0]["last_status"] == "pending"
    assert dailypapers("digest", "send", "--date", "2026-07-01").exit_code == 0
    assert len(mailbox.to("ada@example.org")) == 1
