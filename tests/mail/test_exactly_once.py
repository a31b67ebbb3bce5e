"""`kill -9` in the middle of a digest run over 1,000 subscribers, then reruns: every
subscriber has exactly one digest in the SMTP server's mailbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from dailypapers.storage import Store
from dailypapers.storage.schema import outbox
from dailypapers.storage.subscriptions import add_subscriber, update_subscriber
from tests.mail.helpers import DAY
from tests.smtp_server import Mailbox

SUBSCRIBERS = 1_000
RUN_TIMEOUT_S = 300


def _subscribers(store: Store) -> list[str]:
    now = datetime.now(UTC)
    addresses = [f"reader{number:04d}@example.org" for number in range(SUBSCRIBERS)]
    with store.transaction() as connection:
        for address in addresses:
            subscriber_id = add_subscriber(connection, address, "daily", "UTC", now)
            update_subscriber(connection, subscriber_id, confirmed_at=now)
    return addresses


def test_a_killed_run_and_its_reruns_mail_every_subscriber_exactly_once(
    store: Store, database_url: str, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    addresses = _subscribers(store)
    command = [sys.executable, "-m", "dailypapers", "digest", "send", "--date", DAY.isoformat()]
    command += ["--db", database_url]
    env = {**os.environ, **mailbox.environment}

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, env=env, stderr=subprocess.PIPE)

    # 1. Killed by the server the moment it keeps the 300th message: the client has handed
    #    that message over and not yet read the "250", the one moment where "sent" is unclear.
    run = start()
    mailbox.on_accept = lambda kept: kept == 300 and os.kill(run.pid, signal.SIGKILL)
    assert run.wait(RUN_TIMEOUT_S) == -signal.SIGKILL
    mailbox.on_accept = None
    assert mailbox.count() == 300

    # 2. Killed from outside at whatever point it has reached once 600 messages are in.
    run = start()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while mailbox.count() < 600 and time.monotonic() < deadline:
        time.sleep(0.001)
    run.send_signal(signal.SIGKILL)
    assert run.wait(RUN_TIMEOUT_S) == -signal.SIGKILL
    assert 600 <= mailbox.count() < SUBSCRIBERS

    # 3. To the end.
    run = start()
    _, errors = run.communicate(timeout=RUN_TIMEOUT_S)
    assert run.returncode == 0, errors.decode()
    received = Counter(address for m in mailbox.received for address in m.recipients)
    assert received == Counter(addresses)  # each one exactly once
    assert mailbox.count() == SUBSCRIBERS
    with store.read() as connection:
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        statuses = {status: count for status, count in connection.execute(query)}
    assert statuses == {"sent": SUBSCRIBERS}
    rerun = subprocess.run(command, env=env, capture_output=True, timeout=RUN_TIMEOUT_S)
    assert rerun.returncode == 0 and mailbox.count() == SUBSCRIBERS
    assert b"1,000 had theirs already" in rerun.stderr
