"""Mail fixtures: a real SMTP server on loopback, settings that mail through it, and the
small feed of papers of tests/mail/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dailypapers.config import Settings
from dailypapers.storage import Store
from tests.mail.helpers import mail_settings_for, store_feed
from tests.smtp_server import Mailbox, running_smtp_server


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with running_smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def mail_settings(mailbox: Mailbox) -> Settings:
    return mail_settings_for(mailbox)


@pytest.fixture
def feed(store: Store) -> dict[str, str]:
    return store_feed(store)
