"""A real SMTP server on a free loopback port (aiosmtpd) that keeps every message it accepts,
and can be told to refuse (5xx) or defer (4xx) given recipients."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.live_server import free_port

_PARSER = BytesParser(policy=policy.default)


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return _PARSER.parsebytes(self.raw)  # type: ignore[return-value]


class Mailbox:
    """The aiosmtpd handler: keeps what it accepts. `refuse[address]` is a reply to RCPT TO
    for that address ("550 …"); `defer[address]` is how many times RCPT TO answers 451 first;
    `after_data[address]` lists replies to give, one per try, at the end of DATA instead of
    keeping the message (a spam filter's "554 …", a "451 …")."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.defer: dict[str, int] = {}
        self.after_data: dict[str, list[str]] = {}
        # Called with the number of messages kept, right after keeping one and before the
        # client reads the server's "250": the moment a client crash is most ambiguous.
        self.on_accept: Callable[[int], object] | None = None
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        if self.defer.get(address, 0) > 0:
            self.defer[address] -= 1
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for address in envelope.rcpt_tos:
            if self.after_data.get(address):
                return self.after_data[address].pop(0)
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
            kept = len(self.received)
        if self.on_accept is not None:
            self.on_accept(kept)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            kept = list(self.received)
        return [r.message for r in kept if address in r.recipients]

    @property
    def environment(self) -> dict[str, str]:
        """The settings that send mail here, as DAILYPAPERS_* variables."""
        return {
            "DAILYPAPERS_SMTP_HOST": self.host,
            "DAILYPAPERS_SMTP_PORT": str(self.port),
            "DAILYPAPERS_SMTP_RETRY_DELAY": "0.01",
            "DAILYPAPERS_MAIL_FROM": "Daily Papers <digest@papers.example.org>",
            "DAILYPAPERS_BASE_URL": "http://testserver",
        }


@contextmanager
def running_smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
