"""Reply mails: a reply to someone's comment mails them once, through a real SMTP server,
however often the job runs and however many workers run it; never with the switch off."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.accounts import sign_up_and_log_in
from dailypapers.clock import Clock
from dailypapers.config import Settings
from dailypapers.jobs.kinds import REPLY_MAILS
from dailypapers.jobs.site import site_worker
from dailypapers.mail.replies import MAX_ATTEMPTS, send_reply_mails
from dailypapers.models import Paper
from dailypapers.storage import Store
from dailypapers.storage.schema import reply_notices
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import update_user
from dailypapers.web import create_app
from dailypapers.web.deps import SESSION_COOKIE
from tests.factories import make_paper
from tests.mail.helpers import mail_settings_for, text_and_html
from tests.smtp_server import Mailbox

PASSWORD = "a long enough password"
ADA = "ada@example.org"
MOMENT = datetime(2026, 7, 1, 9, tzinfo=UTC)


@pytest.fixture
def settings(mailbox: Mailbox, tmp_path: Path) -> Settings:
    return mail_settings_for(mailbox, clock_file=tmp_path / "clock")


@pytest.fixture
def paper(store: Store) -> Paper:
    paper = make_paper(title=r"Attention in $\mathcal{O}(n)$")
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    return paper


@pytest.fixture
def browser(store: Store, settings: Settings) -> Callable[[str], TestClient]:
    """A signed-in browser per username; ada has a confirmed address."""
    app = create_app(settings, store)

    def make(username: str) -> TestClient:
        login = sign_up_and_log_in(store, username, PASSWORD)
        if username == "ada":
            with store.transaction() as connection:
                update_user(connection, login.user.id, email=ADA, email_confirmed_at=MOMENT)
        client = TestClient(app)
        client.cookies.set(SESSION_COOKIE, login.session)
        return client

    return make


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]  # type: ignore[index]


def _comment(client: TestClient, paper_id: str, body: str, parent_id: int | None = None) -> int:
    fields = {"csrf_token": _csrf(client), "body": body} | (
        {"parent_id": str(parent_id)} if parent_id else {}
    )
    answer = client.post(f"/papers/{paper_id}/comments", data=fields, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("-", 1)[1])


def _run_job(settings: Settings, store: Store, moment: datetime) -> None:
    settings.clock_file.write_text(moment.isoformat())  # type: ignore[union-attr]
    clock = Clock(settings.clock_file)  # type: ignore[arg-type]
    site_worker(settings, store, clock, kinds=(REPLY_MAILS,)).run_until_idle()


def _notices(store: Store) -> dict[int, tuple[str, int]]:
    with store.read() as connection:
        rows = connection.execute(
            select(reply_notices.c.comment_id, reply_notices.c.status, reply_notices.c.attempts)
        )
        return {row.comment_id: (row.status, row.attempts) for row in rows}


def test_one_reply_one_mail_however_often_the_job_runs(
    store: Store, settings: Settings, mailbox: Mailbox, paper: Paper, browser: Callable
) -> None:
    ada, bob = browser("ada"), browser("bob")
    parent = _comment(ada, paper.id, "Does it scale?")
    _comment(ada, paper.id, "Answering myself", parent)  # one's own reply mails no one
    reply = _comment(bob, paper.id, "It does: see **table 3**.", parent)
    assert _notices(store) == {reply: ("pending", 0)}

    _run_job(settings, store, MOMENT)
    _run_job(settings, store, MOMENT + timedelta(minutes=3))  # its next turn: nothing left
    _run_job(settings, store, MOMENT + timedelta(hours=1))
    (mail,) = mailbox.to(ADA)
    assert mailbox.count() == 1
    assert mail["Subject"] == "bob replied to your comment on «Attention in 𝒪(n)»"
    text, html = text_and_html(mail)
    assert "It does: see **table 3**." in text
    assert f"http://testserver/papers/{paper.id}#c-{reply}" in text
    assert "http://testserver/account" in text and "To stop these mails" in text
    assert "<strong>table 3</strong>" in html and "Turn these mails off" in html
    assert _notices(store) == {reply: ("sent", 1)}


def test_two_runs_at_once_send_it_once(
    store: Store, settings: Settings, mailbox: Mailbox, paper: Paper, browser: Callable
) -> None:
    ada, bob = browser("ada"), browser("bob")
    parent = _comment(ada, paper.id, "First")
    replies = [_comment(bob, paper.id, f"Reply {n}", parent) for n in range(8)]
    runs = [
        threading.Thread(target=send_reply_mails, args=(store, settings, MOMENT)) for _ in range(3)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    quoted = [text_and_html(mail)[0].split("\n")[2] for mail in mailbox.to(ADA)]
    assert sorted(quoted) == sorted(f"Reply {n}" for n in range(8))
    assert _notices(store) == {reply: ("sent", 1) for reply in replies}


def _switch_reply_mails(client: TestClient, on: bool) -> None:
    fields = {"csrf_token": _csrf(client)} | ({"reply_mails": "on"} if on else {})
    assert client.post("/account/preferences", data=fields).status_code == 200


def test_no_mail_with_the_switch_off(
    store: Store, settings: Settings, mailbox: Mailbox, paper: Paper, browser: Callable
) -> None:
    ada, bob = browser("ada"), browser("bob")
    _switch_reply_mails(ada, on=False)
    parent = _comment(ada, paper.id, "Quiet please")
    _comment(bob, paper.id, "Sure", parent)
    assert _notices(store) == {}  # nothing to send

    # Switched off between the reply and the job: the notice is dropped, not sent.
    _switch_reply_mails(ada, on=True)
    late = _comment(bob, paper.id, "Again", parent)
    _switch_reply_mails(ada, on=False)
    report = send_reply_mails(store, settings, MOMENT)
    assert (report.sent, report.skipped) == (0, 1)
    assert _notices(store) == {late: ("failed", 1)}
    assert mailbox.count() == 0


def test_unconfirmed_readers_get_no_mail_and_failures_are_retried_then_given_up(
    store: Store, settings: Settings, mailbox: Mailbox, paper: Paper, browser: Callable
) -> None:
    carol, ada, bob = browser("carol"), browser("ada"), browser("bob")
    unconfirmed = _comment(carol, paper.id, "No address here")
    _comment(bob, paper.id, "Hi carol", unconfirmed)
    assert _notices(store) == {}

    parent = _comment(ada, paper.id, "Mail me")
    reply = _comment(bob, paper.id, "Hi ada", parent)
    mailbox.after_data[ADA] = ["451 4.3.0 try later"] * MAX_ATTEMPTS
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = send_reply_mails(store, settings, MOMENT + timedelta(minutes=attempt))
        status = "failed" if attempt == MAX_ATTEMPTS else "pending"
        assert _notices(store) == {reply: (status, attempt)}
    assert report.failed and "gave up after 3 attempts" in report.failed[0][1]
    assert send_reply_mails(store, settings, MOMENT + timedelta(hours=1)).sent == 0
    assert mailbox.count() == 0


def test_a_dead_runs_claim_is_taken_again_once_stale(
    store: Store, settings: Settings, mailbox: Mailbox, paper: Paper, browser: Callable
) -> None:
    ada, bob = browser("ada"), browser("bob")
    reply = _comment(bob, paper.id, "Hello", _comment(ada, paper.id, "Hi"))
    with store.transaction() as connection:  # a run claimed it, then died before the mail
        connection.execute(
            reply_notices.update().values(status="sending", attempts=1, updated_at=MOMENT)
        )
    assert send_reply_mails(store, settings, MOMENT + timedelta(minutes=5)).sent == 0
    assert send_reply_mails(store, settings, MOMENT + timedelta(minutes=20)).sent == 1
    assert _notices(store) == {reply: ("sent", 2)} and mailbox.count() == 1
