"""Delivery through a real SMTP server: permanent refusals recorded, transient ones retried,
an unreachable server stops the run and leaves the outbox resumable, --dry-run, headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from dailypapers.config import Settings
from dailypapers.mail.delivery import DeliveryError, send_digests
from dailypapers.mail.render import AddressSettingError, sender_address
from dailypapers.mail.subscriptions import SubscriptionError, check_query, normalise_address
from dailypapers.storage import Store
from dailypapers.storage.outbox import latest_deliveries
from dailypapers.storage.schema import outbox
from dailypapers.storage.subscriptions import add_search
from tests.live_server import free_port
from tests.mail.helpers import DAY, DAY_MOMENT, mail_settings_for, subscribe
from tests.smtp_server import Mailbox


def outbox_rows(store: Store) -> list[tuple[str, str, int, str | None]]:
    with store.read() as connection:
        query = select(outbox.c.period_key, outbox.c.status, outbox.c.attempts, outbox.c.last_error)
        return [tuple(row) for row in connection.execute(query.order_by(outbox.c.id))]


def test_a_permanent_refusal_is_recorded_and_not_retried(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "gone@example.org")
    subscribe(store, "ada@example.org")
    mailbox.refuse["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
    report = send_digests(store, mail_settings, "daily", DAY)
    assert report.sent == 1 and report.retried == 0
    assert report.failed == [
        ("gone@example.org", "RCPT TO refused: 550 5.1.1 <gone@example.org>: no such user")
    ]
    assert outbox_rows(store) == [
        (
            "daily:2026-07-01",
            "failed",
            1,
            "RCPT TO refused: 550 5.1.1 <gone@example.org>: no such user",
        ),
        ("daily:2026-07-01", "sent", 1, None),
    ]
    again = send_digests(store, mail_settings, "daily", DAY)
    assert (again.sent, again.earlier, again.failed) == (0, 2, [])
    assert [m["To"] for m in (r.message for r in mailbox.received)] == ["ada@example.org"]


def test_a_transient_refusal_is_retried_with_the_same_message_id(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org")
    mailbox.defer["ada@example.org"] = 2
    report = send_digests(store, mail_settings, "daily", DAY)
    assert (report.sent, report.retried, report.failed) == (1, 2, [])
    ((key, status, attempts, error),) = outbox_rows(store)
    assert (status, attempts, error) == ("sent", 3, None)
    (message,) = mailbox.to("ada@example.org")
    with store.read() as connection:
        (entry,) = latest_deliveries(connection).values()
    assert message["Message-ID"] == entry.message_id


def test_a_refusal_that_stays_transient_fails_after_the_retries(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org")
    mailbox.defer["ada@example.org"] = 100
    report = send_digests(store, mail_settings, "daily", DAY)
    reason = "gave up after 4 attempts: RCPT TO refused: 451 4.7.1 Greylisted, try again later"
    assert report.failed == [("ada@example.org", reason)]
    assert outbox_rows(store) == [("daily:2026-07-01", "failed", 4, reason)]


def test_refusals_at_the_end_of_data_undo_the_mark(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    """The row is marked sent before the final "." (see mail/smtp.py); a refusal of the "."
    moves it back: to pending and a retry for a 4xx, to failed for a 5xx."""
    subscribe(store, "spam@example.org")
    subscribe(store, "slow@example.org")
    mailbox.after_data["spam@example.org"] = ["554 5.7.1 Message rejected as spam"]
    mailbox.after_data["slow@example.org"] = ["451 4.3.0 Try again", "421 4.3.2 Closing"]
    report = send_digests(store, mail_settings, "daily", DAY)
    reason = "end of DATA refused: 554 5.7.1 Message rejected as spam"
    assert report.failed == [("spam@example.org", reason)]
    assert (report.sent, report.retried) == (1, 2)
    assert outbox_rows(store) == [
        ("daily:2026-07-01", "failed", 1, reason),
        ("daily:2026-07-01", "sent", 3, None),
    ]
    assert [r.recipients for r in mailbox.received] == [["slow@example.org"]]


def test_an_unreachable_server_stops_the_run_and_a_rerun_resumes(
    store: Store, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    for number in range(3):
        subscribe(store, f"reader{number}@example.org")
    nowhere = mail_settings_for(mailbox, smtp_port=free_port())
    with pytest.raises(DeliveryError) as stopped:
        send_digests(store, nowhere, "daily", DAY)
    message = str(stopped.value)
    assert "\n" not in message
    assert message.startswith(f"cannot reach the SMTP server 127.0.0.1:{nowhere.smtp_port}: ")
    assert message.endswith("0 digests sent, rerun to send the rest")
    assert [status for _, status, _, _ in outbox_rows(store)] == ["pending"] * 3
    report = send_digests(store, mail_settings_for(mailbox), "daily", DAY)
    assert report.sent == 3
    assert sorted(m["To"] for m in (r.message for r in mailbox.received)) == [
        f"reader{number}@example.org" for number in range(3)
    ]


def test_dry_run_writes_eml_files_and_records_nothing(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str], tmp_path: Path
) -> None:
    ada = subscribe(store, "ada@example.org", "cs.CL")
    report = send_digests(store, mail_settings, "daily", DAY, dry_run=tmp_path / "eml")
    assert report.written == [tmp_path / "eml" / f"daily-2026-07-01-{ada.id:06d}.eml"]
    written = report.written[0].read_bytes()
    assert b"\r\nTo: ada@example.org\r\n" in written and feed["attention"].encode() in written
    assert outbox_rows(store) == [] and mailbox.count() == 0
    assert send_digests(store, mail_settings, "daily", DAY).sent == 1


def test_unsubscribe_headers_and_a_message_id_on_every_digest(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org")
    send_digests(store, mail_settings, "daily", DAY)
    (message,) = mailbox.to("ada@example.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"]
    assert link.startswith("<http://testserver/unsubscribe/") and link.endswith(">")
    assert link[1:-1] in message.get_body(("plain",)).get_content()
    assert message["Message-ID"].endswith("@papers.example.org>")


def test_newlines_never_make_headers(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    for address in ("ada@example.org\r\nBcc: eve@example.org", "ada@example.org\nCc: x@y.org"):
        with pytest.raises(SubscriptionError):
            normalise_address(address)
    assert check_query("diffusion\r\nBcc: eve@example.org") == "diffusion Bcc: eve@example.org"
    for mail_from in ("Papers <papers@example.org>\r\nBcc: eve@example.org", "no address"):
        with pytest.raises(AddressSettingError):
            sender_address(mail_from)
    ada = subscribe(store, "ada@example.org")
    with store.transaction() as connection:  # stored before the rules collapsed whitespace
        add_search(connection, ada.id, "graphs\r\nBcc: eve@example.org", DAY_MOMENT)
    assert send_digests(store, mail_settings, "daily", DAY).sent == 1
    (received,) = mailbox.received
    assert received.recipients == ["ada@example.org"]
    assert b"\r\nBcc:" not in received.raw.split(b"\r\n\r\n")[0]
    assert received.message["Bcc"] is None and received.message["To"] == "ada@example.org"
